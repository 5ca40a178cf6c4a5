'use strict';
// Warm start: warmup(count, options) keeps booted runtimes; a run() whose launch matches adopts
// one (its pid is the spare's) and a replacement boots; other launches start cold; spares never
// hold the parent's loop, die with the parent, and warmup(0) ends them.

const proclet = require('proclet');
const { Proclet, ProcletPool, warmup } = proclet;
// The spares' registry inside the bundle that ships (not API).
const { warm } = proclet[Symbol.for('proclet.internals')];
const { alive, track, runNode, fixture, nextMessages } = require('../helpers');

afterEach(() => warmup(0));

/** Waits until `condition()` holds, checking every 10 ms (a process ending has no event here). */
async function until(condition, what) {
  for (let i = 0; i < 1000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting until ${what}`);
}

test('run() adopts a spare: the worker runs in it, with handlers, arguments and messages', async () => {
  warmup(2);
  const spares = warm.pids();
  expect(spares).toHaveLength(2);
  const p = track(
    new Proclet(function (a, b) {
      this.send([a + b, this.id, process.argv.length]);
    }),
  );
  p.child.on('message', function (m) {
    this.send(`echo ${m}`);
    this.close();
  });
  p.parent.send('before run');
  p.run(40, 2);
  expect(spares).toContain(p.pid);
  expect(await nextMessages(p, 2)).toEqual([[42, 1, 2], 'echo before run']);
  expect(await p.exited).toEqual({ code: 0, signal: null });
  // A replacement boots in the background: two spares again, the adopted one not among them.
  await until(() => warm.pids().length === 2, 'a replacement spare is up');
  expect(warm.pids()).not.toContain(p.pid);
});

test("the replacement boots after the adopted child's first message, or soon without one", async () => {
  warmup(1);
  const [spare] = warm.pids();
  const p = track(
    new Proclet(function () {
      this.send('first');
    }),
  );
  let sparesAtFirst = null;
  p.parent.on('message', () => {
    sparesAtFirst = warm.pids();
    p.kill();
  });
  p.run();
  expect(p.pid).toBe(spare);
  // Spawning forks the parent; the adopted child's first message does not wait behind it.
  expect(warm.pids()).toEqual([]);
  await p.exited;
  expect(sparesAtFirst).toEqual([]);
  await until(() => warm.pids().length === 1, 'a replacement spare is up');

  // A worker that sends nothing: the replacement still comes (ADOPTION_GRACE_MS).
  const silent = track(new Proclet(function () {}));
  silent.child.on('message', function () {
    this.close();
  });
  silent.run();
  expect(warm.pids()).toEqual([]);
  await until(() => warm.pids().length === 1, 'a replacement spare is up without a message');
  silent.parent.send('done');
  await silent.exited;
});

test('spares serve pools too', async () => {
  warmup(2);
  const spares = warm.pids();
  const pool = new ProcletPool(
    function () {
      this.expose({ id: () => this.id });
    },
    { size: 2 },
  );
  pool.run();
  expect(Object.values(pool.workers).map((w) => w.pid).sort()).toEqual(spares.slice().sort());
  expect(await Promise.all([pool.to(1).call('id'), pool.to(2).call('id')])).toEqual([1, 2]);
  await pool.stop();
});

test('errors in an adopted worker are reported as usual', async () => {
  warmup(1);
  const [spare] = warm.pids();
  const p = track(
    new Proclet(function () {
      throw new TypeError('boom');
    }),
  );
  const errors = [];
  p.parent.on('error', (e) => errors.push([e.name, e.message]));
  p.run();
  expect(p.pid).toBe(spare);
  expect(await p.exited).toEqual({ code: 1, signal: null });
  expect(errors).toEqual([['TypeError', 'boom']]);
});

test('a run() with other launch options starts cold and leaves the spares alone', async () => {
  warmup(1, { env: { ...process.env, PROCLET_WARM_TEST: '1' } });
  const [spare] = warm.pids();
  const p = track(
    new Proclet(function () {
      this.send(process.env.PROCLET_WARM_TEST || 'unset');
    }),
  );
  p.run();
  expect(p.pid).not.toBe(spare);
  expect(await nextMessages(p, 1)).toEqual(['unset']);
  expect(warm.pids()).toEqual([spare]);
  p.kill();
  await p.exited;
});

test('warmup(0) ends the spares; bad arguments are TypeErrors', async () => {
  warmup(3);
  const spares = warm.pids();
  expect(spares).toHaveLength(3);
  warmup(0);
  expect(warm.pids()).toEqual([]);
  await until(() => !spares.some(alive), 'the spares are gone');
  for (const [args, name] of [
    [[-1], 'count'],
    [[1.5], 'count'],
    [[1, { nope: 1 }], 'nope'],
    [[1, { execArgv: 'x' }], 'execArgv'],
    [[1, null], 'options'],
  ]) {
    expect(() => warmup(...args)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_PROCLET_INVALID_OPTION', message: expect.stringContaining(name) }));
  }
});

test('a script that calls warmup(2) exits by itself, and its spares die with it', async () => {
  const result = await runNode([fixture('pool', 'warmup-exit.js')], { timeoutMs: 10000 });
  expect(result).toMatchObject({ code: 0, hung: false, stderr: '' });
  const spares = JSON.parse(result.stdout);
  expect(spares).toHaveLength(2);
  await until(() => !spares.some(alive), 'the spares died with their parent');
});

test('a script whose run() adopted a spare ends when its child is done', async () => {
  const result = await runNode([fixture('pool', 'warm-run.js')], { timeoutMs: 10000 });
  expect(result).toMatchObject({ code: 0, hung: false, stderr: '' });
  expect(JSON.parse(result.stdout)).toEqual({ m: 42, adopted: true });
});
