'use strict';
// Named events both ways: any number of arguments, the sender id in child handlers, onAny on both
// sides, reserved names, wildcards (both sides, custom delimiter), handlers registered inside the
// child, handlers shipped as source.

const { make, exitOf, endAll, thrown, messagesUntil, next, nextMessages, LIFECYCLE } = require('./harness');

jest.setTimeout(20000);
afterEach(endAll);

test("the issue's example, end to end", async () => {
  const cache = new Map([['quality', 80]]); // the parent's own state: parent methods may use it
  const p = make(function (config) {
    this.expose({
      async resize(img, w) {
        const quality = await this.call('lookup', 'quality');
        return { w, bytes: img.length, quality, aborted: this.signal.aborted };
      },
    });
    this.emit('progress', 0, config.name);
  });
  p.child.on('tune', function (level, from) {
    this.emit('tuned', level, from);
  });
  p.child.on('finish', function () {
    this.send('last words');
    this.close(0);
  });
  expect(p.parent.expose({ lookup: (key) => cache.get(key) })).toBe(p.parent);
  const progress = [];
  p.parent.on('progress', (...args) => progress.push(args));
  const tuned = next(p.parent, 'tuned');

  expect(p.run({ name: 'thumbs' })).toBe(p);
  await p.ready;
  p.child.emit('tune', 3);
  const out = await p.child.callWith({ timeout: 2000 }, 'resize', 'abcdef', 640);
  expect(out).toEqual({ w: 640, bytes: 6, quality: 80, aborted: false });
  expect(await tuned).toEqual([3, 0]);
  expect(progress).toEqual([[0, 'thumbs']]);

  const seen = [];
  const loop = (async () => {
    for await (const m of p.parent.messages()) seen.push(m);
  })();
  p.child.emit('finish');
  await loop;
  expect(seen).toEqual(['last words']);
  expect(await p.exited).toEqual({ code: 0, signal: null });
});

test('child to parent: events with no, one and many arguments reach the listeners with exactly those arguments', async () => {
  const p = make(function () {
    this.emit('none');
    this.emit('one', 'single');
    this.emit('many', 1, 'two', { three: [3] }, [4, [5]], null, true, -6.5, '');
    this.emit('one', 2);
  });
  const got = [];
  p.parent.on('none', (...args) => got.push(['none', args]));
  p.parent.on('one', (...args) => got.push(['one', args]));
  p.parent.on('many', (...args) => got.push(['many', args]));
  p.run();
  expect(await exitOf(p)).toEqual({ code: 0, signal: null });
  expect(got).toEqual([
    ['none', []],
    ['one', ['single']],
    ['many', [1, 'two', { three: [3] }, [4, [5]], null, true, -6.5, '']],
    ['one', [2]],
  ]);
});

test("parent to child: handlers run in the child with the event's arguments, then the sender id 0", async () => {
  const p = make(function () {});
  p.child.on('none', function (...args) {
    this.send(['none', args, typeof process.pid]);
  });
  p.child.on('one', function (...args) {
    this.send(['one', args]);
  });
  p.child.on('tune', function (level, from) {
    this.send(['tune', level, from]);
  });
  p.child.on('many', function (...args) {
    this.send(['many', args]);
    this.close(0);
  });
  p.run();
  p.child.emit('none');
  p.child.emit('one', { nested: { deep: ['x'] } });
  p.child.emit('tune', 3);
  p.child.emit('many', 1, 'two', { three: [3] }, [4], null, false);
  expect(await nextMessages(p, 4)).toEqual([
    ['none', [0], 'number'],
    ['one', [{ nested: { deep: ['x'] } }, 0]],
    ['tune', 3, 0],
    ['many', [1, 'two', { three: [3] }, [4], null, false, 0]],
  ]);
  expect(await exitOf(p)).toEqual({ code: 0, signal: null });
});

test('several child handlers of one event run in registration order; parent once/off work for named events', async () => {
  const p = make(function () {});
  p.child.on('ping', function (n) {
    this.emit('pong', `first ${n}`);
  });
  p.child.on('ping', (n) => this.emit('pong', `arrow ${n}`));
  p.child.on('ping', { method(n) { this.emit('pong', `method ${n}`); } }.method);
  p.child.on('done', function () {
    this.emit('end');
  });
  const seen = [];
  const removed = (x) => seen.push(`removed ${x}`);
  p.parent.on('pong', (x) => seen.push(`on ${x}`));
  p.parent.once('pong', (x) => seen.push(`once ${x}`));
  p.parent.on('pong', removed);
  p.parent.off('pong', removed);
  const ended = next(p.parent, 'end');
  p.run();
  p.child.emit('ping', 1);
  p.child.emit('ping', 2);
  p.child.emit('done');
  await ended;
  expect(seen).toEqual(['on first 1', 'once first 1', 'on arrow 1', 'on method 1', 'on first 2', 'on arrow 2', 'on method 2']);
});

test("p.child.onAny runs in the child for every event and message, in order, messages as 'message'", async () => {
  const p = make(function () {});
  p.child.onAny(function (event, ...args) {
    if (event === 'end') {
      this.send('end');
      return;
    }
    this.send([event, args[0], typeof this.send]);
  });
  p.child.on('tune', function () {}); // a specific handler does not hide the event from onAny
  p.run();
  p.child.emit('tune', 3);
  p.parent.send('hello');
  p.child.emit('other', { a: 1 });
  p.parent.send(['list']);
  p.child.emit('end');
  expect(await messagesUntil(p, 'end')).toEqual([
    ['tune', 3, 'function'],
    ['message', 'hello', 'function'],
    ['other', { a: 1 }, 'function'],
    ['message', ['list'], 'function'],
  ]);
});

test("p.parent.onAny sees every event and message from the child in order, messages as 'message'; offAny stops a listener", async () => {
  const p = make(function () {
    this.send('m1');
    this.emit('e', 1, 2);
    this.send({ x: 1 });
    this.emit('f');
    this.emit('g', [null]);
  });
  const all = [];
  const dropped = [];
  const dropMe = (event, ...args) => dropped.push([event, ...args]);
  p.parent.onAny((event, ...args) => all.push([event, ...args]));
  p.parent.onAny(dropMe);
  expect(p.parent.offAny(dropMe)).toBe(p.parent);
  p.run();
  expect(await exitOf(p)).toEqual({ code: 0, signal: null });
  expect(all.filter(([event]) => !LIFECYCLE.has(event))).toEqual([
    ['message', 'm1'],
    ['e', 1, 2],
    ['message', { x: 1 }],
    ['f'],
    ['g', [null]],
  ]);
  expect(dropped).toEqual([]);
});

test('this.on, this.off and this.onAny register handlers from inside the child', async () => {
  const p = make(function () {
    const once = function (n, from) {
      this.send(['once-ish', n, from]);
      this.off('ping', once);
    };
    this.on('ping', function (n, from) {
      this.send(['ping', n, from]);
    });
    this.on('ping', once);
    this.onAny(function (event, ...args) {
      this.send(['any', event, args[0]]);
    });
    this.on('end', function () {
      this.send('end');
    });
    this.send('up');
  });
  p.run();
  expect(await nextMessages(p, 1)).toEqual(['up']);
  p.child.emit('ping', 1);
  p.child.emit('ping', 2);
  p.child.emit('end', 'bye');
  const got = await messagesUntil(p, 'end');
  expect(got.filter((m) => m[0] !== 'any')).toEqual([
    ['ping', 1, 0],
    ['once-ish', 1, 0],
    ['ping', 2, 0],
  ]);
  // onAny may run before or after the 'end' handler for the last event: look at the pings.
  expect(got.filter((m) => m[0] === 'any' && m[1] === 'ping')).toEqual([
    ['any', 'ping', 1],
    ['any', 'ping', 2],
  ]);
});

test('events emitted before run() reach handlers the worker registers with this.on()', async () => {
  const p = make(function () {
    this.on('early', function (x, from) {
      this.send(['early', x, from]);
      if (x === 2) this.close(0);
    });
  });
  p.child.emit('early', 1);
  p.child.emit('early', 2);
  p.run();
  expect(await nextMessages(p, 2)).toEqual([
    ['early', 1, 0],
    ['early', 2, 0],
  ]);
  expect(await exitOf(p)).toEqual({ code: 0, signal: null });
});

describe('reserved names', () => {
  const RESERVED_FROM_CHILD = ['message', 'error', 'exit', 'drain', 'spawn', 'restart', 'stdout', 'stderr'];

  test("the child cannot emit the parent's own event names: TypeError ERR_PROCLET_RESERVED_EVENT, and nothing reaches the parent", async () => {
    const p = make(function (names) {
      const report = names.map((name) => {
        try {
          this.emit(name, 'forged');
          return [name, 'not refused'];
        } catch (e) {
          return [name, e instanceof TypeError, e.code];
        }
      });
      this.send(report);
      this.emit('allowed', 'still works');
    });
    const forged = [];
    for (const name of RESERVED_FROM_CHILD) p.parent.on(name, (...args) => args.includes('forged') && forged.push(name));
    const allowed = next(p.parent, 'allowed');
    const messages = [];
    p.parent.on('message', (m) => messages.push(m));
    p.run(RESERVED_FROM_CHILD);
    expect(await allowed).toEqual(['still works']);
    expect(await exitOf(p)).toEqual({ code: 0, signal: null });
    expect(messages).toEqual([RESERVED_FROM_CHILD.map((name) => [name, true, 'ERR_PROCLET_RESERVED_EVENT'])]);
    expect(forged).toEqual([]);
  });

  test("the parent cannot emit 'message' or 'stop' into the child: a synchronous TypeError, before and after run(), and nothing arrives", async () => {
    const p = make(function () {});
    p.child.on('message', function (m) {
      this.send(['message handler', m]);
    });
    p.child.on('stop', function (...args) {
      this.send(['stop handler', ...args]);
    });
    const refused = [];
    for (const name of ['message', 'stop']) refused.push(thrown(() => p.child.emit(name, 'forged')));
    p.run();
    await p.ready;
    for (const name of ['message', 'stop']) refused.push(thrown(() => p.child.emit(name, 'forged')));
    for (const error of refused) {
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe('ERR_PROCLET_RESERVED_EVENT');
    }
    p.parent.send('real');
    expect(await nextMessages(p, 1)).toEqual([['message handler', 'real']]);
  });
});

describe('wildcards', () => {
  const NAMES = ['job.done', 'job.a.b', 'other.done', 'jobs.done', 'job.failed', 'a.b.done'];

  test("parent listeners: 'job.*' is one segment, 'job.**' any number, '*.done' a first segment", async () => {
    const p = make(
      function (names) {
        for (const name of names) this.emit(name, name);
        this.emit('end');
      },
      { wildcard: true },
    );
    const got = { 'job.*': [], 'job.**': [], '*.done': [], 'job.done': [] };
    for (const pattern of Object.keys(got)) p.parent.on(pattern, (name) => got[pattern].push(name));
    const ended = next(p.parent, 'end');
    p.run(NAMES);
    await ended;
    expect(got).toEqual({
      'job.*': ['job.done', 'job.failed'],
      'job.**': ['job.done', 'job.a.b', 'job.failed'],
      '*.done': ['job.done', 'other.done', 'jobs.done'],
      'job.done': ['job.done'],
    });
  });

  test('child handlers match the same patterns, with the sender id after the arguments', async () => {
    const p = make(function () {}, { wildcard: true });
    // A handler cannot close over a loop variable (it runs in the child): one handler per pattern.
    p.child.on('job.*', function (name, from) {
      this.send(['job.*', name, from]);
    });
    p.child.on('job.**', function (name, from) {
      this.send(['job.**', name, from]);
    });
    p.child.on('*.done', function (name, from) {
      this.send(['*.done', name, from]);
    });
    p.child.on('end', function () {
      this.send('end');
    });
    p.run();
    for (const name of NAMES) p.child.emit(name, name);
    p.child.emit('end');
    const got = await messagesUntil(p, 'end');
    const by = (pattern) => got.filter((m) => m[0] === pattern).map((m) => m[1]);
    expect(by('job.*')).toEqual(['job.done', 'job.failed']);
    expect(by('job.**')).toEqual(['job.done', 'job.a.b', 'job.failed']);
    expect(by('*.done')).toEqual(['job.done', 'other.done', 'jobs.done']);
    expect(got.every((m) => m[2] === 0)).toBe(true);
    expect(got).toHaveLength(8);
  });

  test("a custom delimiter (':') on both sides, for handlers registered with p.child.on and this.on", async () => {
    const p = make(
      function () {
        this.on('job:*', function (name) {
          this.send(['job:*', name]);
        });
        this.on('end', function () {
          this.emit('job:done', 'job:done');
          this.emit('job:a:b', 'job:a:b');
          this.emit('job.done', 'job.done');
          this.emit('finished');
        });
        this.send('up');
      },
      { wildcard: true, delimiter: ':' },
    );
    p.child.on('job:**', function (name) {
      this.send(['job:**', name]);
    });
    p.child.on('job.*', function (name) {
      this.send(['job.*', name]);
    });
    const parentGot = { 'job:*': [], 'job:**': [], 'job.*': [], 'job.done': [] };
    for (const pattern of Object.keys(parentGot)) p.parent.on(pattern, (name) => parentGot[pattern].push(name));
    const finished = next(p.parent, 'finished');
    p.run();
    expect(await nextMessages(p, 1)).toEqual(['up']);
    for (const name of ['job:done', 'job:a:b', 'job.done']) p.child.emit(name, name);
    const collected = nextMessages(p, 3);
    p.child.emit('end');
    const childGot = await collected;
    await finished;
    expect(childGot.filter((m) => m[0] === 'job:*').map((m) => m[1])).toEqual(['job:done']);
    expect(childGot.filter((m) => m[0] === 'job:**').map((m) => m[1])).toEqual(['job:done', 'job:a:b']);
    expect(childGot.filter((m) => m[0] === 'job.*')).toEqual([]);
    expect(parentGot).toEqual({
      'job:*': ['job:done'],
      'job:**': ['job:done', 'job:a:b'],
      'job.*': [],
      'job.done': ['job.done'],
    });
  });

  test('without wildcard: true, a pattern is just a name on both sides', async () => {
    const p = make(function () {
      this.emit('job.done', 'job.done');
      this.emit('job.*', 'job.*');
      this.emit('end');
    });
    p.child.on('job.*', function (name) {
      this.send(['job.*', name]);
    });
    p.child.on('job.done', function (name) {
      this.send(['job.done', name]);
    });
    p.child.on('stop-now', function () {
      this.send('done');
    });
    const got = { 'job.*': [], 'job.done': [] };
    for (const name of Object.keys(got)) p.parent.on(name, (x) => got[name].push(x));
    const ended = next(p.parent, 'end');
    p.run();
    p.child.emit('job.done', 'job.done');
    p.child.emit('stop-now');
    expect(await messagesUntil(p, 'done')).toEqual([['job.done', 'job.done']]);
    await ended;
    expect(got).toEqual({ 'job.*': ['job.*'], 'job.done': ['job.done'] });
  });
});

test('a child handler is shipped as source: one that uses a parent variable fails in the child with ERR_PROCLET_CLOSURE', async () => {
  const secretOfTheParent = 'parent only';
  const p = make(function () {});
  p.child.on('reveal', function () {
    this.send(secretOfTheParent);
  });
  const errored = next(p.parent, 'error');
  p.run();
  p.child.emit('reveal');
  const [error] = await errored;
  expect(error).toBeInstanceOf(ReferenceError);
  expect(error.code).toBe('ERR_PROCLET_CLOSURE');
  expect(error.message).toContain('secretOfTheParent');
  expect((await exitOf(p)).code).toBe(1);
});

describe('fixes found by review', () => {
  const { Proclet } = require('proclet');
  const { track } = require('../helpers');

  test("with wildcard, a '*' pattern and no 'error' listener, a child's error reaches the pattern and the parent lives", async () => {
    const p = track(new Proclet(function () {
      throw new Error('from the child');
    }, { wildcard: true }));
    const seen = [];
    p.parent.on('*', (value) => seen.push(value instanceof Error ? value.message : value));
    p.run();
    await p.exited;
    expect(seen).toContain('from the child');
  });

  test('off() removes a pattern listener added with once()', async () => {
    const p = track(new Proclet(function () {
      this.emit('job.done', 1);
      this.emit('job.done', 2);
      this.close(0);
    }, { wildcard: true }));
    const got = [];
    const listener = (n) => got.push(n);
    p.parent.once('job.*', listener);
    p.parent.off('job.*', listener);
    const all = [];
    p.parent.on('job.*', (n) => all.push(n));
    p.run();
    await p.exited;
    expect(got).toEqual([]);
    expect(all).toEqual([1, 2]);
  });

  test('event and call arguments that are functions or symbols are refused, not turned into null', async () => {
    const p = track(new Proclet(function () {
      let code;
      try {
        this.emit('e', () => 1);
      } catch (e) {
        code = e.code;
      }
      this.send(code);
      this.close(0);
    }));
    const messages = [];
    p.parent.on('message', (m) => messages.push(m));
    expect(() => p.child.emit('e', Symbol('s'))).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_INVALID_MESSAGE' }));
    expect(() => p.child.call('m', () => 1)).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_INVALID_MESSAGE' }));
    expect(() => p.run(() => 1)).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_INVALID_MESSAGE' }));
    p.run();
    await p.exited;
    expect(messages).toEqual(['ERR_PROCLET_INVALID_MESSAGE']);
  });
});
