'use strict';
// A crash loop costs little: __test__/fixtures/faults/restarts.js restarts a child 30 times and
// runs a crash loop (delays scaled down, every run quick whatever the load), in its own process, and reports the parent's fds and
// threads (/proc/self/fd, /proc/self/task) before and after.

const { runNode, fixture } = require('../helpers');

jest.setTimeout(60000);

test("30 restarts and a crash loop leave the parent's fds and threads as they were; the loop makes maxRestarts + 1 attempts with doubling delays", async () => {
  const result = await runNode(['--expose-gc', fixture('faults', 'restarts.js'), '--restarts', '30', '--scale', '0.01', '--min-uptime', '60000']);
  expect(result.hung).toBe(false);
  expect(result.code).toBe(0);
  const lines = result.stdout.trim().split('\n');
  const { before, after, afterLoop, many, loop } = JSON.parse(lines[lines.length - 1]);
  expect(many).toMatchObject({ restarts: 30, spawns: 31 });
  expect(after.fds).toBe(before.fds);
  expect(after.threads).toBe(before.threads);
  expect(afterLoop.fds).toBe(before.fds);
  expect(afterLoop.threads).toBe(before.threads);
  expect(loop.attempts).toBe(17);
  expect(loop.delays).toEqual([1, 2, 4, 8, 16, 32, 64, 128, ...Array(8).fill(150)]);
  expect(loop.gaveUp).toBe('ERR_PROCLET_RESTART_LIMIT');
  expect(loop.exit).toEqual({ code: 1, signal: null });
});
