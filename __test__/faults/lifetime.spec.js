'use strict';
// Process lifetime under failure: no orphans, clean teardown, hard child deaths, Worker threads.

const { spawn } = require('child_process');
const { alive, proclet, endAll, runNode, fixture } = require('../helpers');

afterEach(endAll);

/** Resolves with the time it took for every pid to be gone; rejects after `limitMs`. */
async function allGone(pids, limitMs) {
  const start = Date.now();
  while (pids.some(alive)) {
    if (Date.now() - start > limitMs) throw new Error(`still alive after ${limitMs} ms: ${pids.filter(alive)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - start;
}

/** Starts a fixture, resolves once it printed `count` child pids (one per line). */
function startWithPids(args, count) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const pids = out.split('\n').filter(Boolean).map(Number);
      if (pids.length === count) resolve({ parent: child, pids });
    });
  });
}

describe('no orphans', () => {
  test('a parent killed with SIGKILL takes its children down within 1 s', async () => {
    const { parent, pids } = await startWithPids([fixture('faults', 'exit-with-children.js'), 'wait'], 3);
    expect(pids.every(alive)).toBe(true);
    parent.kill('SIGKILL');
    await allGone(pids, 1000);
  });

  test('even a child whose event loop is blocked (PR_SET_PDEATHSIG)', async () => {
    const { parent, pids } = await startWithPids([fixture('faults', 'busy-child-orphan.js')], 1);
    parent.kill('SIGKILL');
    await allGone(pids, 1000);
  });

  test('a parent that calls process.exit() while children run', async () => {
    const result = await runNode([fixture('faults', 'exit-with-children.js')]);
    expect(result.code).toBe(0);
    await allGone(result.stdout.trim().split('\n').map(Number), 1000);
  });

  test('a parent that dies of an uncaught exception', async () => {
    const result = await runNode([fixture('faults', 'exit-with-children.js'), 'throw']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Error: parent crashed');
    await allGone(result.stdout.trim().split('\n').map(Number), 1000);
  });
});

test('process.exit() inside a message listener while children flood: exits with its own code, 50 times in a row', async () => {
  for (let i = 0; i < 50; i++) {
    const result = await runNode([fixture('faults', 'exit-in-listener.js'), '3']);
    expect({ run: i, code: result.code, signal: result.signal, stderr: result.stderr }).toEqual({
      run: i,
      code: 7,
      signal: null,
      stderr: '',
    });
  }
}, 120000);

describe('a child that dies hard', () => {
  test('SIGKILL: messages received first, then error and exit with the signal; send then fails', async () => {
    const p = proclet(function () {
      for (let i = 0; i < 100; i++) this.send(i);
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), 20);
    });
    const order = [];
    p.parent.on('message', (m) => order.push(m));
    p.parent.on('error', (e) => order.push(e.code));
    p.parent.on('exit', (code, signal) => order.push(`exit ${code} ${signal}`));
    p.run();
    await p.exited;
    expect(order).toEqual([...Array.from({ length: 100 }, (_, i) => i), 'ERR_PROCLET_CHILD_KILLED', 'exit null SIGKILL']);
    expect(() => p.parent.send('late')).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_CHANNEL_CLOSED' }));
  });

  test('out of memory under a small --max-old-space-size', async () => {
    const result = await runNode(['--max-old-space-size=32', fixture('faults', 'oom.js')]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('message: about to allocate');
    expect(lines[1]).toMatch(/^error: ERR_PROCLET_CHILD_KILLED: proclet: child process \d+ was killed by SIGABRT \(Node aborts like this when it runs out of memory/);
    expect(lines.slice(2)).toEqual(['exit: null SIGABRT', 'send: ERR_PROCLET_CHANNEL_CLOSED']);
    expect(result.stderr).toMatch(/heap out of memory/);
  });
});

test('inside worker_threads: a Proclet works, and terminating the Worker ends its child', async () => {
  const result = await runNode([fixture('faults', 'in-worker.js')]);
  const [first, last] = result.stdout.trim().split('\n');
  const { doubled, pid } = JSON.parse(first);
  expect(doubled).toBe(42);
  expect(last).toBe('worker exit 1');
  await allGone([pid], 1000);
});
