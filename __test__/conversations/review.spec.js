'use strict';
// Defects found by trying to break calls, events and messages(), each kept as a spec.

const { Proclet } = require('proclet');
const { track, endAll } = require('../helpers');

afterEach(endAll);

test('a method that throws a non-Error rejects the call with that very value, both ways', async () => {
  const p = track(new Proclet(async function () {
    const outcomes = [];
    for (const name of ['undef', 'str', 'obj']) {
      try {
        await this.call(name);
      } catch (value) {
        outcomes.push(value === undefined ? 'undefined' : value);
      }
    }
    this.send(outcomes);
    this.expose({
      nan() {
        throw NaN;
      },
    });
  }));
  p.parent.expose({
    undef() {
      throw undefined;
    },
    str() {
      throw 'plain string';
    },
    obj() {
      throw { reason: 1 };
    },
  });
  const got = new Promise((resolve) => p.parent.once('message', resolve));
  p.run();
  expect(await got).toEqual(['undefined', 'plain string', { reason: 1 }]);
  await expect(p.child.call('nan')).rejects.toBeNaN();
});

test("a method returning an object whose 'then' getter throws rejects the call, and both processes live", async () => {
  const p = track(new Proclet(function () {
    this.expose({
      odd() {
        return {
          get then() {
            throw new RangeError('then getter');
          },
        };
      },
      fine: () => 'fine',
    });
  }));
  p.run();
  await expect(p.child.call('odd')).rejects.toMatchObject({ name: 'RangeError', message: 'then getter' });
  expect(await p.child.call('fine')).toBe('fine');
});

test('messages(): next() called twice before any message, return() with a next() pending: every promise settles', async () => {
  const p = track(new Proclet(function () {
    this.on('go', () => {
      this.send('one');
      this.send('two');
    });
  }));
  p.run();
  const it = p.parent.messages();
  const a = it.next();
  const b = it.next();
  p.child.emit('go');
  expect(await a).toEqual({ value: 'one', done: false });
  expect(await b).toEqual({ value: 'two', done: false });
  const c = it.next();
  await it.return();
  expect(await c).toEqual({ value: undefined, done: true });
});

test('an error report nested 20,000 causes deep (a forged frame) does not crash the parent', async () => {
  const p = track(new Proclet(function () {
    // Built as text: JSON.stringify itself would overflow the stack on such nesting.
    let text = '{"error":{"name":"Error","message":"bottom","props":{}}}';
    for (let i = 0; i < 20000; i++) text = `{"error":{"name":"Error","message":"level ${i}","props":{},"cause":${text}}}`;
    const payload = Buffer.from(text);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(payload.length, 0);
    header[4] = 0x02;
    const frame = Buffer.concat([header, payload]);
    // fd 3 is non-blocking: write until all of it went out.
    for (let offset = 0; offset < frame.length; ) {
      try {
        offset += require('fs').writeSync(3, frame, offset);
      } catch (e) {
        if (e.code !== 'EAGAIN') throw e;
      }
    }
  }));
  const errors = [];
  p.parent.on('error', (e) => errors.push(e));
  p.run();
  await p.exited;
  expect(errors).toHaveLength(1);
  expect(errors[0].message).toBe('level 19999');
  let depth = 0;
  for (let e = errors[0]; e.cause; e = e.cause) depth++;
  expect(depth).toBeLessThanOrEqual(9);
});

test('pattern listeners: prependListener, listenerCount, listeners and removeAllListeners know them', async () => {
  const p = track(new Proclet(function () {}, { wildcard: true }));
  const a = () => {};
  const b = () => {};
  p.parent.on('job.*', a);
  p.parent.prependListener('job.*', b);
  expect(p.parent.listeners('job.*')).toEqual([b, a]);
  expect(p.parent.listenerCount('job.*')).toBe(2);
  p.parent.removeAllListeners('job.*');
  expect(p.parent.listenerCount('job.*')).toBe(0);
  p.parent.on('job.*', a);
  p.parent.removeAllListeners();
  expect(p.parent.listenerCount('job.*')).toBe(0);
});

test('an abort reason that is not an Error reaches the caller and the callee as that value', async () => {
  const p = track(new Proclet(function () {
    this.expose({
      wait() {
        const signal = this.signal;
        this.emit('started');
        return new Promise(() => {
          signal.addEventListener('abort', () => this.emit('reason', signal.reason));
        });
      },
    });
  }));
  const reason = new Promise((resolve) => p.parent.once('reason', resolve));
  const started = new Promise((resolve) => p.parent.once('started', resolve));
  p.run();
  const controller = new AbortController();
  const call = p.child.callWith({ signal: controller.signal }, 'wait');
  await started;
  controller.abort('why');
  await expect(call).rejects.toBe('why');
  expect(await reason).toBe('why');
});
