'use strict';
// Script workers (API.md section 1): a module file instead of a function, resolved from the
// calling file, CommonJS or ES module, loaded by the child from its own file.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathToFileURL } = require('url');
const { track, nextMessages, endAll, runNode, Proclet } = require('../helpers');

afterEach(endAll);

const fixtures = path.join(__dirname, 'fixtures');

/** Runs `p` with `args` and resolves with its messages and the errors it reported, at its exit. */
async function outcomeOf(p, ...args) {
  const messages = [];
  const errors = [];
  p.parent.on('message', (m) => messages.push(m));
  p.parent.on('error', (e) => errors.push(e));
  p.run(...args);
  const exit = await p.exited;
  return { messages, errors, exit };
}

test('a CommonJS module relative to the calling file: its exported function gets run() arguments and this = the context', async () => {
  expect(process.cwd()).not.toBe(__dirname); // './fixtures' would not resolve from the working directory
  const { messages, errors, exit } = await outcomeOf(track(new Proclet('./fixtures/report.js')), 1, { two: [2] });
  expect(errors).toEqual([]);
  expect(exit).toEqual({ code: 0, signal: null });
  expect(messages).toHaveLength(1);
  expect(messages[0]).toMatchObject({
    args: [1, { two: [2] }],
    thisIsContext: true,
    // The real file, loaded by Node itself (no copy in the cache), named in process.argv[1].
    filename: path.join(fixtures, 'report.js'),
    argv1: path.join(fixtures, 'report.js'),
    argv: [],
  });
});

test('an ES module by its .mjs extension: the default export is the worker', async () => {
  const { messages, errors, exit } = await outcomeOf(track(new Proclet('./fixtures/worker.mjs')), 'a', 'b');
  expect(errors).toEqual([]);
  expect(exit.code).toBe(0);
  expect(messages).toEqual([{ esm: true, args: ['a', 'b'], file: path.join(fixtures, 'worker.mjs'), thisIsContext: true }]);
});

test('an ES module by its package.json "type": "module"', async () => {
  const { messages, errors } = await outcomeOf(track(new Proclet('./fixtures/esm-package/worker.js')), 42);
  expect(errors).toEqual([]);
  expect(messages).toEqual([{ esmByType: true, value: 42, file: pathToFileURL(path.join(fixtures, 'esm-package', 'worker.js')).href }]);
});

test('a file: URL, as a URL object and as a string, and an absolute path', async () => {
  const file = path.join(fixtures, 'report.js');
  for (const worker of [pathToFileURL(file), pathToFileURL(file).href, file]) {
    const { messages, exit } = await outcomeOf(track(new Proclet(worker)), 'x');
    expect(exit.code).toBe(0);
    expect(messages[0]).toMatchObject({ args: ['x'], filename: file });
  }
});

test('a module that exports no function just runs', async () => {
  const p = track(new Proclet('./fixtures/plain.cjs', { stdio: 'pipe', args: ['--flag'] }));
  const out = [];
  p.parent.on('stdout', (chunk) => out.push(chunk));
  p.run();
  expect(await p.exited).toEqual({ code: 0, signal: null });
  expect(Buffer.concat(out).toString()).toBe('plain module ran with ["--flag"]\n');
});

test('child.on handlers and exposed methods from the parent work with a script worker, next to its own', async () => {
  const p = track(new Proclet('./fixtures/handlers.js'));
  p.child.on('shipped', function (value) {
    this.send(`shipped handler got ${value}`);
  });
  p.child.expose({
    double: (n) => n * 2,
  });
  p.run('hello');
  await p.ready;
  const received = nextMessages(p, 2);
  p.child.emit('shipped', 1);
  p.child.emit('ask', 'how are you?');
  expect(await received).toEqual(['shipped handler got 1', 'hello, how are you?']);
  expect(await p.child.call('add', 2, 3)).toBe(5);
  expect(await p.child.call('double', 21)).toBe(42);
  p.kill();
  expect((await p.exited).signal).toBe('SIGTERM');
});

test('a module that throws while loading, or does not parse, is the child\'s uncaught error: exit code 1', async () => {
  const cjs = await outcomeOf(track(new Proclet('./fixtures/top-level-throw.cjs')));
  expect(cjs.exit.code).toBe(1);
  expect(cjs.errors.map((e) => [e.name, e.message])).toEqual([['TypeError', 'broken at load']]);
  expect(cjs.errors[0].stack).toContain(path.join(fixtures, 'top-level-throw.cjs'));
  const esm = await outcomeOf(track(new Proclet('./fixtures/syntax-error.mjs')));
  expect(esm.exit.code).toBe(1);
  expect(esm.errors.map((e) => e.name)).toEqual(['SyntaxError']);
});

test('an ES module without a default export runs (top-level await included) and shipped handlers serve it', async () => {
  const p = track(new Proclet('./fixtures/plain.mjs'));
  p.child.on('ping', function (n) {
    this.send(n + 1);
  });
  p.child.on('finish', function () {
    this.close(0);
  });
  const got = nextMessages(p, 1);
  p.run();
  p.child.emit('ping', 41);
  expect(await got).toEqual([42]);
  p.child.emit('finish');
  expect(await p.exited).toEqual({ code: 0, signal: null });
});

test('a missing file is a TypeError at construction, naming the module and where it was looked for', () => {
  for (const worker of ['./fixtures/missing.js', 'console.log(1)', pathToFileURL(path.join(fixtures, 'missing.mjs')), 'no-such-package-anywhere']) {
    let thrown;
    try {
      new Proclet(worker);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown.code).toBe('ERR_PROCLET_WORKER_NOT_FOUND');
    expect(thrown.message).toMatch(/^proclet: new Proclet\(worker\): no worker module /);
    expect(thrown.message).toContain(JSON.stringify(String(worker)));
    expect(thrown.message).toContain(__filename);
    expect(thrown.message).toContain('a string names a module file; to run code, pass a function');
  }
});

test('a URL that is not file: is refused', () => {
  expect(() => new Proclet(new URL('https://example.com/worker.js'))).toThrow(
    expect.objectContaining({ code: 'ERR_PROCLET_INVALID_FUNCTION', message: expect.stringMatching(/file: URL/) }),
  );
});

test("a throw in a script worker has the file's own stack: its path and line", async () => {
  const { errors, exit } = await outcomeOf(track(new Proclet('./fixtures/throws.js')));
  expect(exit.code).toBe(1);
  expect(errors).toHaveLength(1);
  expect(errors[0].message).toBe('thrown in a script worker');
  expect(errors[0].stack.split('\n')[1]).toContain(`${path.join(fixtures, 'throws.js')}:5:`);
});

test("V8 coverage of a script worker is reported for the worker's own file", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proclet-v8-coverage-'));
  try {
    const p = track(new Proclet('./fixtures/report.js', { env: { ...process.env, NODE_V8_COVERAGE: dir } }));
    const { exit } = await outcomeOf(p);
    expect(exit.code).toBe(0);
    const urls = fs.readdirSync(dir).flatMap((file) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')).result.map((entry) => entry.url));
    const own = urls.find((url) => url === pathToFileURL(path.join(fixtures, 'report.js')).href);
    expect(own).toBeDefined();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('relative to the calling file, not the working directory (CommonJS and ES module callers)', async () => {
  const elsewhere = os.tmpdir();
  for (const [caller, sibling] of [
    ['from-elsewhere.js', path.join(fixtures, 'nested', 'sibling.js')],
    ['from-elsewhere.mjs', pathToFileURL(path.join(fixtures, 'nested', 'sibling.mjs')).href],
  ]) {
    const result = await runNode([path.join(fixtures, 'nested', caller)], { cwd: elsewhere });
    expect(result).toMatchObject({ code: 0, hung: false, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({ sibling, parentCwd: elsewhere });
  }
});
