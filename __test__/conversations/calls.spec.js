'use strict';
// Calls both ways: p.child.expose + p.child.call/callWith (methods run in the child),
// p.parent.expose + this.call/this.callWith (methods run in the parent). Results, revived errors,
// unknown methods, timeouts, aborts, this.signal in the callee, late results, the other side ending.

const { make, exitOf, endAll, failure, next, nextMessages, runFixture } = require('./harness');

jest.setTimeout(20000);
afterEach(endAll);

/** Resolves with the arguments of the next `count` `event`s. */
function nextEvents(emitter, event, count) {
  return new Promise((resolve) => {
    const got = [];
    const listener = (...args) => {
      got.push(args);
      if (got.length === count) {
        emitter.off(event, listener);
        resolve(got);
      }
    };
    emitter.on(event, listener);
  });
}

// Child methods for the cancellation tests. They are shipped as source: they use only their
// arguments, `this` and globalThis.
const cancellable = {
  async hang(tag) {
    await null;
    await new Promise((resolve) => setImmediate(resolve));
    // Read after two awaits: still the signal of the call being served.
    const signal = this.signal;
    globalThis.signals = globalThis.signals || {};
    globalThis.signals[tag] = signal;
    this.emit('waiting', tag, signal.aborted);
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    this.emit('aborted', tag, signal.aborted);
    return 'ignored';
  },
  isAborted(tag) {
    return globalThis.signals[tag].aborted;
  },
  ping() {
    return 'pong';
  },
};

describe('methods in the child: p.child.expose + p.child.call', () => {
  test('results, arguments, awaited promises, this = the child context, 100 calls at once', async () => {
    const p = make(function () {});
    p.child.expose({
      add(a, b) {
        return a + b;
      },
      async later(x) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { x, pid: process.pid };
      },
      context() {
        return [typeof this.send, typeof this.emit, typeof this.call, this.id, this.signal instanceof AbortSignal];
      },
      shout(s) {
        this.emit('heard', s);
        return s.toUpperCase();
      },
      structured(value) {
        return { got: value, keys: Object.keys(value) };
      },
    });
    p.run();
    expect(await p.child.call('add', 2, 3)).toBe(5);
    expect(await p.child.call('later', 'x')).toEqual({ x: 'x', pid: p.pid });
    expect(await p.child.call('context')).toEqual(['function', 'function', 'function', 1, true]);
    const heard = next(p.parent, 'heard');
    expect(await p.child.call('shout', 'hi')).toBe('HI');
    expect(await heard).toEqual(['hi']);
    expect(await p.child.call('structured', { a: [1, { b: null }], s: 'h\u00e9llo' })).toEqual({
      got: { a: [1, { b: null }], s: 'h\u00e9llo' },
      keys: ['a', 's'],
    });
    const many = await Promise.all(Array.from({ length: 100 }, (_, i) => p.child.call('add', i, i)));
    expect(many).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i));
  });

  test('an undefined result arrives as undefined, both ways; null as null', async () => {
    const p = make(function () {
      this.on('go', async function () {
        const a = await this.call('nothing');
        const b = await this.call('nothingLater');
        const c = await this.call('nil');
        this.send([a === undefined, b === undefined, c === null]);
      });
    });
    p.child.expose({
      nothing() {},
      async nothingLater() {
        await null;
      },
      nil() {
        return null;
      },
    });
    p.parent.expose({
      nothing() {},
      async nothingLater() {
        await null;
      },
      nil: () => null,
    });
    p.run();
    expect(await p.child.call('nothing')).toBeUndefined();
    expect(await p.child.call('nothingLater')).toBeUndefined();
    expect(await p.child.call('nil')).toBeNull();
    p.child.emit('go');
    expect(await nextMessages(p, 1)).toEqual([[true, true, true]]);
  });

  test('a method that throws or rejects rejects the call with the error revived: class, name, message, stack, code, cause, own properties', async () => {
    const p = make(function () {});
    p.child.expose({
      failSync() {
        function deepFailure() {
          const e = new TypeError('bad width', { cause: new RangeError('width must be positive') });
          e.code = 'E_WIDTH';
          e.width = -1;
          e.details = { allowed: [1, 2] };
          throw e;
        }
        deepFailure();
      },
      async failAsync() {
        await null;
        throw new RangeError('too big');
      },
      failCustom() {
        class ResizeError extends Error {
          constructor(message) {
            super(message);
            this.name = 'ResizeError';
            this.code = 'E_RESIZE';
            this.retryable = true;
          }
        }
        throw new ResizeError('custom failure');
      },
      ok() {
        return 'still serving';
      },
    });
    const errors = [];
    p.parent.on('error', (e) => errors.push(e));
    p.run();

    const sync = await failure(() => p.child.call('failSync'));
    expect(sync).toBeInstanceOf(TypeError);
    expect(sync.name).toBe('TypeError');
    expect(sync.message).toBe('bad width');
    expect(sync.code).toBe('E_WIDTH');
    expect(sync.width).toBe(-1);
    expect(sync.details).toEqual({ allowed: [1, 2] });
    expect(sync.cause).toBeInstanceOf(RangeError);
    expect(sync.cause.message).toBe('width must be positive');
    expect(sync.stack).toMatch(/^TypeError: bad width\n\s+at /);
    expect(sync.stack).toContain('deepFailure');

    const rejected = await failure(() => p.child.call('failAsync'));
    expect(rejected).toBeInstanceOf(RangeError);
    expect(rejected.message).toBe('too big');

    const custom = await failure(() => p.child.call('failCustom'));
    expect(custom).toBeInstanceOf(Error);
    expect(custom.name).toBe('ResizeError');
    expect(custom.message).toBe('custom failure');
    expect(custom.code).toBe('E_RESIZE');
    expect(custom.retryable).toBe(true);
    expect(custom.stack).toMatch(/^ResizeError: custom failure/);

    // A failing method is the caller's business: the child lives on and 'error' stays quiet.
    expect(await p.child.call('ok')).toBe('still serving');
    expect(errors).toEqual([]);
  });

  test('an unknown method rejects with ERR_PROCLET_UNKNOWN_METHOD naming it; the child keeps serving', async () => {
    const p = make(function () {});
    p.child.expose(cancellable);
    p.run();
    const error = await failure(() => p.child.call('noSuchMethod', 1));
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('ERR_PROCLET_UNKNOWN_METHOD');
    expect(error.message).toContain('noSuchMethod');
    expect(await p.child.call('ping')).toBe('pong');
  });

  test('methods exposed inside the child with this.expose() are callable next to those from p.child.expose()', async () => {
    const p = make(function () {
      this.expose({
        inner(x) {
          return ['inner', x];
        },
      });
    });
    p.child.expose({
      outer(x) {
        return ['outer', x];
      },
    });
    p.run();
    expect(await p.child.call('inner', 1)).toEqual(['inner', 1]);
    expect(await p.child.call('outer', 2)).toEqual(['outer', 2]);
  });

  test('a method is shipped as source: one that uses a parent variable rejects with a ReferenceError naming it', async () => {
    const factorOfTheParent = 3;
    const p = make(function () {});
    p.child.expose({
      scale(x) {
        return x * factorOfTheParent;
      },
      ok() {
        return 'ok';
      },
    });
    p.run();
    const error = await failure(() => p.child.call('scale', 2));
    expect(error).toBeInstanceOf(ReferenceError);
    expect(error.message).toContain('factorOfTheParent');
    expect(await p.child.call('ok')).toBe('ok');
  });
});

describe('methods in the parent: p.parent.expose + this.call', () => {
  test("the child awaits results and promises; parent methods use the parent's own state; a child method may call the parent while it serves", async () => {
    const cache = new Map([['a', 1]]);
    const calledWith = [];
    const p = make(async function () {
      const a = await this.call('lookup', 'a');
      const b = await this.call('slowLookup', 'b');
      this.send(['worker', a, b]);
    });
    p.child.expose({
      async viaParent(key) {
        return ['child saw', await this.call('lookup', key)];
      },
    });
    p.parent.expose({
      lookup(key) {
        calledWith.push(key);
        return cache.has(key) ? cache.get(key) : null;
      },
      async slowLookup(key) {
        await new Promise((resolve) => setImmediate(resolve));
        return `slow ${key}`;
      },
    });
    p.run();
    expect(await nextMessages(p, 1)).toEqual([['worker', 1, 'slow b']]);
    cache.set('c', 3);
    expect(await p.child.call('viaParent', 'c')).toEqual(['child saw', 3]);
    expect(calledWith).toEqual(['a', 'c']);
  });

  test('a parent method that throws or rejects reaches the child revived; an unknown parent method is ERR_PROCLET_UNKNOWN_METHOD', async () => {
    const p = make(async function () {
      const describe = (e) => ({
        error: e instanceof Error,
        range: e instanceof RangeError,
        type: e instanceof TypeError,
        name: e.name,
        message: e.message,
        code: e.code,
        extra: e.extra,
        cause: e.cause ? [e.cause instanceof Error, e.cause.message] : null,
        firstLine: typeof e.stack === 'string' ? e.stack.split('\n')[0] : null,
        parentFrames: typeof e.stack === 'string' && e.stack.includes('parentFailure'),
      });
      const out = [];
      for (const call of [['lookup', 'k'], ['rejects'], ['noSuchParentMethod']]) {
        try {
          await this.call(...call);
          out.push('resolved');
        } catch (e) {
          out.push(describe(e));
        }
      }
      this.send(out);
      this.close(0);
    });
    p.parent.expose({
      lookup(key) {
        function parentFailure() {
          const e = new RangeError(`no such key: ${key}`, { cause: new Error('cache miss') });
          e.code = 'E_KEY';
          e.extra = { key };
          throw e;
        }
        parentFailure();
      },
      async rejects() {
        await null;
        throw new TypeError('async parent failure');
      },
    });
    p.run();
    const [[lookup, rejects, unknown]] = await nextMessages(p, 1);
    expect(lookup).toEqual({
      error: true,
      range: true,
      type: false,
      name: 'RangeError',
      message: 'no such key: k',
      code: 'E_KEY',
      extra: { key: 'k' },
      cause: [true, 'cache miss'],
      firstLine: 'RangeError: no such key: k',
      parentFrames: true,
    });
    expect(rejects).toMatchObject({ error: true, type: true, name: 'TypeError', message: 'async parent failure' });
    expect(unknown).toMatchObject({ error: true, code: 'ERR_PROCLET_UNKNOWN_METHOD' });
    expect(unknown.message).toContain('noSuchParentMethod');
    expect(await exitOf(p)).toEqual({ code: 0, signal: null });
  });

  test("this.callWith in the child: a timeout is ERR_PROCLET_CALL_TIMEOUT, an abort rejects with the signal's reason, a late parent result is dropped", async () => {
    const p = make(function () {
      this.on('again', async function () {
        const v = await this.callWith({ timeout: 5000 }, 'quick', 21);
        this.send(['again', v]);
        this.close(0);
      });
      (async () => {
        const report = [];
        try {
          await this.callWith({ timeout: 100 }, 'gate');
          report.push('resolved');
        } catch (e) {
          report.push([e instanceof Error, e.code]);
        }
        const controller = new AbortController();
        const reason = new Error('stop');
        const pending = this.callWith({ signal: controller.signal }, 'never');
        controller.abort(reason);
        try {
          await pending;
          report.push('resolved');
        } catch (e) {
          report.push([e === reason, e.message]);
        }
        this.send(report);
      })();
    });
    let releaseGate;
    let gateCalled;
    const gateStarted = new Promise((resolve) => (gateCalled = resolve));
    p.parent.expose({
      gate: () =>
        new Promise((release) => {
          releaseGate = release;
          gateCalled();
        }),
      never: () => new Promise(() => {}),
      quick: (x) => x * 2,
    });
    const errors = [];
    p.parent.on('error', (e) => errors.push(e));
    p.run();
    expect(await nextMessages(p, 1)).toEqual([
      [
        [true, 'ERR_PROCLET_CALL_TIMEOUT'],
        [true, 'stop'],
      ],
    ]);
    await gateStarted;
    releaseGate('late'); // its result goes out on this tick's microtasks, before 'again'
    await new Promise((resolve) => setImmediate(resolve));
    p.child.emit('again');
    expect(await nextMessages(p, 1)).toEqual([['again', 42]]);
    expect(await exitOf(p)).toEqual({ code: 0, signal: null });
    expect(errors).toEqual([]);
  });
});

// A RESULT's text form starts with the call's id in decimal (`<id>,1,<JSON>`, `<id>,1`,
// `<id>,0,<JSON>`), copied byte by byte into the child's write buffer.
describe('ids of every length', () => {
  test('100,001 calls to the child and 12,000 to the parent at the same time, ids crossing 9/10 ... 99,999/100,000: every result of every form settles its own call', async () => {
    const p = make(function () {
      this.expose({
        async callParent(count) {
          const wrong = [];
          for (let start = 0; start < count; start += 4000) {
            const calls = [];
            for (let i = start; i < Math.min(count, start + 4000); i++) {
              const call = i % 2 === 0 ? this.call('twice', i) : this.callWith({ timeout: 600000, signal: new AbortController().signal }, 'twice', i);
              calls.push(call.then((r) => r === 2 * i || wrong.push([i, r])));
            }
            await Promise.all(calls);
          }
          return wrong;
        },
      });
    });
    p.child.expose({
      answer(i) {
        switch (i % 5) {
          case 0:
            return undefined;
          case 1:
            return i;
          case 2:
            return '\u00e9' + i;
          case 3:
            throw Object.assign(new RangeError(`no ${i}`), { code: `E${i}` });
          default:
            return Buffer.from(String(i));
        }
      },
    });
    p.parent.expose({ twice: (i) => 2 * i });
    p.run();
    const fromChild = p.child.call('callParent', 12000);
    const wrong = [];
    for (let start = 1; start <= 100001; start += 5000) {
      const calls = [];
      for (let i = start; i < Math.min(100002, start + 5000); i++) {
        const call = i % 3 === 0 ? p.child.callWith({ timeout: 600000 }, 'answer', i) : p.child.call('answer', i);
        calls.push(
          call.then(
            (r) => {
              const expected = [undefined, i, '\u00e9' + i, null, Buffer.from(String(i))][i % 5];
              if (i % 5 === 3 || !(Buffer.isBuffer(expected) ? Buffer.isBuffer(r) && r.equals(expected) : r === expected)) wrong.push([i, r]);
            },
            (e) => {
              if (i % 5 !== 3 || !(e instanceof RangeError) || e.message !== `no ${i}` || e.code !== `E${i}`) wrong.push([i, e]);
            },
          ),
        );
      }
      await Promise.all(calls);
    }
    expect(wrong).toEqual([]);
    expect(await fromChild).toEqual([]);
  }, 120000);
});

describe('before and after run()', () => {
  test('a call made before run() is queued and resolves once the child runs; methods exposed after run() are callable, both ways', async () => {
    const p = make(function () {
      this.on('ask', async function (key) {
        this.send(['answer', await this.call('late', key)]);
      });
    });
    p.child.expose({
      double(x) {
        return x * 2;
      },
    });
    let settled = false;
    const early = p.child.call('double', 21);
    early.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    p.run();
    expect(await early).toBe(42);

    p.child.expose({
      triple(x) {
        return x * 3;
      },
    });
    expect(await p.child.call('triple', 3)).toBe(9);
    p.parent.expose({ late: (key) => `parent ${key}` });
    p.child.emit('ask', 'k');
    expect(await nextMessages(p, 1)).toEqual([['answer', 'parent k']]);
  });
});

describe('timeouts and aborts', () => {
  test("callWith({ timeout }) rejects with ERR_PROCLET_CALL_TIMEOUT naming the method, and the method's this.signal aborts", async () => {
    const p = make(function () {});
    p.child.expose(cancellable);
    p.run();
    await p.ready;
    const aborted = next(p.parent, 'aborted');
    const started = Date.now();
    const error = await failure(() => p.child.callWith({ timeout: 150 }, 'hang', 't'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('ERR_PROCLET_CALL_TIMEOUT');
    expect(error.message).toContain('hang');
    expect(await aborted).toEqual(['t', true]);
    expect(await p.child.call('ping')).toBe('pong');
  });

  test("callWith({ signal }): an abort rejects at once with the signal's reason and aborts that call's this.signal only", async () => {
    const p = make(function () {});
    p.child.expose(cancellable);
    p.run();
    const a = new AbortController();
    const b = new AbortController();
    const waiting = nextEvents(p.parent, 'waiting', 2);
    const callA = p.child.callWith({ signal: a.signal }, 'hang', 'a');
    const callB = p.child.callWith({ signal: b.signal }, 'hang', 'b');
    callA.catch(() => {});
    callB.catch(() => {});
    expect((await waiting).sort()).toEqual([
      ['a', false],
      ['b', false],
    ]);

    const abortedA = next(p.parent, 'aborted');
    const reason = new Error('stop');
    a.abort(reason);
    await expect(callA).rejects.toBe(reason);
    expect(await abortedA).toEqual(['a', true]);
    // The other call in flight was not touched.
    expect(await p.child.call('isAborted', 'b')).toBe(false);

    const abortedB = next(p.parent, 'aborted');
    b.abort(); // no reason: the signal's own AbortError
    const errorB = await failure(() => callB);
    expect(errorB).toBe(b.signal.reason);
    expect(errorB.name).toBe('AbortError');
    expect(await abortedB).toEqual(['b', true]);
  });

  test('an already-aborted signal rejects with its reason and the method does not run', async () => {
    const p = make(function () {});
    p.child.expose({
      count() {
        globalThis.count = (globalThis.count || 0) + 1;
        return globalThis.count;
      },
    });
    p.run();
    const controller = new AbortController();
    const reason = new RangeError('never mind');
    controller.abort(reason);
    await expect(p.child.callWith({ signal: controller.signal }, 'count')).rejects.toBe(reason);
    expect(await p.child.call('count')).toBe(1);
  });

  test('a call that finishes within its timeout and before its abort resolves normally; a later abort changes nothing', async () => {
    const p = make(function () {});
    p.child.expose(cancellable);
    p.run();
    const controller = new AbortController();
    expect(await p.child.callWith({ timeout: 5000, signal: controller.signal }, 'ping')).toBe('pong');
    expect(await p.child.callWith({}, 'ping')).toBe('pong');
    controller.abort(new Error('too late'));
    expect(await p.child.call('ping')).toBe('pong');
  });

  test('a method that ignores its signal runs on; its late result or late error is dropped, and the child keeps serving', async () => {
    const p = make(function () {});
    p.child.expose({
      async stubborn(tag) {
        this.emit('started', tag);
        await new Promise((resolve) => {
          const gates = (globalThis.gates = globalThis.gates || {});
          if (gates[tag] === 'open') resolve();
          else gates[tag] = resolve;
        });
        this.emit('finishing', tag);
        if (tag.startsWith('throws')) throw new Error(`late failure ${tag}`);
        return `late ${tag}`;
      },
      double(x) {
        return x * 2;
      },
    });
    p.child.on('release', function (tag) {
      const gates = (globalThis.gates = globalThis.gates || {});
      if (typeof gates[tag] === 'function') gates[tag]();
      else gates[tag] = 'open';
    });
    const errors = [];
    p.parent.on('error', (e) => errors.push(e));
    p.run();

    for (const tag of ['returns after timeout', 'throws after timeout']) {
      const started = next(p.parent, 'started');
      const error = await failure(() => p.child.callWith({ timeout: 100 }, 'stubborn', tag));
      expect(error.code).toBe('ERR_PROCLET_CALL_TIMEOUT');
      expect(await started).toEqual([tag]);
      const finishing = next(p.parent, 'finishing');
      p.child.emit('release', tag);
      expect(await finishing).toEqual([tag]);
      // The late result was sent before this call's: once this resolves, it has been dropped.
      expect(await p.child.call('double', 21)).toBe(42);
    }
    for (const tag of ['returns after abort', 'throws after abort']) {
      const controller = new AbortController();
      const started = next(p.parent, 'started');
      const pending = p.child.callWith({ signal: controller.signal }, 'stubborn', tag);
      pending.catch(() => {});
      expect(await started).toEqual([tag]); // the method runs before the abort
      const reason = new Error(`abort ${tag}`);
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
      const finishing = next(p.parent, 'finishing');
      p.child.emit('release', tag);
      expect(await finishing).toEqual([tag]);
      expect(await p.child.call('double', 4)).toBe(8);
    }
    expect(errors).toEqual([]);
  });

  test('no unhandled rejection or exception in the parent from timed-out, aborted, late or channel-closed calls', async () => {
    const { code, report, stderr } = await runFixture('late-results.js');
    expect(report).toEqual({
      codes: [
        'ERR_PROCLET_CALL_TIMEOUT',
        'ERR_PROCLET_CALL_TIMEOUT',
        'E_STOP',
        'resolved',
        'ERR_PROCLET_CALL_TIMEOUT',
        'resolved',
        'ERR_PROCLET_CHANNEL_CLOSED',
        'ERR_PROCLET_CHANNEL_CLOSED',
      ],
      errors: [],
      unhandled: [],
      uncaught: [],
      exit: { code: null, signal: 'SIGKILL' },
    });
    expect(stderr).not.toMatch(/Unhandled|Uncaught/i);
    expect(code).toBe(0);
  });
});

describe('the other side ends: ERR_PROCLET_CHANNEL_CLOSED, never a pending promise', () => {
  test('every call in flight rejects when the child is killed mid-call, whatever its options', async () => {
    const p = make(function () {});
    p.child.expose(cancellable);
    p.run();
    const waiting = nextEvents(p.parent, 'waiting', 3);
    const calls = [
      p.child.call('hang', 'plain'),
      p.child.callWith({ timeout: 10000 }, 'hang', 'timeout'),
      p.child.callWith({ signal: new AbortController().signal }, 'hang', 'signal'),
    ];
    const settled = Promise.allSettled(calls);
    await waiting;
    p.kill('SIGKILL');
    const results = await settled;
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect(result.reason).toBeInstanceOf(Error);
      expect(result.reason.code).toBe('ERR_PROCLET_CHANNEL_CLOSED');
    }
    expect(await exitOf(p)).toEqual({ code: null, signal: 'SIGKILL' });
  });

  test.each([
    ['this.close()', 'close', { code: 0, signal: null }],
    ['process.exit()', 'exit', { code: 3, signal: null }],
  ])('a call rejects when the method ends its own child with %s', async (_, how, exit) => {
    const p = make(function () {});
    p.child.expose({
      quit(how) {
        this.emit('quitting', how);
        if (how === 'exit') process.exit(3);
        this.close(0);
        return new Promise(() => {});
      },
    });
    const quitting = next(p.parent, 'quitting');
    p.run();
    const error = await failure(() => p.child.call('quit', how));
    expect(error.code).toBe('ERR_PROCLET_CHANNEL_CLOSED');
    expect(await quitting).toEqual([how]);
    expect(await exitOf(p)).toEqual(exit);
  });

  test('a call queued before run() rejects when the child is killed before it connects', async () => {
    const p = make(function () {});
    p.child.expose(cancellable);
    const pending = p.child.call('ping');
    pending.catch(() => {});
    p.run();
    p.kill('SIGKILL');
    const error = await failure(() => pending);
    expect(error.code).toBe('ERR_PROCLET_CHANNEL_CLOSED');
  });

  test('a call after the child exited rejects (or throws) ERR_PROCLET_CHANNEL_CLOSED', async () => {
    const p = make(function () {
      this.close(0);
    });
    p.run();
    await exitOf(p);
    for (const attempt of [() => p.child.call('anything'), () => p.child.callWith({ timeout: 1000 }, 'anything')]) {
      const error = await failure(attempt);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe('ERR_PROCLET_CHANNEL_CLOSED');
    }
  });
});
