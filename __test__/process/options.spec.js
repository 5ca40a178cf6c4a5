'use strict';
// The process options (API.md section 1) as the child sees them, and what is refused.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathToFileURL } = require('url');
const { track, endAll, Proclet } = require('../helpers');

afterEach(endAll);

const report = path.join(__dirname, 'fixtures', 'report.js');

/** What the child reports about its own process (fixtures/report.js) under `options`. */
async function seenByChild(options) {
  const p = track(new Proclet(report, options));
  const messages = [];
  const errors = [];
  p.parent.on('message', (m) => messages.push(m));
  p.parent.on('error', (e) => errors.push(e));
  p.run();
  const exit = await p.exited;
  expect(errors).toEqual([]);
  expect(exit).toEqual({ code: 0, signal: null });
  return messages[0];
}

test('args are process.argv.slice(2), exactly', async () => {
  const args = ['--verbose', '', 'two words', 'ünïcødé', '-e', 'console.log(1)', '--', '\n'];
  expect((await seenByChild({ args })).argv).toEqual(args);
  expect((await seenByChild({})).argv).toEqual([]);
});

test('cwd, as a path (relative ones from process.cwd()) or a file: URL', async () => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'proclet-cwd-')));
  try {
    expect((await seenByChild({ cwd: dir })).cwd).toBe(dir);
    expect((await seenByChild({ cwd: pathToFileURL(dir) })).cwd).toBe(dir);
    expect((await seenByChild({ cwd: path.relative(process.cwd(), dir) })).cwd).toBe(dir);
    expect((await seenByChild({})).cwd).toBe(process.cwd());
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('env is the whole environment of the child, nothing of proclet added; undefined values are left out', async () => {
  const env = { ONLY_THIS: 'value', EMPTY: '', SPACES: ' a b ', UNICODE: 'ünï', PATH: process.env.PATH, DROPPED: undefined };
  const { DROPPED, ...expected } = env;
  expect((await seenByChild({ env })).env).toEqual(expected);
  expect((await seenByChild({ env: {} })).env).toEqual({});
});

test("env defaults to the parent's process.env as it is when the child starts", async () => {
  process.env.PROCLET_OPTIONS_SPEC = 'set by the spec';
  try {
    expect((await seenByChild({})).env).toEqual({ ...process.env });
  } finally {
    delete process.env.PROCLET_OPTIONS_SPEC;
  }
});

test("execArgv are the child's Node flags; by default the parent's", async () => {
  const execArgv = ['--max-old-space-size=64', '--no-warnings', '--stack-trace-limit=7'];
  expect((await seenByChild({ execArgv })).execArgv).toEqual(execArgv);
  expect((await seenByChild({ execArgv: [] })).execArgv).toEqual([]);
  expect((await seenByChild({})).execArgv).toEqual(process.execArgv);
});

test('options are copied at construction: later changes to the arrays and objects do not reach the child', async () => {
  const args = ['a'];
  const env = { A: '1' };
  const p = track(new Proclet(report, { args, env }));
  args.push('b');
  env.B = '2';
  const got = new Promise((resolve) => p.parent.once('message', resolve));
  p.run();
  const message = await got;
  expect(message.argv).toEqual(['a']);
  expect(message.env).toEqual({ A: '1' });
});

test('a cwd that is gone by run() is an ERR_PROCLET_SPAWN error naming it, then the exit', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proclet-gone-'));
  const p = track(new Proclet(report, { cwd: dir }));
  fs.rmdirSync(dir);
  const errors = [];
  p.parent.on('error', (e) => errors.push(e));
  p.run();
  expect(await p.exited).toEqual({ code: null, signal: null });
  expect(errors.map((e) => e.code)).toEqual(['ERR_PROCLET_SPAWN']);
  expect(errors[0].message).toContain(`in ${dir}`);
  await expect(p.ready).rejects.toThrow(expect.objectContaining({ code: 'ERR_PROCLET_SPAWN' }));
});

describe('invalid options are a TypeError ERR_PROCLET_INVALID_OPTION naming the option and what it must be', () => {
  const file = path.join(__dirname, 'options.spec.js');
  test.each([
    ['args', { args: 'a b' }, /option args must be an array of strings \(without NUL characters\), got 'a b'/],
    ['args', { args: ['a', 1] }, /option args must be an array of strings/],
    ['args', { args: ['a\0b'] }, /option args must be an array of strings \(without NUL characters\)/],
    ['execArgv', { execArgv: '--inspect' }, /option execArgv must be an array of strings/],
    ['env', { env: null }, /option env must be an object of environment variables/],
    ['env', { env: ['A=1'] }, /option env must be an object of environment variables/],
    ['env.PORT', { env: { PORT: 8080 } }, /option env\.PORT must be a string \(without NUL characters\) or undefined; convert numbers with String\(\), got 8080/],
    ['env name', { env: { 'A=B': 'x' } }, /option env\["A=B"\] must be a variable name: not empty, without "=" or NUL characters/],
    ['env name', { env: { '': 'x' } }, /option env\[""\] must be a variable name/],
    ['cwd', { cwd: 42 }, /option cwd must be a path or a file: URL of a directory, got 42/],
    ['cwd', { cwd: '/no/such/directory' }, /option cwd must be an existing directory \(nothing is there\), got '\/no\/such\/directory'/],
    ['cwd', { cwd: file }, /option cwd must be an existing directory \(that is not a directory\)/],
    ['cwd', { cwd: new URL('https://example.com/') }, /option cwd must be a path or a file: URL of a directory/],
    ['stdio', { stdio: 'inherited' }, /option stdio must be one of 'inherit', 'pipe', 'ignore', got 'inherited'/],
    ['stdio', { stdio: ['pipe', 'pipe', 'pipe'] }, /option stdio must be one of 'inherit', 'pipe', 'ignore'/],
  ])('%s: %p', (_, options, message) => {
    for (const worker of [report, () => {}]) {
      let thrown;
      try {
        new Proclet(worker, options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expect(thrown.code).toBe('ERR_PROCLET_INVALID_OPTION');
      expect(thrown.message).toMatch(/^proclet: new Proclet\(worker, options\): /);
      expect(thrown.message).toMatch(message);
    }
  });
});
