'use strict';
// stdio: 'pipe' | 'ignore' | 'inherit' (API.md sections 1 and 3): the streams, the 'stdout' and
// 'stderr' events, order with 'exit', stdin, no fd or loop held.

const fs = require('fs');
const path = require('path');
const { track, endAll, runNode, alive, Proclet, handlesClosed } = require('../helpers');

afterEach(endAll);

const LINES = 20000;
const expectedLines = (tag) => Array.from({ length: LINES }, (_, i) => `${tag} line ${i} ${'x'.repeat(i % 50)}\n`).join('');

/** Collects the text of `readable` until it ends. */
function text(readable) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    readable.on('data', (chunk) => chunks.push(chunk));
    readable.on('end', () => resolve(Buffer.concat(chunks).toString()));
    readable.on('error', reject);
  });
}

/** Resolves once `condition()` holds, checking on each turn of the event loop. */
function waitUntil(condition) {
  return new Promise((resolve) => {
    const check = () => (condition() ? resolve() : setImmediate(check));
    check();
  });
}

function writesLines() {
  // Synchronous writes, interleaved between the two pipes, then a natural end.
  for (let i = 0; i < 20000; i++) {
    const pad = 'x'.repeat(i % 50);
    process.stdout.write(`out line ${i} ${pad}\n`);
    process.stderr.write(`err line ${i} ${pad}\n`);
  }
}

test("20,000 lines on stdout and stderr arrive intact and in order, in the events and the streams, all before 'exit'", async () => {
  const p = track(new Proclet(writesLines, { stdio: 'pipe' }));
  const events = { stdout: [], stderr: [] };
  let atExit = null;
  p.parent.on('stdout', (chunk) => {
    expect(Buffer.isBuffer(chunk)).toBe(true);
    events.stdout.push(chunk);
  });
  p.parent.on('stderr', (chunk) => events.stderr.push(chunk));
  p.parent.on('exit', (code) => {
    atExit = { code, stdout: Buffer.concat(events.stdout).toString(), stderr: Buffer.concat(events.stderr).toString() };
  });
  const streams = Promise.all([text(p.stdout), text(p.stderr)]);
  p.run();
  const [stdout, stderr] = await streams;
  expect(atExit.code).toBe(0);
  expect(atExit.stdout === expectedLines('out')).toBe(true);
  expect(atExit.stderr === expectedLines('err')).toBe(true);
  expect(stdout === expectedLines('out')).toBe(true);
  expect(stderr === expectedLines('err')).toBe(true);
});

test('output written right before process.exit() still comes before the exit', async () => {
  const p = track(
    new Proclet(() => {
      process.stdout.write('last words\n');
      process.exit(3);
    }, { stdio: 'pipe' }),
  );
  const out = [];
  p.parent.on('stdout', (chunk) => out.push(chunk));
  const exit = new Promise((resolve) => p.parent.on('exit', (code) => resolve([code, Buffer.concat(out).toString()])));
  p.run();
  expect(await exit).toEqual([3, 'last words\n']);
});

test('stdin: what the parent writes is what the child reads, to end-of-file', async () => {
  const p = track(
    new Proclet(function () {
      const chunks = [];
      process.stdin.on('data', (chunk) => chunks.push(chunk));
      process.stdin.on('end', () => this.send(Buffer.concat(chunks).toString()));
    }, { stdio: 'pipe' }),
  );
  const got = new Promise((resolve) => p.parent.once('message', resolve));
  // Written before run(): waits for the child.
  p.stdin.write('first\n');
  p.run();
  const big = 'y'.repeat(1 << 20);
  p.stdin.write(big);
  p.stdin.end('last\n');
  expect(await got === `first\n${big}last\n`).toBe(true);
  expect((await p.exited).code).toBe(0);
});

test("'ignore' gives the child /dev/null; 'ignore' and 'inherit' give no streams", async () => {
  for (const stdio of ['ignore', 'inherit', undefined]) {
    const p = track(
      new Proclet(function () {
        const fs = require('fs');
        this.send([0, 1, 2].map((fd) => fs.readlinkSync(`/proc/self/fd/${fd}`)));
      }, stdio === undefined ? {} : { stdio }),
    );
    expect([p.stdin, p.stdout, p.stderr]).toEqual([null, null, null]);
    const got = new Promise((resolve) => p.parent.once('message', resolve));
    p.run();
    const targets = await got;
    if (stdio === 'ignore') expect(targets).toEqual(['/dev/null', '/dev/null', '/dev/null']);
    else expect(targets).toEqual([0, 1, 2].map((fd) => fs.readlinkSync(`/proc/self/fd/${fd}`)));
    await p.exited;
  }
});

test('a stream that is not read holds the child back instead of buffering without end, and loses nothing', async () => {
  const size = 8 << 20;
  const p = track(
    new Proclet(function (n) {
      process.stdout.write('z'.repeat(n), () => this.send('written'));
    }, { stdio: 'pipe' }),
  );
  let written = false;
  p.parent.on('message', () => (written = true));
  const stdout = p.stdout; // asked for, not read yet
  p.run(size);
  await p.ready;
  // The child cannot finish while nobody reads: wait until its pipe and our stream are full.
  await waitUntil(() => stdout.readableLength >= stdout.readableHighWaterMark);
  expect(written).toBe(false);
  expect(stdout.readableLength).toBeLessThan(size);
  const all = await text(stdout);
  expect(all.length).toBe(size);
  expect(written).toBe(true);
});

test('pipes leave no file descriptor open, and do not keep the parent alive', async () => {
  const fds = () => fs.readdirSync('/proc/self/fd').length;
  await handlesClosed(); // those of the tests before
  const before = fds();
  for (let i = 0; i < 5; i++) {
    const p = track(new Proclet(() => console.log('hi'), { stdio: 'pipe' }));
    p.stdin.write('unread');
    const out = text(p.stdout);
    p.run();
    await p.exited;
    expect(await out).toBe('hi\n');
  }
  await handlesClosed();
  expect(fds()).toBe(before);

  const script = path.join(__dirname, 'fixtures', 'pipe-exits.js');
  const result = await runNode([script]);
  expect(result).toMatchObject({ code: 0, hung: false, stderr: '' });
  expect(result.stdout).toBe('child said: hello\nexit 0\n');

  const unref = await runNode([path.join(__dirname, 'fixtures', 'pipe-unref.js')]);
  expect(unref).toMatchObject({ code: 0, hung: false, stderr: '' });
  const [, pid] = unref.stdout.match(/^child (\d+) is writing\n$/);
  // The child ends with its parent (PR_SET_PDEATHSIG).
  await waitUntil(() => !alive(Number(pid)));
});
