'use strict';
// A real Vitest run over a project that uses proclet in its own suite
// (__test__/fixtures/source/vitest): worker functions and handlers written in the test file and in
// a module under test. Run plain, with --coverage.provider=istanbul (the child's counts are added
// to Vitest's report, as under Jest) and with --coverage.provider=v8 (the suite passes; the
// child's code is not counted: README, "Testing with Vitest").

const fs = require('fs');
const os = require('os');
const path = require('path');
const { runNode, fixture } = require('../helpers');

const vitestBin = path.join(path.dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const project = fixture('source', 'vitest');
let tmp;
const runs = {};

function runVitest(name, args) {
  const outputFile = path.join(tmp, `${name}.json`);
  return runNode([vitestBin, 'run', '--config', path.join(project, 'vitest.config.mjs'), '--reporter=json', `--outputFile=${outputFile}`, ...args], {
    cwd: project,
    timeoutMs: 120000,
    env: { FORCE_COLOR: '0', CI: 'true' },
  }).then((run) => {
    let results = null;
    try {
      results = JSON.parse(fs.readFileSync(outputFile, 'utf8'));
    } catch {}
    runs[name] = { ...run, results };
  });
}

const coverageArgs = (provider) => ['--coverage.enabled', `--coverage.provider=${provider}`, `--coverage.reportsDirectory=${path.join(tmp, provider)}`];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proclet-vitest-fixture-'));
  await Promise.all([runVitest('plain', []), runVitest('istanbul', coverageArgs('istanbul')), runVitest('v8', coverageArgs('v8'))]);
}, 300000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** { 'a worker function': 'passed', ... } */
function outcomes({ results }) {
  return Object.fromEntries(results.testResults.flatMap((file) => file.assertionResults.map((a) => [a.fullName, a.status])));
}

test.each(['plain', 'istanbul', 'v8'])('the suite passes under vitest run (%s)', (name) => {
  const run = runs[name];
  if (run.code !== 0 || !run.results) throw new Error(`exit ${run.code}${run.hung ? ' (hung)' : ''}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`);
  expect(outcomes(run)).toEqual({
    'a worker function': 'passed',
    'an async arrow function and a handler': 'passed',
    'an error thrown in the child arrives as itself, at its line': 'passed',
    'a module of the project that works in a proclet': 'passed',
  });
});

/** Highest statement count per line of `file` in a coverage-final.json. */
function lineCounts(provider, file) {
  const report = JSON.parse(fs.readFileSync(path.join(tmp, provider, 'coverage-final.json'), 'utf8'));
  const data = report[path.join(project, file)];
  const lines = {};
  for (const [id, loc] of Object.entries(data.statementMap)) lines[loc.start.line] = Math.max(lines[loc.start.line] || 0, data.s[id]);
  return { data, lines };
}

const source = () => fs.readFileSync(path.join(project, 'src', 'square.mjs'), 'utf8').split('\n');
const lineOf = (text) => source().findIndex((l) => l.includes(text)) + 1;

test("istanbul: the lines that ran only in the child are covered in Vitest's report; the rest is as it was", () => {
  const { data, lines } = lineCounts('istanbul', 'src/square.mjs');
  expect(lines[lineOf("this.send('ready')")]).toBe(1);
  expect(lines[lineOf('const square = m * m')]).toBe(1);
  expect(lines[lineOf('this.send({ square, big: true })')]).toBe(1);
  expect(lines[lineOf('this.close(0)')]).toBe(1);
  // The branch the child did not take, and a function nobody called, stay uncovered.
  expect(lines[lineOf('this.send({ square, big: false })')]).toBe(0);
  expect(lines[lineOf("return 'not covered'")]).toBe(0);
  const functions = Object.fromEntries(Object.entries(data.fnMap).map(([id, fn]) => [fn.name, data.f[id]]));
  expect(functions).toMatchObject({ squareWorker: 1, squareHandler: 1, neverCalled: 0 });
});

test("v8: the parent's lines are covered; the child's are not counted (README)", () => {
  const { lines } = lineCounts('v8', 'src/square.mjs');
  expect(lines[lineOf('p.run()')]).toBeGreaterThan(0);
  expect(lines[lineOf('const square = m * m')]).toBe(0);
});
