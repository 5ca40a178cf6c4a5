const { Proclet } = require('proclet');

const p = new Proclet(
  function () {
    this.send('up');
  },
  { restart: 'on-failure', restartDelay: 50, minUptime: 60000, maxRestarts: 3 },
);
p.child.on('fail', function () {
  this.close(1);
});
let ups = 0;
p.parent.on('message', (m) => {
  console.log('child:', m);
  if (++ups < 3) p.child.emit('fail'); // the first two children fail
  else p.stop();
});
p.parent.on('restart', ({ code, restarts, delay }) => console.log(`restart #${restarts} after code ${code}, in ${delay} ms`));
p.parent.on('exit', (code, signal) => console.log('exit', code, signal));
p.run();
