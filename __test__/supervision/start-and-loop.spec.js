'use strict';
// The start timeout under supervision, a restart that cannot spawn, and what keeps the parent's
// event loop alive between children. Each case runs a fixture script in its own node process.

const { runNode, fixture } = require('../helpers');

jest.setTimeout(60000);

async function report(name, args) {
  const result = await runNode([fixture('..', 'supervision', 'fixtures', name), ...args], { timeoutMs: 55000 });
  expect(result.hung).toBe(false);
  expect(result.code).toBe(0);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

describe('startTimeout', () => {
  test("'never': the child that is not ready in time is killed; 'error' ERR_PROCLET_START_TIMEOUT then 'exit'; ready rejects", async () => {
    const r = await report('start-timeout.js', ['never', '1']);
    expect(r.log).toEqual(['spawn', ['error', 'ERR_PROCLET_START_TIMEOUT'], ['exit', null, 'SIGKILL']]);
    expect(r.ready).toBe('ERR_PROCLET_START_TIMEOUT');
    expect(r.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(r.uncaught).toEqual([]);
  });

  test("'on-failure': a quick end, restarted by the policy without an 'error'; ready is about the first child", async () => {
    const r = await report('start-timeout.js', ['on-failure', '2']);
    expect(r.log).toEqual([
      'spawn',
      ['restart', { code: null, signal: 'SIGKILL', restarts: 1, delay: 1 }],
      'spawn',
      ['restart', { code: null, signal: 'SIGKILL', restarts: 2, delay: 2 }],
      'spawn',
      ['message', 'started'],
      ['exit', 0, null],
    ]);
    expect(r.ready).toBe('ERR_PROCLET_START_TIMEOUT');
    expect(r.uncaught).toEqual([]);
  });

  test('start timeouts count toward maxRestarts', async () => {
    const r = await report('start-timeout.js', ['always', '5', '1']);
    expect(r.log).toEqual([
      'spawn',
      ['restart', { code: null, signal: 'SIGKILL', restarts: 1, delay: 1 }],
      'spawn',
      ['error', 'ERR_PROCLET_RESTART_LIMIT'],
      ['exit', null, 'SIGKILL'],
    ]);
  });
});

describe('a restart that cannot spawn', () => {
  test("is an 'error' and a quick failed end: retried with the growing delay, then given up", async () => {
    const r = await report('respawn-fails.js', []);
    expect(r.log).toEqual([
      'spawn',
      ['restart', { code: 0, signal: null, restarts: 1, delay: 1 }],
      ['error', 'ERR_PROCLET_CACHE'],
      ['restart', { code: null, signal: null, restarts: 2, delay: 2 }],
      ['error', 'ERR_PROCLET_CACHE'],
      ['error', 'ERR_PROCLET_RESTART_LIMIT'],
      ['exit', null, null],
    ]);
    expect(r.exit).toEqual({ code: null, signal: null });
    // No other child ever ran: pid is still the first one's.
    expect(r.pid).toBe(r.firstPid);
  });
});

describe("the parent's event loop", () => {
  test('a pending restart holds it: restarts follow until stop()', async () => {
    const r = await report('pending-restart.js', ['ref']);
    expect(r.log).toEqual(['spawn', ['restart', 50], 'spawn', ['restart', 50], 'spawn', ['exit', 0, null]]);
  });

  test('after unref() a pending restart does not: the parent exits without waiting for it', async () => {
    // The restart is 60 s away: runNode reports a script still running after 55 s as hung.
    const r = await report('pending-restart.js', ['unref']);
    expect(r.log).toEqual(['spawn', ['restart', 60000]]);
  });
});
