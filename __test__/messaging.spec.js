'use strict';
// Messages both ways: order, completeness, queuing before run(), handlers, close(), exit ordering.

const { proclet, nextMessages, next, endAll } = require('./helpers');

afterEach(endAll);

test('the issue example: ready, 21 doubled, exit 0', async () => {
  const p = proclet(function () {
    this.send('ready');
  });
  p.child.on('message', function (m) {
    this.send(m * 2);
    this.close(0);
  });
  const seen = [];
  p.parent.on('message', (m) => {
    seen.push(m);
    if (m === 'ready') p.parent.send(21);
  });
  p.run();
  expect(await p.exited).toEqual({ code: 0, signal: null });
  expect(seen).toEqual(['ready', 42]);
});

test('any JSON value round-trips unchanged', async () => {
  const values = [0, -1.5, 'text', 'h\u00e9llo \u{1f600}', true, false, null, [], {}, [1, [2, [3]]], { a: { b: ['c', { d: null }] } }];
  const p = proclet(function () {});
  p.child.on('message', function (m) {
    this.send(m);
  });
  p.run();
  for (const value of values) p.parent.send(value);
  expect(await nextMessages(p, values.length)).toEqual(values);
});

test('strings arrive as the same strings both ways, whatever they contain', async () => {
  const strings = ['', 'plain', '{"looks":"like json"}', '"quoted"', 'h\u00e9llo \u{1f600}', 'lone \ud800 surrogate', 'tail \udc00', 'x'.repeat(200000)];
  const p = proclet(function () {});
  p.child.on('message', function (m) {
    this.send(m);
    this.send(typeof m);
  });
  p.run();
  for (const s of strings) p.parent.send(s);
  const got = await nextMessages(p, strings.length * 2);
  expect(got.filter((_, i) => i % 2 === 0)).toEqual(strings);
  expect(got.filter((_, i) => i % 2 === 1)).toEqual(strings.map(() => 'string'));
});

test('100,000 messages from the child arrive complete and in order', async () => {
  const count = 100000;
  const p = proclet(function () {
    for (let i = 0; i < 100000; i++) this.send(i);
    this.close(0);
  });
  const got = [];
  p.parent.on('message', (m) => got.push(m));
  p.run();
  expect(await p.exited).toEqual({ code: 0, signal: null });
  expect(got.length).toBe(count);
  expect(got.every((m, i) => m === i)).toBe(true);
});

test('100,000 messages from the parent arrive complete and in order', async () => {
  const p = proclet(function () {});
  p.child.on('message', function (m) {
    if (m === 'done') {
      this.send({ count: this.count || 0, ordered: this.ordered !== false });
      this.close(0);
      return;
    }
    if (m !== (this.count || 0)) this.ordered = false;
    this.count = (this.count || 0) + 1;
  });
  p.run();
  for (let i = 0; i < 100000; i++) p.parent.send(i);
  p.parent.send('done');
  const [summary] = await nextMessages(p, 1);
  expect(summary).toEqual({ count: 100000, ordered: true });
  expect(await p.exited).toEqual({ code: 0, signal: null });
});

test('messages sent before run() are queued and delivered, to every handler registered before run()', async () => {
  const p = proclet(function () {});
  p.parent.send('first');
  p.parent.send({ second: 2 });
  p.child.on('message', function (m) {
    this.send(['echo', m]);
  });
  p.parent.send('third');
  p.run();
  // Handlers registered before run() are installed before anything sent before run() is
  // delivered (they travel in the INIT frame), so this one sees all three, in order.
  expect(await nextMessages(p, 3)).toEqual([
    ['echo', 'first'],
    ['echo', { second: 2 }],
    ['echo', 'third'],
  ]);
});

test('a message sent before run() reaches every handler registered before run(), and a closing handler ends the child', async () => {
  const p = proclet(function () {});
  p.parent.send('a');
  p.child.on('message', function (m) {
    this.send(['h1', m]);
  });
  p.child.on('message', function (m) {
    this.send(['h2', m]);
    this.close(0);
  });
  p.run();
  expect(await nextMessages(p, 2)).toEqual([
    ['h1', 'a'],
    ['h2', 'a'],
  ]);
  expect(await p.exited).toEqual({ code: 0, signal: null });
});

test('a message that reaches the child before any handler exists waits for the first one', async () => {
  const p = proclet(function () {
    // Stay alive without handlers until one arrives and closes the child.
    setInterval(() => {}, 1000);
    this.send('up');
  });
  p.run();
  p.parent.send('early');
  const [up] = await nextMessages(p, 1);
  expect(up).toBe('up');
  p.child.on('message', function (m) {
    this.send(['got', m]);
    this.close(0);
  });
  expect(await nextMessages(p, 1)).toEqual([['got', 'early']]);
  expect(await p.exited).toEqual({ code: 0, signal: null });
});

test('handlers registered before run() see messages queued after them', async () => {
  const p = proclet(function () {});
  p.child.on('message', function (m) {
    this.send(m + 1);
  });
  p.parent.send(1);
  p.parent.send(2);
  p.run();
  expect(await nextMessages(p, 2)).toEqual([2, 3]);
});

test('handlers attached after run() take effect for later messages', async () => {
  const p = proclet(function () {
    this.send('started');
  });
  p.child.on('message', function (m) {
    this.send(`first:${m}`);
  });
  p.run();
  await nextMessages(p, 1);
  p.parent.send('a');
  expect(await nextMessages(p, 1)).toEqual(['first:a']);
  p.child.on('message', function (m) {
    this.send(`second:${m}`);
  });
  p.parent.send('b');
  expect(await nextMessages(p, 2)).toEqual(['first:b', 'second:b']);
});

test('a child with no handlers attached before run() keeps running for handlers attached later in the same tick', async () => {
  const p = proclet(function () {});
  p.run();
  p.child.on('message', function (m) {
    this.send(m.toUpperCase());
    this.close(0);
  });
  p.parent.send('late');
  expect(await nextMessages(p, 1)).toEqual(['LATE']);
  expect(await p.exited).toEqual({ code: 0, signal: null });
});

test('several handlers run in the order they were added, with this bound', async () => {
  const p = proclet(function () {});
  p.child.on('message', function (m) {
    this.send(`regular:${m}`);
  });
  p.child.on('message', (m) => this.send(`arrow:${m}`));
  p.child.on('message', { method(m) { this.send(`method:${m}`); } }.method);
  p.child.on('message', async function (m) {
    this.send(`async:${await m}`);
  });
  p.run();
  p.parent.send('x');
  expect(await nextMessages(p, 4)).toEqual(['regular:x', 'arrow:x', 'method:x', 'async:x']);
});

test('this.close() delivers every message sent before it, then exits with the code', async () => {
  const p = proclet(function () {
    for (let i = 0; i < 1000; i++) this.send(i);
    this.send('last words');
    this.close(7);
    this.send('after close is dropped');
  });
  const got = [];
  p.parent.on('message', (m) => got.push(m));
  p.run();
  expect(await p.exited).toEqual({ code: 7, signal: null });
  expect(got.length).toBe(1001);
  expect(got[1000]).toBe('last words');
});

test('a child that calls process.exit() directly still delivers what it sent', async () => {
  const p = proclet(function () {
    this.send('before exit');
    process.exit(3);
  });
  const got = [];
  p.parent.on('message', (m) => got.push(m));
  p.run();
  expect(await p.exited).toEqual({ code: 3, signal: null });
  expect(got).toEqual(['before exit']);
});

test("'exit' comes after the last message, never before", async () => {
  const p = proclet(function () {
    const big = 'x'.repeat(1 << 20);
    for (let i = 0; i < 20; i++) this.send({ i, big });
  });
  const order = [];
  p.parent.on('message', (m) => order.push(m.i));
  p.parent.on('exit', () => order.push('exit'));
  p.run();
  await p.exited;
  expect(order).toEqual([...Array.from({ length: 20 }, (_, i) => i), 'exit']);
});

test('a worker with no handlers exits by itself when its work is done', async () => {
  const p = proclet(function () {
    setTimeout(() => this.send('done'), 20);
  });
  p.run();
  expect(await nextMessages(p, 1)).toEqual(['done']);
  expect(await p.exited).toEqual({ code: 0, signal: null });
});

describe('parent.send(message)', () => {
  test.each([
    ['undefined', undefined, /message is undefined, which JSON cannot carry; use serialization: 'advanced'/],
    ['a function', () => {}, /message is a function\./],
    ['a symbol', Symbol('s'), /message is a symbol\./],
    ['a BigInt', 10n, /message is a BigInt, which JSON cannot carry/],
    ['a circular object', (() => { const o = {}; o.self = o; return o; })(), /message\.self is a circular reference/],
  ])('refuses %s with a TypeError, and the proclet stays usable', async (_, bad, message) => {
    const p = proclet(function () {});
    p.child.on('message', function (m) {
      this.send(m);
    });
    p.run();
    let error;
    try {
      p.parent.send(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_PROCLET_INVALID_MESSAGE');
    expect(error.message).toMatch(message);
    p.parent.send('fine');
    expect(await nextMessages(p, 1)).toEqual(['fine']);
  });

  test('after the child exited it fails with an error that says so', async () => {
    const p = proclet(function () {
      this.close(4);
    });
    p.run();
    await p.exited;
    let error;
    try {
      p.parent.send('anyone there?');
    } catch (e) {
      error = e;
    }
    expect(error.code).toBe('ERR_PROCLET_CHANNEL_CLOSED');
    expect(error.message).toContain(`child process ${p.pid} has exited (code 4)`);
    expect(() => p.child.on('message', () => {})).toThrow(/has exited/);
  });

  test("returns false past the high-water mark, then 'drain' follows and everything arrives", async () => {
    const p = proclet(function () {});
    p.child.on('message', function (m) {
      this.bytes = (this.bytes || 0) + m.length;
      if (this.bytes === 40 * 65536) this.send(this.bytes);
    });
    p.run();
    const chunk = 'y'.repeat(65536);
    const results = [];
    for (let i = 0; i < 40; i++) results.push(p.parent.send(chunk));
    expect(results[0]).toBe(true);
    expect(results[results.length - 1]).toBe(false);
    await next(p.parent, 'drain');
    expect(await nextMessages(p, 1)).toEqual([40 * 65536]);
  });
});

test('parent listeners: several, in order; once and off work', async () => {
  const p = proclet(function () {
    this.send(1);
    this.send(2);
  });
  const calls = [];
  const removed = () => calls.push('removed');
  p.parent.on('message', (m) => calls.push(`a${m}`));
  p.parent.once('message', (m) => calls.push(`once${m}`));
  p.parent.on('message', removed);
  p.parent.off('message', removed);
  p.parent.on('message', (m) => calls.push(`b${m}`));
  p.run();
  await p.exited;
  expect(calls).toEqual(['a1', 'once1', 'b1', 'a2', 'b2']);
});

describe('regressions', () => {
  test.each([65530, 65531, 65532, 65534, 65536, 65537])(
    'a %i-byte message followed by another arrives intact in the child',
    async (bytes) => {
      const p = proclet(function () {});
      p.child.on('message', function (m) {
        this.send(Array.isArray(m) ? m[0].length : m);
      });
      p.run();
      // ["xxx..."] is the payload: 4 bytes of brackets and quotes around the string.
      p.parent.send(['x'.repeat(bytes - 4)]);
      p.parent.send(7);
      expect(await nextMessages(p, 2)).toEqual([bytes - 4, 7]);
    },
  );

  // The child encodes a tick's frames into one reused 64 KiB buffer when they fit (else a buffer
  // of their own): the first frame of a tick is written alone, the rest together at its end.
  test.each([65524, 65525, 65526, 65530, 65531, 65532])(
    'from the child, a %i-byte message alone in its write, and after a small one in the same write, arrives intact',
    async (bytes) => {
      const p = proclet(function () {});
      p.child.on('message', function (bytes) {
        // A string travels as its own UTF-8 (a TEXT frame): its payload is `bytes` long.
        const big = 'x'.repeat(bytes);
        this.send(big);
        setImmediate(() => {
          this.send(1);
          this.send(7);
          this.send(big);
        });
      });
      p.run();
      p.parent.send(bytes);
      // Alone: 5 + bytes. After the 7 (a 6-byte frame): 11 + bytes, 65,536 for 65,525.
      const got = await nextMessages(p, 4);
      expect(got.map((m) => (typeof m === 'string' ? m === 'x'.repeat(bytes) : m))).toEqual([true, 1, 7, true]);
    },
  );

  // The child reads into one reused 256 KiB buffer and parses each read in place, up to the
  // bytes that read brought: past them lie the frames of an earlier, longer read. There, frames
  // of 32 bytes (a divisor of the buffer's size) put the stale frames where a next frame would
  // start, and messages between events (never a run, whose headers are overwritten when parsed)
  // keep their headers.
  test('a short run of messages read after a long read of messages and events: the child sees only the new frames, 20 rounds', async () => {
    const p = proclet(function () {});
    p.child.on('message', function (m) {
      if (Number(m.n) !== (this.count || 0) && this.wrong === undefined) this.wrong = m.n;
      this.count = (this.count || 0) + 1;
      if (m.a === 1) this.send({ count: this.count, wrong: this.wrong === undefined ? null : this.wrong });
    });
    p.child.on('e', function (n) {
      if (Number(n) !== (this.count || 0) && this.wrong === undefined) this.wrong = n;
      this.count = (this.count || 0) + 1;
    });
    p.run();
    let n = 0;
    // {"n":"<13 digits>","a":0} and ["e","<19 digits>"]: 27 bytes, 32-byte frames.
    const send = (a = 0) => p.parent.send({ n: String(n++).padStart(13, '0'), a });
    const emit = () => p.child.emit('e', String(n++).padStart(19, '0'));
    const acks = [];
    const expected = [];
    for (let round = 0; round < 20; round++) {
      for (let k = 0; k < 5000; k++) {
        send();
        emit();
      }
      send(1);
      expected.push({ count: n, wrong: null });
      acks.push(...(await nextMessages(p, 1)));
      for (let k = 0; k < 1 + (round % 3); k++) send();
      send(1);
      expected.push({ count: n, wrong: null });
      acks.push(...(await nextMessages(p, 1)));
    }
    expect(acks).toEqual(expected);
  });

  test('a listener replying while the child exits gets false, not an exception', async () => {
    const p = proclet(function () {
      for (let i = 0; i < 5; i++) this.send(i);
      this.close(0);
    });
    const results = [];
    p.parent.on('message', (m) => results.push(p.parent.send(`reply ${m}`)));
    p.run();
    // Keep the JS thread busy until the child has exited, so its messages and its exit arrive
    // together: every reply is sent to a channel that is already closed.
    const until = Date.now() + 300;
    while (Date.now() < until);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(results).toHaveLength(5);
    expect(() => p.parent.send('after exit')).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_CHANNEL_CLOSED' }));
  });

  test("a handler that throws, with the child's own uncaughtException listener, loses nothing else", async () => {
    const p = proclet(function () {
      process.on('uncaughtException', () => {
        this.caught = (this.caught || 0) + 1;
      });
    });
    p.child.on('message', function (m) {
      if (m === 'done') {
        // The exception surfaces on its own tick, after the batch it interrupted.
        setImmediate(() => {
          this.send({ handled: this.handled, caught: this.caught });
          this.close(0);
        });
        return;
      }
      this.handled = (this.handled || 0) + 1;
      if (m === 3) throw new Error('third');
    });
    p.run();
    for (let i = 0; i < 20000; i++) p.parent.send(i);
    p.parent.send('done');
    expect(await nextMessages(p, 1)).toEqual([{ handled: 20000, caught: 1 }]);
  });
});
