'use strict';
// A real Jest run over a project that uses proclet in its own suite
// (__test__/fixtures/source/jest): worker functions and handlers written in the test files and in
// a module of the project, compiled by Jest as it comes, by Babel for old targets and for ES
// modules, and by ts-jest for ES2015, ES5 and with importHelpers. Run once without and once with
// --coverage: the same tests pass, and what ran in the child processes is reported as covered.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { runNode, fixture } = require('../helpers');

const jestBin = require.resolve('jest/bin/jest');
const project = fixture('source', 'jest');
let tmp;
let plain;
let covered;

function runJest(name, args) {
  const outputFile = path.join(tmp, `${name}.json`);
  return runNode(
    [
      jestBin,
      '--config',
      path.join(project, 'jest.config.js'),
      '--ci',
      '--json',
      `--outputFile=${outputFile}`,
      '--cacheDirectory',
      path.join(tmp, `cache-${name}`),
      ...args,
    ],
    { cwd: project, timeoutMs: 280000, env: { JEST_WORKER_ID: undefined, FORCE_COLOR: '0' } },
  ).then((run) => {
    let results = null;
    try {
      results = JSON.parse(fs.readFileSync(outputFile, 'utf8'));
    } catch {}
    return { ...run, results };
  });
}

/** { 'plain.test.js': { 'a worker function': 'passed', ... }, ... } */
function outcomes(run) {
  const byFile = {};
  for (const file of run.results.testResults) {
    byFile[path.relative(project, file.name)] = Object.fromEntries(file.assertionResults.map((a) => [a.fullName, a.status]));
  }
  return byFile;
}

function explain(run) {
  return `exit ${run.code}${run.hung ? ' (hung)' : ''}\n${run.stderr.slice(-6000)}`;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proclet-jest-fixture-'));
  [plain, covered] = await Promise.all([
    runJest('plain', []),
    runJest('coverage', ['--coverage', '--coverageReporters=json', '--coverageDirectory', path.join(tmp, 'coverage')]),
  ]);
}, 300000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('the suite passes without coverage', () => {
  expect(plain.results).not.toBeNull();
  expect({ code: plain.code, failed: plain.results.numFailedTests, suites: plain.results.numFailedTestSuites }).toEqual(
    { code: 0, failed: 0, suites: 0 },
  );
  if (plain.code !== 0) throw new Error(explain(plain));
});

test('the suite passes under jest --coverage exactly as without it', () => {
  expect(covered.results).not.toBeNull();
  if (covered.code !== 0) throw new Error(explain(covered));
  expect(covered.results.numFailedTests).toBe(0);
  expect(outcomes(covered)).toEqual(outcomes(plain));
});

test('every way of compiling ran its cases', () => {
  const files = outcomes(plain);
  const count = (file) => Object.values(files[file] || {}).filter((s) => s === 'passed').length;
  expect({
    plain: count('plain.test.js'),
    babelNode6: count('babel-node6.test.js'),
    babelIe11: count('babel-ie11.test.js'),
    babelEsm: count('babel-esm.test.js'),
    tsEs2015: count('ts-es2015.test.ts'),
    tsEs5: count('ts-es5.test.ts'),
    tsImportHelpers: count('ts-import-helpers.test.ts'),
  }).toEqual({ plain: 7, babelNode6: 10, babelIe11: 10, babelEsm: 3, tsEs2015: 8, tsEs5: 8, tsImportHelpers: 8 });
});

describe("the child's coverage is merged into the parent's report", () => {
  let report;
  beforeAll(() => {
    report = JSON.parse(fs.readFileSync(path.join(tmp, 'coverage', 'coverage-final.json'), 'utf8'));
  });

  const lineCounts = (file) => {
    const data = report[path.join(project, file)];
    const lines = {};
    for (const [id, loc] of Object.entries(data.statementMap)) {
      lines[loc.start.line] = Math.max(lines[loc.start.line] || 0, data.s[id]);
    }
    return { data, lines };
  };

  test('a module of the project: the handler that ran in the child is covered, the rest is as it was', () => {
    const { data, lines } = lineCounts('src/square.js');
    const source = fs.readFileSync(path.join(project, 'src', 'square.js'), 'utf8').split('\n');
    const lineOf = (text) => source.findIndex((l) => l.includes(text)) + 1;
    // Statements that run only in the child process.
    expect(lines[lineOf("this.send('ready')")]).toBeGreaterThan(0);
    expect(lines[lineOf('const square = m * m')]).toBeGreaterThan(0);
    expect(lines[lineOf('this.send({ square, big: true })')]).toBeGreaterThan(0);
    // The branch the child did not take, and a function nobody called, stay uncovered.
    expect(lines[lineOf('this.send({ square, big: false })')]).toBe(0);
    expect(lines[lineOf("return 'not covered'")]).toBe(0);
    const functions = Object.fromEntries(Object.entries(data.fnMap).map(([id, fn]) => [fn.name, data.f[id]]));
    expect(functions).toMatchObject({ squareWorker: 1, squareHandler: 1, neverCalled: 0 });
    const ifAt = Object.entries(data.branchMap).find(([, b]) => b.loc.start.line === lineOf('if (square > 100)'));
    expect(data.b[ifAt[0]]).toEqual([1, 0]);
  });

  test('worker functions written in the test file are covered', () => {
    const { lines } = lineCounts('plain.test.js');
    const source = fs.readFileSync(path.join(project, 'plain.test.js'), 'utf8').split('\n');
    const lineOf = (text) => source.findIndex((l) => l.includes(text)) + 1;
    expect(lines[lineOf("const parts = ['plain', 'worker']")]).toBe(1);
    expect(lines[lineOf("else this.send(m.toUpperCase())")]).toBe(2);
    expect(lines[lineOf("throw new RangeError('from the child')")]).toBe(1);
    // A child ended by kill() (SIGTERM) reports what it ran before it goes.
    expect(lines[lineOf("const ticks = ['tick']")]).toBe(1);
  });
});

test("the README's Jest example is the one this suite runs", () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const testFile = fs.readFileSync(path.join(project, 'plain.test.js'), 'utf8');
  const example = testFile.slice(testFile.indexOf("test('squares in a child'")).trim();
  expect(readme).toContain(example);
  expect(outcomes(plain)['plain.test.js']['squares in a child']).toBe('passed');
});
