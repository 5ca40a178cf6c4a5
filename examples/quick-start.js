const { Proclet } = require('proclet');

const p = new Proclet(function () {
  this.send('ready');
});
p.child.on('message', function (m) {
  this.send(m * 2);
  this.close(0); // without this, the child waits for more messages, and the parent waits for it
});
p.parent.on('message', (m) => {
  if (m === 'ready') p.parent.send(21);
  else console.log(m);
});
p.parent.on('exit', (code) => console.log('child exited', code));
p.run();
