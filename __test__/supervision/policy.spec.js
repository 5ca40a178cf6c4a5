'use strict';
// The restart policy (API.md section 3): 'never', 'on-failure', 'always'; the doubling delay, its
// cap and its reset by a long run; giving up after maxRestarts quick ends. Delays are checked by
// what the 'restart' events report, never by timing.

// The policy's arithmetic as the bundle that ships has it (not API).
const { RestartPolicy } = require('proclet')[Symbol.for('proclet.internals')];
const { supervised, shape, delays, next, spawns, endAll, untilTold, untilToldHandlers } = require('./harness');

jest.setTimeout(30000);
afterEach(endAll);

// Every run counts as long (minUptime 0) unless a test says otherwise: the delay stays 1 ms.
const fast = { restartDelay: 1, minUptime: 0 };

/** Starts `p` and ends its children one after the other as `ends` says, then stops it. */
async function endEach(p, ends) {
  untilToldHandlers(p).run();
  for (const [index, [how, value]] of ends.entries()) {
    await spawns(p, index + 1);
    p.child.emit(how, value);
  }
}

describe("restart: 'never' (the default)", () => {
  test.each([
    ['code 0', ['end', 0], [0, null]],
    ['code 1', ['end', 1], [1, null]],
    ['a signal', ['die', 'SIGTERM'], [null, 'SIGTERM']],
  ])('the first exit is final (%s)', async (_, end, [code, signal]) => {
    const p = supervised(untilTold);
    await endEach(p, [end]);
    expect(await p.exited).toEqual({ code, signal });
    const errors = signal ? [['error', 'ERR_PROCLET_CHILD_KILLED']] : [];
    expect(shape(p)).toEqual(['spawn', ...errors, ['exit', code, signal]]);
  });

  test('kill() is final', async () => {
    const p = supervised(untilTold);
    untilToldHandlers(p).run();
    await next(p, 'spawn');
    expect(p.kill()).toBe(true);
    expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(shape(p)).toEqual(['spawn', ['exit', null, 'SIGTERM']]);
  });
});

describe("restart: 'on-failure'", () => {
  test('restarts after code 1, a signal and kill(); code 0 is final', async () => {
    const p = supervised(untilTold, { restart: 'on-failure', ...fast });
    untilToldHandlers(p).run();
    await spawns(p, 1);
    p.child.emit('end', 1);
    await spawns(p, 2);
    p.child.emit('die', 'SIGTERM');
    await spawns(p, 3);
    p.kill('SIGINT');
    await spawns(p, 4);
    p.child.emit('end', 0);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(shape(p)).toEqual([
      'spawn',
      ['restart', { code: 1, signal: null, restarts: 1, delay: 1 }],
      'spawn',
      // A signal proclet did not send is reported, and restarted.
      ['error', 'ERR_PROCLET_CHILD_KILLED'],
      ['restart', { code: null, signal: 'SIGTERM', restarts: 2, delay: 1 }],
      'spawn',
      ['restart', { code: null, signal: 'SIGINT', restarts: 3, delay: 1 }],
      'spawn',
      ['exit', 0, null],
    ]);
    expect(new Set(p.pids).size).toBe(4);
  });

  test('pid follows the current child', async () => {
    const p = supervised(untilTold, { restart: 'on-failure', ...fast });
    untilToldHandlers(p).run();
    const [first] = await spawns(p, 1);
    expect(p.pid).toBe(first);
    p.kill();
    const [, second] = await spawns(p, 2);
    expect(second).not.toBe(first);
    expect(p.pid).toBe(second);
  });
});

describe("restart: 'always'", () => {
  test('restarts after code 0 and code 1 and a signal; only stop() ends it', async () => {
    const p = supervised(untilTold, { restart: 'always', ...fast });
    await endEach(p, [
      ['end', 0],
      ['end', 1],
      ['die', 'SIGKILL'],
    ]);
    await spawns(p, 4);
    expect(await p.stop()).toEqual({ code: 0, signal: null });
    expect(shape(p)).toEqual([
      'spawn',
      ['restart', { code: 0, signal: null, restarts: 1, delay: 1 }],
      'spawn',
      ['restart', { code: 1, signal: null, restarts: 2, delay: 1 }],
      'spawn',
      ['error', 'ERR_PROCLET_CHILD_KILLED'],
      ['restart', { code: null, signal: 'SIGKILL', restarts: 3, delay: 1 }],
      'spawn',
      ['exit', 0, null],
    ]);
  });

  test('a worker that simply returns is restarted too', async () => {
    const p = supervised(function () {}, { restart: 'always', ...fast });
    p.run();
    await spawns(p, 3);
    await p.stop();
    const restarts = p.log.filter(([name]) => name === 'restart').map(([, info]) => info);
    expect(restarts.slice(0, 2)).toEqual([
      { code: 0, signal: null, restarts: 1, delay: 1 },
      { code: 0, signal: null, restarts: 2, delay: 1 },
    ]);
    expect(p.log[p.log.length - 1][0]).toBe('exit');
  });
});

describe('a crash loop', () => {
  test('delays double from restartDelay up to maxRestartDelay; after maxRestarts quick ends, ERR_PROCLET_RESTART_LIMIT then exit', async () => {
    const p = supervised(
      function () {
        throw new Error('broken at start');
      },
      { restart: 'always', restartDelay: 1, maxRestartDelay: 8, maxRestarts: 6, minUptime: 60000 },
    );
    p.run();
    expect(await p.exited).toEqual({ code: 1, signal: null });
    // maxRestarts + 1 attempts, each reporting its error.
    expect(p.pids).toHaveLength(7);
    expect(delays(p)).toEqual([1, 2, 4, 8, 8, 8]);
    expect(p.log.slice(-3)).toEqual([['error', undefined], ['error', 'ERR_PROCLET_RESTART_LIMIT'], ['exit', 1, null]]);
    const limit = p.errors[p.errors.length - 1];
    expect(limit).toBeInstanceOf(Error);
    expect(limit.message).toMatch(/ended 7 times in a row within minUptime \(60000 ms\).*code 1.*maxRestarts \(6\)/);
    expect(p.errors.slice(0, -1).map((e) => e.message)).toEqual(Array(7).fill('broken at start'));
  });

  test('maxRestarts: 0 gives up at the first quick end', async () => {
    const p = supervised(
      function () {
        this.close(2);
      },
      { restart: 'always', maxRestarts: 0, minUptime: 60000 },
    );
    p.run();
    expect(await p.exited).toEqual({ code: 2, signal: null });
    expect(shape(p)).toEqual(['spawn', ['error', 'ERR_PROCLET_RESTART_LIMIT'], ['exit', 2, null]]);
  });

  test("under 'on-failure' a quick clean exit is simply final", async () => {
    const p = supervised(function () {}, { restart: 'on-failure', maxRestarts: 0, minUptime: 60000 });
    p.run();
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(shape(p)).toEqual(['spawn', ['exit', 0, null]]);
  });
});

describe('minUptime', () => {
  test('a run of at least minUptime resets the delay and the count of quick ends', async () => {
    // Long enough that a run ended at once is quick even on a loaded machine.
    const minUptime = 8000;
    const p = supervised(untilTold, { restart: 'always', restartDelay: 5, maxRestartDelay: 1000, maxRestarts: 3, minUptime });
    untilToldHandlers(p);
    // Runs: quick, quick, quick, long, quick, quick, quick, then stop. A quick run ends as soon
    // as it starts; a long one once minUptime has passed since its 'spawn' (so it is at least
    // that long: the child was spawned before the event).
    const plan = ['quick', 'quick', 'quick', 'long', 'quick', 'quick', 'quick'];
    p.parent.on('spawn', () => {
      const run = plan[p.pids.length - 1];
      if (run === 'quick') p.child.emit('end', 1);
      else if (run === 'long') setTimeout(() => p.child.emit('end', 1), minUptime);
    });
    p.run();
    await spawns(p, plan.length + 1);
    await p.stop();
    // With maxRestarts 3 a fourth quick end in a row would give up: the long run between the
    // two series of three started the count (and the delay) over.
    expect(delays(p)).toEqual([5, 10, 20, 5, 5, 10, 20]);
    expect(p.errors).toEqual([]);
    expect(p.log[p.log.length - 1]).toEqual(['exit', 0, null]);
  }, 60000);
});

describe('the arithmetic (lib/restart-policy.js) with the defaults', () => {
  const defaults = { restart: 'always', minUptime: 1000, restartDelay: 100, maxRestartDelay: 15000, maxRestarts: 16 };

  test('a crash loop: 16 restarts at 100, 200, ... 12800, then 15000 ms, then it gives up', () => {
    const policy = new RestartPolicy(defaults);
    const answers = [];
    for (let i = 0; i < 17; i++) answers.push(policy.afterExit({ code: 1, signal: null, uptime: 50 }));
    expect(answers.slice(0, 16).map((a) => a.delay)).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12800, ...Array(8).fill(15000)]);
    expect(answers.slice(0, 16).map((a) => a.restarts)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(answers[16]).toEqual({ action: 'give-up', quickEnds: 17 });
  });

  test('a long run resets the delay; a start that failed is quick however long it took', () => {
    const policy = new RestartPolicy(defaults);
    expect(policy.afterExit({ code: 1, signal: null, uptime: 10 }).delay).toBe(100);
    expect(policy.afterExit({ code: 1, signal: null, uptime: 10 }).delay).toBe(200);
    expect(policy.afterExit({ code: 1, signal: null, uptime: 1000 }).delay).toBe(100);
    expect(policy.afterExit({ code: 1, signal: null, uptime: 10 }).delay).toBe(100);
    expect(policy.afterExit({ code: null, signal: 'SIGKILL', uptime: 30000, failedStart: true }).delay).toBe(200);
  });

  test("'never' and 'on-failure' with code 0 do not restart; restart() counts but is never quick", () => {
    expect(new RestartPolicy({ ...defaults, restart: 'never' }).afterExit({ code: 1, signal: null, uptime: 5 })).toEqual({ action: 'exit' });
    const onFailure = new RestartPolicy({ ...defaults, restart: 'on-failure' });
    expect(onFailure.afterExit({ code: 0, signal: null, uptime: 5 })).toEqual({ action: 'exit' });
    expect(onFailure.afterExit({ code: 0, signal: 'SIGTERM', uptime: 5 }).action).toBe('restart');
    expect(onFailure.manualRestart()).toEqual({ delay: 0, restarts: 2 });
    expect(onFailure.afterExit({ code: 3, signal: null, uptime: 5 })).toEqual({ action: 'restart', delay: 100, restarts: 3 });
  });
});
