'use strict';
// One ordered stream per direction: messages, events and call requests are dispatched in the order
// they were sent, before and after run(); results come back as each method finishes.

const { make, exitOf, endAll, next, LIFECYCLE } = require('./harness');

jest.setTimeout(20000);
afterEach(endAll);

/** Child handlers and methods that record, in the child, the order things are dispatched in. */
function recordInChild(p) {
  p.child.on('a', function (x) {
    globalThis.order = globalThis.order || [];
    globalThis.order.push(['event', x]);
  });
  p.child.on('message', function (x) {
    globalThis.order = globalThis.order || [];
    globalThis.order.push(['message', x]);
  });
  p.child.expose({
    b(x) {
      globalThis.order = globalThis.order || [];
      globalThis.order.push(['call', x]);
      return x;
    },
    report() {
      return globalThis.order || [];
    },
  });
}

describe('parent to child', () => {
  test.each(['after run()', 'before run()'])('emit, call and send are dispatched in the order sent (%s)', async (when) => {
    const p = make(function () {});
    recordInChild(p);
    if (when === 'after run()') p.run();
    p.child.emit('a', 1);
    const b2 = p.child.call('b', 2);
    p.parent.send(3);
    p.parent.send(4);
    const b5 = p.child.call('b', 5);
    p.child.emit('a', 6);
    p.parent.send(7);
    const report = p.child.call('report');
    if (when === 'before run()') p.run();
    expect(await Promise.all([b2, b5])).toEqual([2, 5]);
    expect(await report).toEqual([
      ['event', 1],
      ['call', 2],
      ['message', 3],
      ['message', 4],
      ['call', 5],
      ['event', 6],
      ['message', 7],
    ]);
  });

  test('3,000 interleaved events, calls and messages arrive complete and in order', async () => {
    const p = make(function () {});
    recordInChild(p);
    p.run();
    const calls = [];
    for (let i = 0; i < 3000; i++) {
      if (i % 3 === 0) p.child.emit('a', i);
      else if (i % 3 === 1) calls.push(p.child.call('b', i));
      else p.parent.send(i);
    }
    const report = await p.child.call('report');
    await Promise.all(calls);
    expect(report.map(([, i]) => i)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(report.map(([kind]) => kind).slice(0, 3)).toEqual(['event', 'call', 'message']);
  });

  test("the child's onAny sees events and messages in stream order; call requests keep their place without appearing there", async () => {
    const p = make(function () {});
    p.child.onAny(function (event, ...args) {
      globalThis.order = globalThis.order || [];
      globalThis.order.push([event, args[0]]);
    });
    p.child.expose({
      b(x) {
        globalThis.order = globalThis.order || [];
        globalThis.order.push(['call b', x]);
      },
      report() {
        return globalThis.order || [];
      },
    });
    p.run();
    p.parent.send('m1');
    p.child.emit('e', 2);
    p.child.call('b', 3);
    p.parent.send('m4');
    p.child.emit('f', 5);
    expect(await p.child.call('report')).toEqual([
      ['message', 'm1'],
      ['e', 2],
      ['call b', 3],
      ['message', 'm4'],
      ['f', 5],
    ]);
  });
});

describe('child to parent', () => {
  test('emit, call and send from the child reach the parent in the order sent; parent onAny sees the events and messages in that order', async () => {
    const p = make(function () {
      const calls = [];
      calls.push(this.call('b', 1));
      this.emit('a', 2);
      this.send(3);
      calls.push(this.call('b', 4));
      this.send(5);
      this.emit('a', 6);
      calls.push(this.call('b', 7));
      Promise.all(calls).then((results) => {
        this.emit('results', results);
        this.close(0);
      });
    });
    const order = [];
    const any = [];
    p.parent.expose({ b: (x) => (order.push(['call', x]), x * 10) });
    p.parent.on('a', (x) => order.push(['event', x]));
    p.parent.on('message', (x) => order.push(['message', x]));
    p.parent.onAny((event, ...args) => any.push([event, ...args]));
    const results = next(p.parent, 'results');
    p.run();
    expect(await results).toEqual([[10, 40, 70]]);
    expect(await exitOf(p)).toEqual({ code: 0, signal: null });
    expect(order).toEqual([
      ['call', 1],
      ['event', 2],
      ['message', 3],
      ['call', 4],
      ['message', 5],
      ['event', 6],
      ['call', 7],
    ]);
    expect(any.filter(([event]) => !LIFECYCLE.has(event))).toEqual([
      ['a', 2],
      ['message', 3],
      ['message', 5],
      ['a', 6],
      ['results', [10, 40, 70]],
    ]);
  });

  test('3,000 interleaved events, calls and messages from the child arrive complete and in order', async () => {
    const p = make(function () {
      const calls = [];
      for (let i = 0; i < 3000; i++) {
        if (i % 3 === 0) this.emit('a', i);
        else if (i % 3 === 1) calls.push(this.call('b', i));
        else this.send(i);
      }
      Promise.all(calls).then(() => {
        this.emit('done');
        this.close(0);
      });
    });
    const order = [];
    p.parent.expose({ b: (i) => void order.push(i) });
    p.parent.on('a', (i) => order.push(i));
    p.parent.on('message', (i) => order.push(i));
    const done = next(p.parent, 'done');
    p.run();
    await done;
    expect(order).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(await exitOf(p)).toEqual({ code: 0, signal: null });
  });
});

// The child's writer keeps its queue arrays from one write to the next (made anew after a burst
// of more than 1,024 frames): a write must send the frames queued since the last one, and only
// those, whatever the bursts before it left in the arrays.
test('from the child, bursts of 1,000 / 1,500 / 700 frames of every kind in one tick, each followed by ticks of a few or one frame: every frame arrives once, unaltered, in order', async () => {
  const BURSTS = [1000, 3, 1, 1500, 2, 1, 1200, 5, 700, 1, 1];
  const p = make(function (bursts) {
    let i = 0;
    const one = () => {
      const n = i++;
      if (n % 4 === 0) this.send('t' + n + '\u00e9'.repeat(n % 13));
      else if (n % 4 === 1) this.send({ n, s: 'j'.repeat(n % 50) });
      else if (n % 4 === 2) this.send({ n, b: Buffer.from([n & 255, (n >> 8) & 255]) });
      else this.emit('e', n, [n, null]);
    };
    const tick = () => {
      const size = bursts.shift();
      for (let k = 0; k < size; k++) one();
      if (bursts.length > 0) setImmediate(tick);
      else this.close(0);
    };
    tick();
  });
  const seen = [];
  p.parent.onAny((event, ...args) => {
    if (!LIFECYCLE.has(event)) seen.push([event, ...args]);
  });
  p.run(BURSTS);
  expect(await exitOf(p)).toEqual({ code: 0, signal: null });
  const total = BURSTS.reduce((a, b) => a + b, 0);
  const expected = Array.from({ length: total }, (_, n) => {
    if (n % 4 === 0) return ['message', 't' + n + '\u00e9'.repeat(n % 13)];
    if (n % 4 === 1) return ['message', { n, s: 'j'.repeat(n % 50) }];
    if (n % 4 === 2) return ['message', { n, b: Buffer.from([n & 255, (n >> 8) & 255]) }];
    return ['e', n, [n, null]];
  });
  expect(seen.length).toBe(total);
  expect(seen).toEqual(expected);
});

test('results come back as each method finishes, not in the order the calls were made', async () => {
  const p = make(function () {});
  p.child.expose({
    async slow() {
      await new Promise((resolve) => {
        if (globalThis.released) resolve();
        else globalThis.release = resolve;
      });
      return 'slow';
    },
    fast() {
      return 'fast';
    },
  });
  p.child.on('release', function () {
    globalThis.released = true;
    if (globalThis.release) globalThis.release();
  });
  p.run();
  const settled = [];
  const slow = p.child.call('slow').then((v) => settled.push(v));
  const fast = await p.child.call('fast');
  settled.push(fast);
  expect(settled).toEqual(['fast']);
  p.child.emit('release');
  await slow;
  expect(settled).toEqual(['fast', 'slow']);
});
