'use strict';
// The typings, checked by a real `tsc --strict` over consumer files (__test__/fixtures/ts/). One
// tsc run compiles every fixture (each is its own module); each test then reads the diagnostics of
// its file. Fixtures that must fail mark each line that must have an error with a trailing
// `// error`: those lines, and no others, must have one.

const fs = require('fs');
const path = require('path');
const { runNode, fixture } = require('./helpers');

const tsc = path.join(__dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc');

const FIXTURES = ['consumer.ts', 'full.ts', 'pool.ts', 'typo.ts', 'wrong-types.ts', 'methods-errors.ts', 'events-errors.ts', 'run-errors.ts', 'supervision.ts'];

let compiled = null;

/** The one tsc run: `{ code, output, diagnostics: [{ file, line, column, code, message }] }`. */
function compileAll() {
  if (compiled === null) {
    compiled = runNode(
      [tsc, '--strict', '--noEmit', '--pretty', 'false', '--target', 'es2022', '--module', 'node16', '--types', 'node', ...FIXTURES.map((f) => fixture('ts', f))],
      { timeoutMs: 120000 },
    ).then((result) => {
      const output = result.stdout + result.stderr;
      const diagnostics = [];
      for (const line of output.split('\n')) {
        const match = /^(.+)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
        if (match) {
          diagnostics.push({ file: path.basename(match[1]), line: Number(match[2]), column: Number(match[3]), code: match[4], message: match[5] });
        }
      }
      return { code: result.code, hung: result.hung, output, diagnostics };
    });
  }
  return compiled;
}

/** The diagnostics of one fixture, as `line: TSxxxx message` strings (for readable failures). */
async function errorsIn(file) {
  const { diagnostics } = await compileAll();
  return diagnostics.filter((d) => d.file === file);
}

/** The 1-based numbers of the lines of `file` that end with `// error` (and an optional `: why`). */
function markedLines(file) {
  const lines = fs.readFileSync(fixture('ts', file), 'utf8').split('\n');
  const marked = [];
  lines.forEach((text, i) => {
    if (/\/\/ error(: .*)?$/.test(text.trimEnd())) marked.push(i + 1);
  });
  return marked;
}

/** Every marked line of `file` has an error, and no other line has one. */
async function expectMarkedErrors(file) {
  const errors = await errorsIn(file);
  const expected = markedLines(file);
  expect(expected.length).toBeGreaterThan(0);
  // line -> what tsc said, so that a failure shows the message of an unexpected error.
  const actual = {};
  for (const e of errors) actual[e.line] = actual[e.line] || `${e.code} ${e.message}`;
  expect(actual).toEqual(Object.fromEntries(expected.map((line) => [line, expect.stringMatching(/^TS\d+ /)])));
  return errors;
}

beforeAll(() => compileAll(), 120000);

test('tsc ran over every fixture, and the typings themselves have no errors', async () => {
  const { code, hung, output, diagnostics } = await compileAll();
  expect(hung).toBe(false);
  expect(code).not.toBe(0); // the *-errors fixtures fail on purpose
  const elsewhere = diagnostics.filter((d) => !FIXTURES.includes(d.file));
  expect(elsewhere).toEqual([]);
  // Every error line was parsed: nothing in the output is left unexplained.
  const unparsed = output.split('\n').filter((l) => /error TS\d+/.test(l) && !/^(.+)\((\d+),(\d+)\): error /.test(l));
  expect(unparsed).toEqual([]);
});

test('a strict consumer of the original API compiles', async () => {
  expect(await errorsIn('consumer.ts')).toEqual([]);
});

test('a strict consumer of events, calls both ways, ready/exited/messages/flush and run(...args) compiles', async () => {
  expect(await errorsIn('full.ts')).toEqual([]);
});

test('a strict consumer of pools, peers and warm start compiles', async () => {
  expect(await errorsIn('pool.ts')).toEqual([]);
});

test("a typo on the child context (this.sendd) fails under tsc --strict", async () => {
  const errors = await errorsIn('typo.ts');
  expect(errors.map((e) => e.line)).toEqual([4]);
  expect(errors[0].message).toMatch(/Property 'sendd' does not exist on type 'ChildContext/);
});

test('typed message directions are checked', async () => {
  const lines = (await errorsIn('wrong-types.ts')).map((e) => e.line);
  expect(lines).toContain(4); // this.send(42) where string is expected
  expect(lines).toContain(6); // parent.send('...') where { n } is expected
  expect(lines).toContain(7); // exit listener with a wrong signature
});

test('typed method maps check names, arguments, results and implementations, both ways', async () => {
  const errors = await expectMarkedErrors('methods-errors.ts');
  // p.child.call('resize', 'not a number'): the second argument is checked against ChildApi.
  expect(errors.find((e) => e.line === 23).message).toMatch(/'string' is not assignable to parameter of type 'number'/);
  // this.call('lookup', 42) in the child: checked against ParentApi.
  expect(errors.find((e) => e.line === 13).message).toMatch(/'number' is not assignable to parameter of type 'string'/);
  // The result is ChildApi's, unwrapped from its Promise.
  expect(errors.find((e) => e.line === 25).message).toMatch(/Type 'string' is not assignable to type 'number'/);
});

test('reserved event names, message types, lifecycle types and options are checked', async () => {
  const errors = await expectMarkedErrors('events-errors.ts');
  expect(errors.find((e) => e.line === 14).message).toMatch(/'"message"' is not assignable to parameter of type 'never'/); // p.child.emit('message')
  expect(errors.find((e) => e.line === 15).message).toMatch(/'"stop"' is not assignable/); // p.child.emit('stop')
  expect(errors.find((e) => e.line === 8).message).toMatch(/Property 'sendd' does not exist/);
  expect(errors.find((e) => e.line === 38).message).toMatch(/'wildcards' does not exist in type 'ProcletOptions'/);
});

test("run(...args) is checked against the worker's parameters", async () => {
  const errors = await expectMarkedErrors('run-errors.ts');
  expect(errors.find((e) => e.line === 10).message).toMatch(/Expected 1 arguments, but got 0/);
});

test("supervision: the options, 'spawn' and 'restart' listeners, stop() and restart() are typed; wrong ones fail", async () => {
  await expectMarkedErrors('supervision.ts');
});
