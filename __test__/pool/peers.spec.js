'use strict';
// Peers: this.id, this.to(id | 'all') between the workers of a pool (routed by the parent's
// addon, not its JS), the sender's id after the handler's arguments, order, and bad targets.

const { ProcletPool, Proclet } = require('proclet');
const { track } = require('../helpers');

const pools = new Set();
function pool(fn, options) {
  const p = new ProcletPool(fn, options);
  pools.add(p);
  return p;
}

// Workers are restarted on failure: stop() ends supervision (SIGKILL after 2 s at most).
afterEach(async () => {
  await Promise.all([...pools].map((p) => p.stop({ timeout: 2000 })));
  pools.clear();
});

/** Resolves with the next `count` messages of the pool as `[message, workerId]`. */
function collect(p, count, filter = () => true) {
  return new Promise((resolve) => {
    const got = [];
    const listener = (message, id) => {
      if (!filter(message)) return;
      got.push([message, id]);
      if (got.length === count) {
        p.parent.off('message', listener);
        resolve(got);
      }
    };
    p.parent.on('message', listener);
  });
}

test('each worker has its id; to(id).send reaches that worker with the sender id after the message', async () => {
  const p = pool(
    function () {
      this.on('message', function (message, from) {
        if (from !== 0) this.send({ got: message, from, me: this.id });
      });
      this.on('go', function () {
        this.to((this.id % 3) + 1).send(`hello from ${this.id}`);
      });
    },
    { size: 3 },
  );
  const got = collect(p, 3);
  p.run();
  p.to('all').emit('go');
  const messages = (await got).map(([m, id]) => [id, m]).sort();
  expect(messages).toEqual([
    [1, { got: 'hello from 3', from: 3, me: 1 }],
    [2, { got: 'hello from 1', from: 1, me: 2 }],
    [3, { got: 'hello from 2', from: 2, me: 3 }],
  ]);
});

test("to('all').emit reaches every worker, the sender included, with the sender's id", async () => {
  const p = pool(
    function () {
      this.on('shard', function (key, value, from) {
        this.send([this.id, key, value, from]);
      });
      if (this.id === 2) this.to('all').emit('shard', 'k', { v: [1, 2] });
    },
    { size: 4 },
  );
  const got = collect(p, 4);
  p.run();
  expect((await got).map(([m]) => m).sort()).toEqual([
    [1, 'k', { v: [1, 2] }, 2],
    [2, 'k', { v: [1, 2] }, 2],
    [3, 'k', { v: [1, 2] }, 2],
    [4, 'k', { v: [1, 2] }, 2],
  ]);
});

test('binary values and the advanced serialization travel between peers too', async () => {
  const p = pool(
    function () {
      this.on('message', function (message, from) {
        if (from === 0) return;
        this.send({
          from,
          buffer: Buffer.isBuffer(message.buffer) && message.buffer.toString(),
          map: message.map instanceof Map && [...message.map],
          big: typeof message.big === 'bigint' && String(message.big),
        });
      });
      this.on('blob', function (bytes, from) {
        this.send({ from, bytes: bytes instanceof Uint8Array && [...bytes] });
      });
      if (this.id === 1) {
        this.to(2).send({ buffer: Buffer.from('héllo'), map: new Map([['k', 1]]), big: 2n ** 70n });
        this.to(2).emit('blob', new Uint8Array([1, 2, 3]));
      }
    },
    { size: 2, serialization: 'advanced' },
  );
  const got = collect(p, 2);
  p.run();
  expect((await got).map(([m]) => m)).toEqual([
    { from: 1, buffer: 'héllo', map: [['k', 1]], big: String(2n ** 70n) },
    { from: 1, bytes: [1, 2, 3] },
  ]);
});

test('peer messages arrive complete and in order, interleaved with the parent’s own', async () => {
  const count = 20000;
  const p = pool(
    function (count) {
      if (this.id === 1) {
        for (let i = 0; i < count; i++) {
          if (i % 2) this.to(2).send({ i, pad: 'x'.repeat(i % 50) });
          else this.to(2).emit('n', i, 'é😀');
        }
        this.to(2).send('end');
        return;
      }
      let next = 0;
      let fromParent = 0;
      let wrong = null;
      const check = (i, from) => {
        if (from !== 1 || i !== next) wrong = wrong || { i, from, next };
        next++;
      };
      this.on('n', (i, text, from) => check(text === 'é😀' ? i : -1, from));
      this.on('message', function (message, from) {
        if (from === 0) fromParent++;
        else if (message === 'end') this.send({ next, wrong, fromParent });
        else check(message.pad.length === message.i % 50 ? message.i : -1, from);
      });
    },
    { size: 2 },
  );
  const got = collect(p, 1, (m) => typeof m === 'object' && 'next' in m);
  p.run(count);
  for (let i = 0; i < 100; i++) p.to(2).send(i);
  const [[result, id]] = await got;
  expect(id).toBe(2);
  expect(result).toEqual({ next: count, wrong: null, fromParent: 100 });
});

test('a receiver that does not keep up slows its sender down: the parent does not buffer the flood', async () => {
  const count = 100000; // 100 MiB of 1 KiB messages
  const p = pool(
    function (count) {
      if (this.id === 1) {
        const peer = this.to(2);
        const pad = 'x'.repeat(1000);
        let i = 0;
        const next = () => {
          while (i < count) if (!peer.send({ i: i++, pad })) return setImmediate(next);
          peer.send('end');
        };
        next();
        return;
      }
      let expected = 0;
      let blocked = false;
      this.on('message', function (message, from) {
        if (from !== 1) return;
        // Slow at first: the sender must wait, not the parent's memory fill up.
        if (!blocked) {
          blocked = true;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
        }
        if (message === 'end') this.send({ expected });
        else if (message.i === expected) expected++;
      });
    },
    { size: 2 },
  );
  const before = process.resourceUsage().maxRSS;
  const got = collect(p, 1);
  p.run(count);
  const [[result]] = await got;
  expect(result).toEqual({ expected: count });
  const grownMiB = (process.resourceUsage().maxRSS - before) / 1024;
  expect(grownMiB).toBeLessThan(48);
});

test('a bad target throws ERR_PROCLET_INVALID_PEER in the child; reserved names are refused', async () => {
  const p = pool(
    function () {
      const errors = [];
      for (const target of [0, 3, 1.5, '1', 'everyone', undefined]) {
        try {
          this.to(target);
          errors.push('no error');
        } catch (error) {
          errors.push([error.name, error.code]);
        }
      }
      try {
        this.to(2).emit('stop');
      } catch (error) {
        errors.push(error.code);
      }
      try {
        this.to(2).send(() => 1);
      } catch (error) {
        errors.push(error.code);
      }
      if (this.id === 1) this.send(errors);
    },
    { size: 2 },
  );
  const got = collect(p, 1);
  p.run();
  const [[errors]] = await got;
  expect(errors).toEqual([
    ...Array(6).fill(['TypeError', 'ERR_PROCLET_INVALID_PEER']),
    'ERR_PROCLET_RESERVED_EVENT',
    'ERR_PROCLET_INVALID_MESSAGE',
  ]);
  expect(() => p.to(3)).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_INVALID_PEER' }));
});

test('a lone Proclet is worker 1 of 1: it can message itself', async () => {
  const p = track(
    new Proclet(function () {
      this.on('ping', function (n, from) {
        this.send([this.id, n, from]);
        if (n < 2) this.to(1).emit('ping', n + 1);
        else this.to('all').send('done');
      });
      this.on('message', function (m, from) {
        this.send([m, from]);
        this.close();
      });
    }),
  );
  const got = [];
  p.parent.on('message', (m) => got.push(m));
  p.run();
  p.child.emit('ping', 0);
  await p.exited;
  expect(got).toEqual([[1, 0, 0], [1, 1, 1], [1, 2, 1], ['done', 1]]);
});

test('a child that writes a peer frame naming no worker breaks the protocol and is killed', async () => {
  const p = pool(
    function () {
      // What this.to(9) would write if it did not check: TO "9", then a message.
      const frame = (kind, text) => {
        const body = Buffer.from(text);
        const header = Buffer.alloc(5);
        header.writeUInt32BE(body.length, 0);
        header[4] = kind;
        return Buffer.concat([header, body]);
      };
      require('fs').writeSync(3, Buffer.concat([frame(0x0c, '9'), frame(0x01, '1')]));
      setInterval(() => {}, 1000);
    },
    { size: 2, restart: 'never' },
  );
  const errors = [];
  p.parent.on('error', (error, id) => errors.push([error.code, id, error.message]));
  p.run();
  const exits = await p.exited;
  expect(exits.map((e) => e.signal)).toEqual(['SIGKILL', 'SIGKILL']);
  expect(errors.map(([code]) => code)).toEqual(['ERR_PROCLET_PROTOCOL', 'ERR_PROCLET_PROTOCOL']);
  expect(errors[0][2]).toContain('names worker "9", and the pool has workers 1 to 2');
});

test('messages to a restarting peer wait and arrive in order once it is back', async () => {
  const p = pool(
    function () {
      const seen = [];
      this.on('message', function (m, from) {
        if (from === 0 && m === 'crash') process.exit(1);
        if (from === 0 && m === 'flood') {
          for (let i = 0; i < 500; i++) this.to(2).send(i);
          this.to(2).send('end');
          return;
        }
        if (from === 1) {
          if (m === 'end') this.send({ seen: seen.length, ordered: seen.every((v, i) => v === i), pid: process.pid });
          else seen.push(m);
        }
      });
    },
    { size: 2 },
  );
  p.run();
  await p.ready;
  const firstPid = p.workers[2].pid;
  const restarted = new Promise((resolve) => p.parent.once('restart', (info, id) => resolve(id)));
  p.to(2).send('crash');
  expect(await restarted).toBe(2);
  // Worker 2 has no process now (or is starting): worker 1's messages wait for it.
  const got = collect(p, 1, (m) => typeof m === 'object' && 'seen' in m);
  p.to(1).send('flood');
  const [[result, id]] = await got;
  expect(id).toBe(2);
  expect(result.seen).toBe(500);
  expect(result.ordered).toBe(true);
  expect(result.pid).not.toBe(firstPid);
});

test('peer messages sent once restart() was called wait for the new child, not the one stopping', async () => {
  const p = pool(
    function () {
      this.on('relay', function (to, n) {
        this.to(to).emit('ping', n);
      });
      this.on('ping', function (n, from) {
        this.send({ n, from, pid: process.pid });
      });
      this.on('kick', function () {
        this.emit('kicked');
      });
    },
    { size: 2 },
  );
  p.run();
  await p.ready;
  const oldPid = p.workers[2].pid;
  const got = collect(p, 3);
  // From a listener (inside the addon's delivery): restart worker 2, then worker 1 writes to it.
  p.parent.once('kicked', () => {
    p.workers[2].restart();
    p.to(1).emit('relay', 2, 'a');
    p.to(2).emit('ping', 'direct');
    p.to(1).emit('relay', 2, 'b');
  });
  p.to(1).emit('kick');
  const messages = (await got).map(([m, id]) => ({ ...m, id, pid: m.pid === oldPid ? 'old' : 'new' }));
  expect(messages).toEqual([
    { n: 'direct', from: 0, id: 2, pid: 'new' },
    { n: 'a', from: 1, id: 2, pid: 'new' },
    { n: 'b', from: 1, id: 2, pid: 'new' },
  ]);
});
