'use strict';
// ProcletPool: dispatch to the least busy worker, the FIFO queue and maxQueue, a worker dying in
// the middle of a call, handlers and methods in every worker, events with the worker's id.

const fs = require('fs');
const { ProcletPool, Proclet } = require('proclet');
const { alive, handlesClosed } = require('../helpers');

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

// A worker whose `job(i)` announces its start and finishes when the parent emits 'release'.
function held() {
  const waiting = [];
  this.on('release', (value) => waiting.shift()(value));
  this.expose({
    job(i) {
      this.send(['start', i, this.id]);
      return new Promise((resolve) => waiting.push(resolve));
    },
    who() {
      return this.id;
    },
    die(code) {
      process.exit(code);
    },
  });
}

/** Resolves with the first `count` ['start', i, id] messages. */
function starts(p, count) {
  return new Promise((resolve) => {
    const seen = [];
    const listener = (message, id) => {
      if (!Array.isArray(message) || message[0] !== 'start') return;
      seen.push([message[1], id]);
      if (seen.length === count) {
        p.parent.off('message', listener);
        resolve(seen);
      }
    };
    p.parent.on('message', listener);
  });
}

const fdCount = () => fs.readdirSync('/proc/self/fd').length;
const never = { restart: 'never' };

describe('dispatch', () => {
  test('concurrent calls go to the least busy workers, each with its own id', async () => {
    const p = pool(held, { size: 3 }).run();
    const started = starts(p, 3);
    const calls = [0, 1, 2].map((i) => p.child.call('job', i));
    const seen = await started;
    expect(seen.map(([, id]) => id).sort()).toEqual([1, 2, 3]);
    for (const [i, id] of seen) p.to(id).emit('release', i * 10);
    expect(await Promise.all(calls)).toEqual([0, 10, 20]);
  });

  test('a worker runs up to `concurrency` calls at once; later calls queue in order (FIFO)', async () => {
    const p = pool(held, { size: 1, concurrency: 2 }).run();
    const order = [];
    p.parent.on('message', (message, id) => {
      if (message[0] !== 'start') return;
      order.push(message[1]);
      expect(id).toBe(1);
    });
    const firstTwo = starts(p, 2);
    const calls = [0, 1, 2, 3, 4].map((i) => p.child.call('job', i));
    await firstTwo;
    expect(p.queued).toBe(3);
    expect(order).toEqual([0, 1]);
    // Each release lets exactly one queued call start.
    for (let i = 0; i < 5; i++) {
      const next = i < 3 ? starts(p, 1) : null;
      p.to(1).emit('release', i);
      if (next) expect((await next)[0][0]).toBe(i + 2);
    }
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 3, 4]);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(p.queued).toBe(0);
  });

  test('past maxQueue a call is refused with ERR_PROCLET_QUEUE_FULL; the others still run', async () => {
    const p = pool(held, { size: 2, maxQueue: 2 }).run();
    const started = starts(p, 2);
    const calls = [0, 1, 2, 3].map((i) => p.child.call('job', i));
    await expect(p.child.call('job', 4)).rejects.toMatchObject({ code: 'ERR_PROCLET_QUEUE_FULL', message: expect.stringContaining('maxQueue') });
    const seen = await started;
    const more = starts(p, 2);
    for (const [i, id] of seen) p.to(id).emit('release', i);
    for (const [i, id] of await more) p.to(id).emit('release', i);
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 3]);
  });

  test('prefetch: 0 keeps waiting calls in the pool, for whichever worker is free first', async () => {
    const p = pool(held, { size: 2, prefetch: 0 }).run();
    const started = starts(p, 1);
    const long = p.child.call('job', 'long');
    const [[, busy]] = await started;
    const free = busy === 1 ? 2 : 1;
    // With the default prefetch one of these would wait inside the busy worker.
    expect(await Promise.all([p.child.call('who'), p.child.call('who'), p.child.call('who')])).toEqual([free, free, free]);
    p.to(busy).emit('release', 'done');
    await expect(long).resolves.toBe('done');
  });

  test('bad calls are refused synchronously, queued or not', async () => {
    const p = pool(held, { size: 1 }).run();
    expect(() => p.child.call('')).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_INVALID_METHOD' }));
    expect(() => p.child.call('job', () => 1)).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_INVALID_MESSAGE' }));
    const busy = p.child.call('job', 0);
    await starts(p, 1);
    expect(() => p.child.call('job', Symbol('x'))).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_INVALID_MESSAGE' }));
    expect(() => p.child.callWith({ timeout: -1 }, 'job', 1)).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_INVALID_OPTION' }));
    p.to(1).emit('release', 'ok');
    await expect(busy).resolves.toBe('ok');
  });

  test('a queued call times out or aborts without ever reaching a worker', async () => {
    const p = pool(held, { size: 1 }).run();
    const busy = p.child.call('job', 0);
    await starts(p, 1);
    const controller = new AbortController();
    const aborted = p.child.callWith({ signal: controller.signal }, 'job', 1);
    const timedOut = p.child.callWith({ timeout: 20 }, 'job', 2);
    controller.abort(new Error('no longer needed'));
    await expect(aborted).rejects.toThrow('no longer needed');
    await expect(timedOut).rejects.toMatchObject({ code: 'ERR_PROCLET_CALL_TIMEOUT' });
    expect(p.queued).toBe(0);
    p.to(1).emit('release', 'done');
    await expect(busy).resolves.toBe('done');
    // The worker saw only the first job.
    await expect(p.child.call('who')).resolves.toBe(1);
  });

  test('options are checked', () => {
    for (const [options, name] of [
      [{ size: 0 }, 'size'],
      [{ size: 1.5 }, 'size'],
      [{ concurrency: 0 }, 'concurrency'],
      [{ maxQueue: -1 }, 'maxQueue'],
      [{ maxQueue: 'many' }, 'maxQueue'],
      [{ prefetch: -1 }, 'prefetch'],
    ]) {
      expect(() => new ProcletPool(held, options)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_PROCLET_INVALID_OPTION', message: expect.stringContaining(name) }));
    }
    expect(() => new ProcletPool(held, { size: 1, nope: 1 })).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_INVALID_OPTION' }));
  });
});

describe('workers that die', () => {
  test('a worker dying mid-call rejects that call with ERR_PROCLET_CHANNEL_CLOSED; queued calls go to the others', async () => {
    const p = pool(held, { size: 2, ...never }).run();
    await p.ready;
    const started = starts(p, 1);
    const long = p.child.call('job', 'long');
    const [[, survivor]] = await started;
    const dead = survivor === 1 ? 2 : 1;
    const dying = p.to(dead).call('die', 3);
    const queued = [p.child.call('who'), p.child.call('who')];
    await expect(dying).rejects.toMatchObject({ code: 'ERR_PROCLET_CHANNEL_CLOSED' });
    p.to(survivor).emit('release', 'fine');
    await expect(long).resolves.toBe('fine');
    expect(await Promise.all(queued)).toEqual([survivor, survivor]);
  });

  test('a call handed to a worker ahead of time, not started when it dies, runs on another worker', async () => {
    const p = pool(held, { size: 2, ...never }).run();
    await p.ready;
    const started = starts(p, 2);
    const jobs = [0, 1].map((i) => p.child.call('job', i));
    const seen = await started;
    // Both workers run a job: the next two calls wait inside them, one each.
    const waiting = [p.child.call('who'), p.child.call('who')];
    expect(p.queued).toBe(2);
    const [victimJob, victim] = seen[0];
    const [survivorJob, survivor] = seen[1];
    p.workers[victim].kill('SIGKILL');
    await expect(jobs[victimJob]).rejects.toMatchObject({ code: 'ERR_PROCLET_CHANNEL_CLOSED' });
    p.to(survivor).emit('release', 'ok');
    await expect(jobs[survivorJob]).resolves.toBe('ok');
    expect(await Promise.all(waiting)).toEqual([survivor, survivor]);
  });

  test('once every worker has ended, queued and new calls reject instead of waiting forever', async () => {
    const p = pool(held, { size: 1, ...never }).run();
    const busy = p.child.call('job', 0);
    await starts(p, 1);
    const queued = p.child.call('who');
    p.workers[1].kill('SIGKILL');
    await expect(busy).rejects.toMatchObject({ code: 'ERR_PROCLET_CHANNEL_CLOSED' });
    await expect(queued).rejects.toMatchObject({ code: 'ERR_PROCLET_CHANNEL_CLOSED', message: expect.stringContaining('every worker') });
    await expect(p.child.call('who')).rejects.toMatchObject({ code: 'ERR_PROCLET_CHANNEL_CLOSED' });
    expect(await p.exited).toEqual([{ id: 1, code: null, signal: 'SIGKILL' }]);
  });

  test('a replacement keeps its id, its handlers and its methods', async () => {
    const p = pool(held, { size: 2 }).run();
    await p.ready;
    const firstPid = p.workers[2].pid;
    const spawned = new Promise((resolve) => p.parent.on('spawn', (pid, id) => id === 2 && pid !== firstPid && resolve(pid)));
    const restarted = new Promise((resolve) => p.parent.once('restart', (info, id) => resolve([info, id])));
    await expect(p.to(2).call('die', 7)).rejects.toMatchObject({ code: 'ERR_PROCLET_CHANNEL_CLOSED' });
    const [info, id] = await restarted;
    expect(id).toBe(2);
    expect(info).toMatchObject({ code: 7, signal: null });
    const pid = await spawned;
    expect(p.workers[2].pid).toBe(pid);
    await expect(p.to(2).call('who')).resolves.toBe(2);
    // Calls keep going to both workers.
    const started = starts(p, 2);
    const calls = [0, 1].map((i) => p.child.call('job', i));
    const seen = await started;
    expect(seen.map(([, w]) => w).sort()).toEqual([1, 2]);
    for (const [i, w] of seen) p.to(w).emit('release', i);
    expect(await Promise.all(calls)).toEqual([0, 1]);
  });
});

describe('the pool as one', () => {
  test('child.on/onAny/expose reach every worker; parent listeners get the worker id last', async () => {
    const p = pool(function () {}, { size: 3 });
    p.child.on('greet', function (name, from) {
      this.emit('greeted', `${name} by ${this.id}`, from);
    });
    p.child.expose({ double: (x) => 2 * x });
    const any = [];
    p.parent.onAny((event, ...args) => any.push([event, ...args]));
    const greeted = [];
    p.parent.on('greeted', (text, from, id) => greeted.push([text, from, id]));
    p.run();
    await p.ready;
    // Registered after run(): shipped to every running worker.
    p.child.onAny(function (event, ...args) {
      if (event === 'late') this.send(['late', this.id, ...args]);
    });
    const late = new Promise((resolve) => {
      const got = [];
      p.parent.on('message', (message, id) => {
        got.push([message, id]);
        if (got.length === 3) resolve(got);
      });
    });
    p.to('all').emit('greet', 'ada');
    p.to('all').emit('late', 'x');
    const messages = await late;
    expect(messages.map(([m, id]) => [m[1], id]).sort()).toEqual([[1, 1], [2, 2], [3, 3]]);
    expect(messages.every(([m]) => m[2] === 'x' && m[3] === 0)).toBe(true);
    expect(greeted.sort()).toEqual([['ada by 1', 0, 1], ['ada by 2', 0, 2], ['ada by 3', 0, 3]]);
    expect(any.filter(([e]) => e === 'greeted').length).toBe(3);
    expect(await Promise.all([1, 2, 3].map((id) => p.to(id).call('double', id)))).toEqual([2, 4, 6]);
  });

  test('parent.messages() yields every worker\'s messages and ends once the last worker has ended', async () => {
    const p = pool(function (n) {
      for (let i = 0; i < n; i++) this.send([this.id, i]);
      if (this.id === 1) this.close(0);
      else this.on('message', () => this.close(0));
    }, { size: 2 });
    const messages = p.parent.messages();
    p.run(3);
    const seen = [];
    for await (const message of messages) {
      seen.push(message);
      // Worker 1 has ended by itself; the iterator goes on until worker 2 ends too.
      if (seen.length === 6) p.to(2).send('bye');
    }
    expect(seen.filter(([id]) => id === 1)).toEqual([[1, 0], [1, 1], [1, 2]]);
    expect(seen.filter(([id]) => id === 2)).toEqual([[2, 0], [2, 1], [2, 2]]);
    expect((await p.exited).map(({ id, code }) => [id, code])).toEqual([[1, 0], [2, 0]]);
  });

  test('workers by id, ready, stop(): every worker ends and nothing is left behind', async () => {
    await handlesClosed(); // those of the tests before
    const before = fdCount();
    const p = pool(function () {
      this.on('stop', function () {
        this.close(0);
      });
      this.expose({ pid: () => process.pid });
    }, { size: 2 });
    expect(Object.keys(p.workers)).toEqual(['1', '2']);
    expect(p.workers[1]).toBeInstanceOf(Proclet);
    p.run();
    await p.ready;
    const pids = await Promise.all([p.to(1).call('pid'), p.to(2).call('pid')]);
    expect(pids).toEqual([p.workers[1].pid, p.workers[2].pid]);
    const exits = [];
    p.parent.on('exit', (code, signal, id) => exits.push([id, code]));
    const result = await p.stop();
    expect(result.map(({ id }) => id)).toEqual([1, 2]);
    expect(exits.map(([id]) => id).sort()).toEqual([1, 2]);
    expect(await p.exited).toEqual(result);
    expect(pids.some(alive)).toBe(false);
    await handlesClosed();
    expect(fdCount()).toBeLessThanOrEqual(before);
  });
});
