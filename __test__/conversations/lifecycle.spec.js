'use strict';
// run(...args), ready, exited, flush() on both sides, and parent.messages().

const { make, exitOf, endAll, failure, next, nextMessages, runFixture } = require('./harness');

jest.setTimeout(20000);
afterEach(endAll);

const range = (n) => Array.from({ length: n }, (_, i) => i);

/** `exited`'s value: `{ code, signal }`, one of them set. */
function expectExit(exit) {
  expect(Object.keys(exit).sort()).toEqual(['code', 'signal']);
  expect(exit.code !== null || exit.signal !== null).toBe(true);
}

describe('run(...args)', () => {
  test('passes its arguments to the worker and returns the proclet', async () => {
    const p = make(function (a, b) {
      this.send([a, b]);
    });
    expect(p.run(1, { x: 2 })).toBe(p);
    expect(await nextMessages(p, 1)).toEqual([[1, { x: 2 }]]);
  });

  test('the worker gets exactly the arguments given: none, or several, to an async worker too', async () => {
    const none = make(function () {
      this.send(arguments.length);
    });
    const several = make(async function (...args) {
      await null;
      this.send(args);
    });
    const got = Promise.all([nextMessages(none, 1), nextMessages(several, 1)]);
    none.run();
    several.run('a', ['b'], { c: null }, 4);
    expect(await got).toEqual([[0], [['a', ['b'], { c: null }, 4]]]);
  });
});

describe('ready', () => {
  test('resolves once the child is connected', async () => {
    const p = make(function () {});
    p.child.on('message', function (m) {
      this.send(m);
    });
    const ready = p.ready;
    expect(typeof ready.then).toBe('function');
    p.run();
    await expect(ready).resolves.toBeUndefined();
    expect(typeof p.pid).toBe('number');
    p.parent.send('after ready');
    expect(await nextMessages(p, 1)).toEqual(['after ready']);
  });

  test('stays resolved after the child exits', async () => {
    const p = make(function () {
      this.close(0);
    });
    p.run();
    await exitOf(p);
    await expect(p.ready).resolves.toBeUndefined();
  });

  test('rejects when the child exits before it is ready; exited still resolves', async () => {
    const { report, code } = await runFixture('ready-failures.js', ['exit-awaited']);
    expect(report.ready).toEqual({ error: true, code: expect.stringMatching(/^ERR_PROCLET_/), message: true, late: expect.any(Boolean) });
    expect(report.exit).toEqual({ code: 5, signal: null });
    expect(report.exitEvent).toEqual({ code: 5, signal: null, messages: [] });
    expect(report.unhandled).toEqual([]);
    expect(report.uncaught).toEqual([]);
    expect(code).toBe(0);
  });

  test('rejects with ERR_PROCLET_START_TIMEOUT when the child does not connect within startTimeout', async () => {
    const { report, code } = await runFixture('ready-failures.js', ['timeout-awaited']);
    expect(report.ready).toEqual({ error: true, code: 'ERR_PROCLET_START_TIMEOUT', message: true, late: true });
    expectExit(report.exit);
    expect(report.exitEvent.messages).toEqual([]);
    expect(report.unhandled).toEqual([]);
    expect(report.uncaught).toEqual([]);
    expect(code).toBe(0);
  });

  test.each(['exit-unawaited', 'timeout-unawaited'])('a rejected ready that nobody awaits is no unhandled rejection (%s)', async (mode) => {
    const { report, code, stderr } = await runFixture('ready-failures.js', [mode]);
    expect(report.unhandled).toEqual([]);
    expect(report.uncaught).toEqual([]);
    expectExit(report.exit);
    expect(stderr).not.toMatch(/UnhandledPromiseRejection|unhandled promise rejection/i);
    expect(code).toBe(0);
  });
});

describe('exited', () => {
  test.each([
    [
      'the worker returns',
      function () {},
      { code: 0, signal: null },
    ],
    [
      'the child closes with a code',
      function () {
        this.close(3);
      },
      { code: 3, signal: null },
    ],
    [
      'the worker throws',
      function () {
        throw new Error('worker failed');
      },
      { code: 1, signal: null },
    ],
  ])('resolves with { code, signal } after the exit event when %s', async (_, fn, exit) => {
    const p = make(fn);
    const order = [];
    p.parent.on('error', () => order.push('error'));
    p.parent.on('exit', (code, signal) => order.push(['exit event', code, signal]));
    p.run();
    const result = await p.exited;
    order.push('exited');
    expect(result).toEqual(exit);
    expect(order.filter((x) => x !== 'error')).toEqual([['exit event', exit.code, exit.signal], 'exited']);
  });

  test('resolves, not rejects, when the child is killed; the same promise every time', async () => {
    const p = make(function () {
      this.send('up');
    });
    p.child.on('message', function () {});
    const exited = p.exited;
    expect(typeof exited.then).toBe('function');
    p.run();
    await nextMessages(p, 1);
    p.kill('SIGKILL');
    await expect(exited).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    expect(p.exited).toBe(exited);
  });
});

describe('flush()', () => {
  test('parent.flush() resolves once everything sent is written: the queue is empty again and the child gets it all', async () => {
    const p = make(function () {});
    p.child.on('message', function (m) {
      if (m === 'total?') this.send(globalThis.total || 0);
      else globalThis.total = (globalThis.total || 0) + m.length;
    });
    p.run();
    const chunk = 'z'.repeat(1 << 20);
    const accepted = [];
    for (let i = 0; i < 16; i++) accepted.push(p.parent.send(chunk));
    expect(accepted).toContain(false); // past the high-water mark
    await expect(p.parent.flush()).resolves.toBeUndefined();
    expect(p.parent.send('total?')).toBe(true); // nothing waits any more
    expect(await nextMessages(p, 1)).toEqual([16 << 20]);
    await expect(p.parent.flush()).resolves.toBeUndefined(); // nothing pending: resolves too
  });

  test('parent.flush() called before run() resolves once the child runs and the queue is written', async () => {
    const p = make(function () {});
    p.child.on('message', function (m) {
      this.send(['got', m]);
      this.close(0);
    });
    p.parent.send('queued');
    let flushed = false;
    const flushing = p.parent.flush().then(() => (flushed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    p.run();
    await flushing;
    expect(await nextMessages(p, 1)).toEqual([['got', 'queued']]);
  });

  test('parent.flush() rejects with ERR_PROCLET_CHANNEL_CLOSED when the child ends before the data is written, and after it exited', async () => {
    const p = make(function () {
      // Never reads: blocks its thread for good.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    });
    p.parent.on('error', () => {});
    p.run();
    const chunk = 'q'.repeat(1 << 20);
    for (let i = 0; i < 32; i++) p.parent.send(chunk); // far more than a socket buffer holds
    const flushing = failure(() => p.parent.flush());
    p.kill('SIGKILL');
    const error = await flushing;
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('ERR_PROCLET_CHANNEL_CLOSED');
    await exitOf(p);
    const after = await failure(() => p.parent.flush());
    expect(after.code).toBe('ERR_PROCLET_CHANNEL_CLOSED');
  });

  test("this.flush() in the child resolves once everything it sent is written: nothing is lost to a process.exit() that follows", async () => {
    const p = make(function () {
      const chunk = 'c'.repeat(1 << 20);
      for (let i = 0; i < 8; i++) this.send(chunk);
      this.send('tail');
      this.flush().then(() => process.exit(0));
    });
    const got = [];
    const errors = [];
    p.parent.on('message', (m) => got.push(m.length === 1 << 20 ? 'MiB' : m));
    p.parent.on('error', (e) => errors.push(e));
    p.run();
    expect(await exitOf(p)).toEqual({ code: 0, signal: null });
    expect(got).toEqual([...Array(8).fill('MiB'), 'tail']);
    expect(errors).toEqual([]);
  });
});

describe('parent.messages()', () => {
  test("yields the child's messages in order and ends after 'exit'", async () => {
    const p = make(function () {
      for (let i = 0; i < 1000; i++) this.send(i);
      this.send({ last: true });
      this.close(0);
    });
    let exitSeen = false;
    p.parent.on('exit', () => (exitSeen = true));
    const iterator = p.parent.messages();
    p.run();
    const got = [];
    for await (const m of iterator) got.push(m);
    expect(exitSeen).toBe(true);
    expect(got).toEqual([...range(1000), { last: true }]);
  });

  test('yields only the messages that arrive after it was created', async () => {
    const p = make(function () {
      this.send('before');
    });
    p.child.on('message', function (m) {
      this.send(`echo ${m}`);
      if (m === 'bye') this.close(0);
    });
    p.run();
    expect(await nextMessages(p, 1)).toEqual(['before']);
    const iterator = p.parent.messages();
    p.parent.send('hello');
    p.parent.send('bye');
    const got = [];
    for await (const m of iterator) got.push(m);
    expect(got).toEqual(['echo hello', 'echo bye']);
  });

  test("two iterators each get every message; leaving one early (break) disturbs neither the other nor 'message' listeners", async () => {
    const p = make(function () {});
    p.child.on('message', function (m) {
      this.send(m);
      if (m === 4) this.close(0);
    });
    const listened = [];
    p.parent.on('message', (m) => listened.push(m));
    const first = p.parent.messages();
    const second = p.parent.messages();
    p.run();
    for (const i of range(5)) p.parent.send(i);
    const gotFirst = [];
    for await (const m of first) {
      gotFirst.push(m);
      if (m === 1) break;
    }
    const gotSecond = [];
    for await (const m of second) gotSecond.push(m);
    expect(gotFirst).toEqual([0, 1]);
    expect(await first.next()).toEqual({ value: undefined, done: true });
    expect(gotSecond).toEqual(range(5));
    expect(listened).toEqual(range(5));
  });

  test('created after the exit, it ends at once', async () => {
    const p = make(function () {
      this.send('gone');
    });
    p.run();
    await exitOf(p);
    const got = [];
    for await (const m of p.parent.messages()) got.push(m);
    expect(got).toEqual([]);
  }, 5000); // a hang here is the failure: report it quickly

  test('keeps memory bounded: a child flooding 200,000 messages to a consumer that takes 10 ms each grows the parent by a few MiB at most', async () => {
    const { report, code, stdout, stderr } = await runFixture('bounded-messages.js', ['200000', '300', '20000'], {
      nodeArgs: ['--max-semi-space-size=2'],
      timeoutMs: 50000,
    });
    if (report.failed) throw new Error(`${report.failed}\n${stdout}\n${stderr}`);
    expect(report.received).toBe(20300);
    expect(report.inOrder).toBe(true);
    expect(report.slowMs).toBeGreaterThanOrEqual(3000); // the slow window really was slow
    expect(report.slowGrowthMiB).toBeLessThan(16);
    expect(report.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(code).toBe(0);
  }, 60000);
});
