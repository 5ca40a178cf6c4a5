'use strict';
// restart(), and what carries over from one child to the next: handlers and exposed methods,
// what was sent while no child ran, calls in flight, `ready` and `exited`.

const { supervised, shape, next, spawns, endAll, untilTold, untilToldHandlers } = require('./harness');

jest.setTimeout(30000);
afterEach(endAll);

describe('restart()', () => {
  test("runs the 'stop' handlers, starts a fresh child, resolves when it is ready; a 'restart' event with delay 0, under 'never' too", async () => {
    const p = supervised(untilTold);
    p.child.on('stop', function () {
      this.send('stopping');
    });
    const messages = [];
    p.parent.on('message', (m) => messages.push(m));
    p.run();
    const [first] = await spawns(p, 1);
    await p.ready;
    await expect(p.restart()).resolves.toBeUndefined();
    expect(p.pid).not.toBe(first);
    expect(p.pids).toEqual([first, p.pid]);
    expect(shape(p)).toEqual(['spawn', ['restart', { code: 0, signal: null, restarts: 1, delay: 0 }], 'spawn']);
    const up = next(p, 'message');
    await up;
    expect(messages).toEqual(['up', 'stopping', 'up']);
    expect(await p.stop()).toEqual({ code: 0, signal: null });
  });

  test('twice at once: one restart, the same promise', async () => {
    const p = supervised(untilTold);
    p.run();
    await p.ready;
    const a = p.restart();
    expect(p.restart()).toBe(a);
    await a;
    expect(shape(p)).toEqual(['spawn', ['restart', { code: 0, signal: null, restarts: 1, delay: 0 }], 'spawn']);
  });

  test('during a pending restart: the next child starts now; the count of quick ends starts over', async () => {
    const p = supervised(untilTold, { restart: 'always', restartDelay: 60000, maxRestartDelay: 60000, maxRestarts: 1, minUptime: 60000 });
    untilToldHandlers(p).run();
    await spawns(p, 1);
    const restart = next(p, 'restart');
    p.child.emit('end', 1);
    await restart;
    await p.restart();
    expect(p.pids).toHaveLength(2);
    // maxRestarts 1 with one quick end behind: without the reset, this quick end would give up.
    const again = next(p, 'restart');
    p.child.emit('end', 1);
    expect(await again).toEqual([{ code: 1, signal: null, restarts: 2, delay: 60000 }]);
    expect(p.errors).toEqual([]);
  });

  test('before run(): rejects with ERR_PROCLET_NOT_STARTED; after the exit or stop(): ERR_PROCLET_CHANNEL_CLOSED', async () => {
    const p = supervised(untilTold);
    await expect(p.restart()).rejects.toMatchObject({ code: 'ERR_PROCLET_NOT_STARTED', message: expect.stringMatching(/restart\(\).*run\(\)/) });
    p.run();
    await p.ready;
    const stopped = p.stop();
    await expect(p.restart()).rejects.toMatchObject({ code: 'ERR_PROCLET_CHANNEL_CLOSED' });
    await stopped;
    await expect(p.restart()).rejects.toMatchObject({ code: 'ERR_PROCLET_CHANNEL_CLOSED' });
  });

  test('stop() during restart(): the restart rejects, no child follows', async () => {
    const p = supervised(untilTold);
    p.child.on('stop', () => new Promise(() => {}));
    p.run();
    await p.ready;
    const restarting = p.restart();
    const stopped = p.stop({ timeout: 0 });
    await expect(restarting).rejects.toMatchObject({ code: 'ERR_PROCLET_CHANNEL_CLOSED', message: expect.stringMatching(/stop\(\) was called/) });
    expect(await stopped).toEqual({ code: null, signal: 'SIGKILL' });
    expect(shape(p)).toEqual(['spawn', ['exit', null, 'SIGKILL']]);
  });
});

describe('across restarts', () => {
  test('handlers (on, onAny) and exposed methods are installed in every child', async () => {
    const p = supervised(function () {}, { restart: 'always', restartDelay: 1 });
    p.child.on('ping', function (n) {
      this.emit('pong', n, process.pid);
    });
    p.child.onAny(function (event) {
      if (event === 'seen') this.send(`any saw ${event}`);
    });
    p.child.expose({
      whoAmI() {
        return process.pid;
      },
    });
    p.run();
    const pids = [];
    for (let round = 0; round < 3; round++) {
      const [pid] = (await spawns(p, round + 1)).slice(-1);
      const pong = next(p, 'pong');
      p.child.emit('ping', round);
      expect(await pong).toEqual([round, pid]);
      expect(await p.child.call('whoAmI')).toBe(pid);
      const seen = next(p, 'message');
      p.child.emit('seen');
      expect(await seen).toEqual(['any saw seen']);
      pids.push(pid);
      p.kill();
    }
    expect(new Set(pids).size).toBe(3);
  });

  test('handlers registered while no child runs reach the next one', async () => {
    const p = supervised(untilTold, { restart: 'always', restartDelay: 1 });
    untilToldHandlers(p).run();
    await spawns(p, 1);
    const restart = next(p, 'restart');
    p.child.emit('end', 0);
    await restart;
    p.child.on('late', function () {
      this.send('late handler ran');
    });
    p.child.emit('late');
    const messages = [];
    p.parent.on('message', (m) => messages.push(m));
    await new Promise((resolve) => p.parent.on('message', (m) => m === 'late handler ran' && resolve()));
    expect(messages).toEqual(['up', 'late handler ran']);
  });

  test('messages, events and calls sent while no child runs are delivered to the next one, in order', async () => {
    const p = supervised(
      function () {
        const seen = [];
        this.on('message', (m) => seen.push(['message', m]));
        this.on('note', (n) => seen.push(['note', n]));
        this.expose({
          seen: () => seen.slice(),
        });
      },
      { restart: 'always', restartDelay: 1 },
    );
    p.child.on('end', function () {
      this.close(0);
    });
    p.run();
    await p.ready;
    const restart = next(p, 'restart');
    p.child.emit('end');
    await restart;
    // No child runs now: everything waits for the next one.
    expect(p.parent.send('one')).toBe(true);
    p.child.emit('note', 2);
    const firstCall = p.child.call('seen');
    p.parent.send({ three: 3 });
    p.child.emit('note', 4);
    const secondCall = p.child.call('seen');
    expect(await firstCall).toEqual([
      ['message', 'one'],
      ['note', 2],
    ]);
    expect(await secondCall).toEqual([
      ['message', 'one'],
      ['note', 2],
      ['message', { three: 3 }],
      ['note', 4],
    ]);
    expect(p.pids).toHaveLength(2);
  });

  test('a call in flight when the child dies rejects with ERR_PROCLET_CHANNEL_CLOSED; the Proclet goes on and later calls work', async () => {
    const p = supervised(function () {}, { restart: 'on-failure', restartDelay: 1 });
    p.child.expose({
      hang: () => new Promise(() => {}),
      pid: () => process.pid,
    });
    p.run();
    const [first] = await spawns(p, 1);
    const hanging = p.child.call('hang');
    const inFlight = expect(hanging).rejects.toMatchObject({ code: 'ERR_PROCLET_CHANNEL_CLOSED', message: expect.stringContaining(`child process ${first}`) });
    expect(await p.child.call('pid')).toBe(first);
    p.kill('SIGKILL');
    await inFlight;
    const [, second] = await spawns(p, 2);
    expect(await p.child.call('pid')).toBe(second);
    expect(p.log.filter(([name]) => name === 'exit')).toEqual([]);
  });

  test('a parent method the dead child was calling sees its signal abort', async () => {
    const p = supervised(
      function () {
        this.call('slow');
        setTimeout(() => process.kill(process.pid, 'SIGKILL'), 20);
      },
      { restart: 'on-failure', restartDelay: 1, maxRestarts: 0, minUptime: 60000 },
    );
    let aborted;
    const abortedOnce = new Promise((resolve) => (aborted = resolve));
    p.parent.expose({
      slow() {
        const signal = this.signal;
        signal.addEventListener('abort', () => aborted(signal.reason.code));
        return new Promise(() => {});
      },
    });
    p.run();
    expect(await abortedOnce).toBe('ERR_PROCLET_CHANNEL_CLOSED');
  });
});

describe('ready and exited', () => {
  test('ready is about the first child; exited resolves only at the final exit', async () => {
    const p = supervised(untilTold, { restart: 'always', restartDelay: 1 });
    untilToldHandlers(p).run();
    await p.ready;
    let exited = false;
    p.exited.then(() => (exited = true));
    p.child.emit('end', 1);
    await spawns(p, 2);
    p.child.emit('end', 2);
    await spawns(p, 3);
    await expect(p.ready).resolves.toBeUndefined();
    expect(exited).toBe(false);
    expect(await p.stop()).toEqual({ code: 0, signal: null });
    expect(exited).toBe(true);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.log.filter(([name]) => name === 'exit')).toEqual([['exit', 0, null]]);
  });

  test("messages() ends only after the final 'exit'", async () => {
    const p = supervised(
      function () {
        this.send(process.pid);
        this.close(0);
      },
      { restart: 'always', restartDelay: 1 },
    );
    const iterator = p.parent.messages();
    p.run();
    const got = [];
    for await (const pid of iterator) {
      got.push(pid);
      if (got.length === 3) p.stop();
    }
    expect(got.slice(0, 3)).toEqual(p.pids.slice(0, 3));
    expect(p.log[p.log.length - 1][0]).toBe('exit');
  });
});
