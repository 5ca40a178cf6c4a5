'use strict';
// What keeps processes alive, where the child's output goes, and where require() resolves from.

const fs = require('fs');
const path = require('path');
const { alive, proclet, track, nextMessages, endAll, runNode, fixture } = require('./helpers');

afterEach(endAll);

test("the spec's example prints exactly its five lines and exits by itself", async () => {
  const result = await runNode([path.join(__dirname, '..', 'examples', 'spec.js')]);
  expect(result.hung).toBe(false);
  expect(result.code).toBe(0);
  expect(result.stdout).toBe(
    [
      'Message from subprocess: Hello',
      'Message from subprocess: Message from parent process: Hi!',
      "Message from subprocess: Let's not get stuck in a loop, shall we?",
      'Message from subprocess: Message from parent process: /close',
      'Message from subprocess: Child closing',
      '',
    ].join('\n'),
  );
});

test('the examples in the README run and print what the README says', async () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const quick = await runNode([path.join(__dirname, '..', 'examples', 'quick-start.js')]);
  expect(quick.stdout).toBe('42\nchild exited 0\n');
  expect(readme).toContain(fs.readFileSync(path.join(__dirname, '..', 'examples', 'quick-start.js'), 'utf8').trim());
});

test('a script that uses proclet exits by itself when its child is done', async () => {
  // No timers and no forced exit in the script: it must end once its child is done.
  const result = await runNode([path.join(__dirname, '..', 'examples', 'quick-start.js')]);
  expect(result.hung).toBe(false);
  expect(result.stdout).toBe('42\nchild exited 0\n');
  expect(result.code).toBe(0);
});

test('unref() lets the parent exit while the child runs, and the child ends with it', async () => {
  const result = await runNode([fixture('unref.js')]);
  expect(result.hung).toBe(false);
  expect(result.code).toBe(0);
  const pid = Number(result.stdout.trim());
  expect(pid).toBeGreaterThan(0);
  // The child sees end-of-file on fd 3 (and PR_SET_PDEATHSIG) and exits; wait until it is gone.
  await waitUntil(() => !alive(pid), 5000);
});

test("the child inherits stdout/stderr and runs the parent's node without debugger flags", async () => {
  const result = await runNode(['--inspect=0', '--max-old-space-size=123', fixture('stdio.js')]);
  expect(result.code).toBe(0);
  const lines = result.stdout.trim().split('\n');
  expect(lines.slice(0, 2)).toEqual(['parent out', 'child out']);
  const info = JSON.parse(lines[2]);
  expect(info.execPath).toBe(process.execPath);
  expect(info.execArgv).toEqual(['--max-old-space-size=123']);
  expect(result.stderr).toContain('child err');
  // Only the parent's inspector started.
  expect(result.stderr.match(/Debugger listening/g)).toHaveLength(1);
});

test('require(), __filename and __dirname in the worker resolve from the file that created the Proclet', async () => {
  const make = require('./fixtures/project/lib/make.js');
  const p = track(make());
  const [info] = await nextMessages(p.run(), 1);
  expect(info).toEqual({
    dep: 42,
    sibling: 'sibling',
    filename: fixture('project', 'lib', 'make.js'),
    dirname: fixture('project', 'lib'),
  });
});

test('require() in child handlers resolves from the file that created the Proclet', async () => {
  const p = proclet(function () {});
  p.child.on('message', function (name) {
    this.send(require(name).name);
  });
  p.run();
  p.parent.send('./fixtures/project/lib/sibling');
  expect(await nextMessages(p, 1)).toEqual(['sibling']);
});

// ---- helpers ----

async function waitUntil(condition, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a child handler that never calls this.close()', () => {
  test('keeps the child alive after its answer, until p.kill()', async () => {
    const p = proclet(function () {});
    p.child.on('message', function (m) {
      this.send(m * 2);
    });
    p.run();
    p.parent.send(21);
    expect(await nextMessages(p, 1)).toEqual([42]);
    // Still running: signal 0 only checks that the process exists.
    expect(() => process.kill(p.pid, 0)).not.toThrow();
    expect(p.kill()).toBe(true);
    expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' });
  });

  test('p.unref() lets the parent script exit by itself (and the child with it)', async () => {
    const result = await runNode([path.join(__dirname, 'fixtures', 'forgot-close.js')]);
    expect(result.hung).toBe(false);
    expect(result.stdout).toBe('42\n');
    expect(result.code).toBe(0);
  });
});
