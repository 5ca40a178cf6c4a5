const { Proclet, warmup } = require('proclet');

warmup(1); // at start-up: a runtime boots in the background and waits

setTimeout(() => {
  // Later: run() adopts the booted runtime; its first message comes in a few milliseconds.
  const p = new Proclet(function (name) {
    this.send(`hello, ${name}`);
  });
  p.parent.on('message', (message) => console.log(message));
  p.parent.on('exit', (code) => console.log('exit', code));
  p.run('warm start');
}, 500);
// The spare and its replacement never keep this script alive: it ends when the child is done.
