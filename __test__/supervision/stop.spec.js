'use strict';
// stop({ timeout }): the child's 'stop' handlers run (async ones awaited), the child closes
// delivering what it sent, SIGKILL after the timeout; supervision ends; the final exit.

const { supervised, shape, next, spawns, endAll, untilTold, untilToldHandlers } = require('./harness');

jest.setTimeout(30000);
afterEach(endAll);

describe('stop()', () => {
  test("runs an async 'stop' handler; what it sends arrives; resolves with the final exit; no restart follows", async () => {
    const p = supervised(untilTold, { restart: 'always' });
    p.child.on('stop', async function () {
      this.send('stopping');
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (let i = 0; i < 1000; i++) this.send(i);
      this.emit('stopped', 'cleanly');
    });
    const messages = [];
    p.parent.on('message', (m) => messages.push(m));
    const stopped = next(p, 'stopped');
    p.run();
    await p.ready;
    // A generous timeout: on a loaded machine the handler's 50 ms timer may take a while.
    const result = p.stop({ timeout: 30000 });
    expect(await result).toEqual({ code: 0, signal: null });
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(await stopped).toEqual(['cleanly']);
    expect(messages).toEqual(['up', 'stopping', ...Array.from({ length: 1000 }, (_, i) => i)]);
    expect(shape(p)).toEqual(['spawn', ['exit', 0, null]]);
  });

  test("a child without a 'stop' handler closes at once, though something keeps it alive", async () => {
    const p = supervised(function () {
      setInterval(() => {}, 1000);
      this.send('up');
    });
    const up = next(p, 'message');
    p.run();
    await up;
    expect(await p.stop()).toEqual({ code: 0, signal: null });
  });

  test("'stop' handlers registered inside the child (this.on) run too; one may close with its own code", async () => {
    const p = supervised(function () {
      this.on('stop', function () {
        this.send('own handler');
        this.close(3);
      });
    });
    const message = next(p, 'message');
    p.run();
    await p.ready;
    expect(await p.stop()).toEqual({ code: 3, signal: null });
    expect(await message).toEqual(['own handler']);
  });

  test('a child that ignores the stop is killed with SIGKILL after the timeout (no CHILD_KILLED error)', async () => {
    const p = supervised(untilTold, { restart: 'always' });
    p.child.on('stop', function () {
      this.send('ignoring it');
      return new Promise(() => {});
    });
    p.run();
    await p.ready;
    expect(await p.stop({ timeout: 200 })).toEqual({ code: null, signal: 'SIGKILL' });
    expect(shape(p)).toEqual(['spawn', ['exit', null, 'SIGKILL']]);
  });

  test('a child blocked in synchronous code is killed after the timeout', async () => {
    const p = supervised(untilTold, { killTimeout: 100 });
    p.child.on('block', () => {
      for (;;);
    });
    p.run();
    p.child.emit('block');
    await p.ready;
    expect(await p.stop()).toEqual({ code: null, signal: 'SIGKILL' });
  });

  test('timeout 0 kills at once', async () => {
    const p = supervised(untilTold);
    p.run();
    await p.ready;
    expect(await p.stop({ timeout: 0 })).toEqual({ code: null, signal: 'SIGKILL' });
  });

  test('twice: the same final exit; after the exit: the final exit', async () => {
    const p = supervised(untilTold);
    p.run();
    await p.ready;
    const [a, b] = await Promise.all([p.stop(), p.stop({ timeout: 0 })]);
    expect(a).toEqual({ code: 0, signal: null });
    expect(b).toEqual(a);
    expect(await p.stop()).toEqual(a);
    expect(shape(p)).toEqual(['spawn', ['exit', 0, null]]);
  });

  test('before run(): the Proclet ends without a child; run() then throws ERR_PROCLET_ALREADY_STARTED', async () => {
    const p = supervised(untilTold);
    p.child.on('message', () => {});
    expect(await p.stop()).toEqual({ code: null, signal: null });
    expect(await p.exited).toEqual({ code: null, signal: null });
    await expect(p.ready).rejects.toMatchObject({ code: 'ERR_PROCLET_CHANNEL_CLOSED', message: expect.stringMatching(/stop\(\) was called before run\(\)/) });
    expect(() => p.run()).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_ALREADY_STARTED', message: expect.stringMatching(/stop\(\)/) }));
    expect(() => p.parent.send('x')).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_CHANNEL_CLOSED' }));
    expect(shape(p)).toEqual([['exit', null, null]]);
  });

  test('while a restart is pending: no child follows; resolves with the last exit', async () => {
    const p = supervised(untilTold, { restart: 'always', restartDelay: 60000, maxRestartDelay: 60000 });
    untilToldHandlers(p).run();
    await spawns(p, 1);
    const restart = next(p, 'restart');
    p.child.emit('end', 4);
    await restart;
    expect(await p.stop()).toEqual({ code: 4, signal: null });
    expect(shape(p)).toEqual(['spawn', ['restart', { code: 4, signal: null, restarts: 1, delay: 60000 }], ['exit', 4, null]]);
  });

  test('bad options: TypeError ERR_PROCLET_INVALID_OPTION naming the option', () => {
    const p = supervised(untilTold);
    for (const options of [{ timeout: -1 }, { timeout: '5s' }, null, 5]) {
      expect(() => p.stop(options)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_PROCLET_INVALID_OPTION', message: expect.stringMatching(/stop\(options\)/) }));
    }
  });

  test("the parent cannot emit 'stop' into the child", () => {
    const p = supervised(untilTold);
    expect(() => p.child.emit('stop')).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_RESERVED_EVENT' }));
  });
});
