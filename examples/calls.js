const { Proclet } = require('proclet');

const prices = new Map([['apple', 3], ['pear', 4]]); // the parent's own state

const p = new Proclet(function () {});
p.child.expose({
  // these run in the child, `this` = the child context
  async total(items) {
    let sum = 0;
    for (const item of items) sum += await this.call('price', item); // a parent method
    return sum;
  },
  async wait() {
    await new Promise((resolve) => this.signal.addEventListener('abort', resolve));
    this.emit('aborted', this.signal.reason.code);
  },
});
p.parent.expose({ price: (item) => prices.get(item) }); // runs in the parent
p.parent.on('aborted', (code) => console.log('wait saw its signal abort:', code));

(async () => {
  p.run();
  console.log('total:', await p.child.call('total', ['apple', 'pear', 'apple']));
  await p.child.call('nope').catch((e) => console.log('nope:', e.code));
  await p.child.callWith({ timeout: 100 }, 'wait').catch((e) => console.log('wait:', e.code));
  await new Promise((resolve) => p.parent.once('aborted', resolve));
  const last = p.child.call('wait');
  p.kill(); // exposed methods keep the child alive, as handlers do
  await last.catch((e) => console.log('wait:', e.code));
  console.log('exited:', await p.exited);
})();
