const { Proclet } = require('proclet');

const p = new Proclet(function () {
  const timer = setInterval(() => {}, 1000); // some work that keeps the child alive
  this.on('stop', async () => {
    this.send('closing connections');
    await new Promise((resolve) => setTimeout(resolve, 100));
    clearInterval(timer);
    this.send('closed');
  });
});
p.parent.on('message', (m) => console.log('child:', m));

const stubborn = new Proclet(function () {
  this.on('stop', () => new Promise(() => {})); // never finishes
});

(async () => {
  p.run();
  await p.ready;
  console.log('stopped:', await p.stop());
  stubborn.run();
  await stubborn.ready;
  console.log('stopped:', await stubborn.stop({ timeout: 200 }));
})();
