const { Proclet } = require('proclet');

const p = new Proclet(function (count) {
  for (let i = 1; i <= count; i++) this.send(i * i);
});
p.child.on('message', function () {
  this.close(0);
});

(async () => {
  const squares = p.parent.messages(); // the child's messages from now on; ends after 'exit'
  p.run(3);
  await p.ready;
  console.log('ready');
  try {
    p.run();
  } catch (e) {
    console.log(e.code);
  }
  for await (const n of squares) {
    console.log(n);
    if (n === 9) {
      p.parent.send('done');
      await p.parent.flush();
      console.log('flushed');
    }
  }
  console.log('exited:', await p.exited);

  const q = new Proclet(function () {});
  q.run();
  q.kill('SIGKILL'); // before its runtime connected
  await q.ready.catch((e) => console.log('ready:', e.code));
  console.log('exited:', await q.exited);
})();
