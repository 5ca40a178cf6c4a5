'use strict';
// ES modules: `import { Proclet } from 'proclet'` from an .mjs file and from a "type": "module"
// package; workers and handlers defined in ES modules load modules with require() and import(),
// resolved from the file that created the Proclet.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { runNode, fixture } = require('../helpers');

const root = path.join(__dirname, '..', '..');

async function runScript(file, options) {
  const result = await runNode([file], options);
  expect({ stderr: result.stderr, code: result.code, hung: result.hung }).toEqual({ stderr: '', code: 0, hung: false });
  return JSON.parse(result.stdout);
}

test('from an .mjs file: named import, require() and import() in the worker and in a handler', async () => {
  const dir = fixture('source', 'esm');
  expect(await runScript(path.join(dir, 'main.mjs'))).toEqual({
    messages: [
      {
        require: 'sibling via require',
        requireDual: 'dual: CommonJS build',
        importRelative: 'helper via import()',
        importPackage: 'esm-only package via import()',
        importDual: 'dual: ESM build',
        importBuiltin: 'main.mjs',
        dirname: dir,
      },
      'hello from a handler: helper via import()',
    ],
    errors: [],
    code: 0,
  });
});

test('import() in a worker created from a CommonJS file resolves from that file', async () => {
  expect(await runScript(fixture('source', 'esm', 'cjs-caller.cjs'))).toEqual({
    messages: [{ name: 'helper via import()', dual: 'dual: ESM build' }],
    errors: [],
    code: 0,
  });
});

describe('a "type": "module" package with proclet in its node_modules', () => {
  let app;
  beforeAll(() => {
    app = fs.mkdtempSync(path.join(os.tmpdir(), 'proclet-esm-package-'));
    fs.cpSync(fixture('source', 'esm', 'package'), app, { recursive: true });
    fs.mkdirSync(path.join(app, 'node_modules'));
    fs.symlinkSync(root, path.join(app, 'node_modules', 'proclet'), 'dir');
  });
  afterAll(() => {
    if (app) fs.rmSync(app, { recursive: true, force: true });
  });

  test('import { Proclet } from "proclet" works, and the worker resolves from the file that created it', async () => {
    expect(await runScript(path.join(app, 'main.js'), { cwd: app })).toEqual({
      messages: [
        {
          importRelative: 'ESM sibling (.js in a type: module package)',
          require: 'CommonJS sibling via require',
          filename: path.join('lib', 'make.js'),
        },
      ],
      errors: [],
      code: 0,
    });
  });
});

test('a worker that uses import.meta is refused, with what to use instead', async () => {
  const result = await runNode([fixture('source', 'esm', 'import-meta.mjs')]);
  const error = JSON.parse(result.stdout);
  expect(error.name).toBe('TypeError');
  expect(error.code).toBe('ERR_PROCLET_INVALID_FUNCTION');
  expect(error.message).toMatch(/^proclet: new Proclet\(fn\) expects a function, got a function whose source cannot be turned back into a function/);
  expect(error.message).toContain('It uses import.meta, which exists only in the module it was written in');
  expect(error.message).toContain('__filename, __dirname and require() are provided instead');
});

describe('Jest running ES module test files natively (--experimental-vm-modules)', () => {
  const jestBin = require.resolve('jest/bin/jest');
  const project = fixture('source', 'jest-esm');
  let tmp;
  let plain;
  let covered;

  const runJest = (name, args) =>
    runNode(
      [
        '--experimental-vm-modules',
        jestBin,
        '--config',
        path.join(project, 'jest.config.js'),
        '--ci',
        '--cacheDirectory',
        path.join(tmp, `cache-${name}`),
        ...args,
      ],
      { cwd: project, timeoutMs: 120000, env: { JEST_WORKER_ID: undefined, FORCE_COLOR: '0' } },
    );

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proclet-jest-esm-'));
    [plain, covered] = await Promise.all([
      runJest('plain', []),
      runJest('coverage', ['--coverage', '--coverageReporters=json', '--coverageDirectory', path.join(tmp, 'coverage')]),
    ]);
  }, 150000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('passes, with and without --coverage', () => {
    for (const run of [plain, covered]) {
      expect({ code: run.code, hung: run.hung }).toEqual({ code: 0, hung: false });
      expect(run.stderr).toContain('Tests:       1 passed, 1 total');
    }
  });

  test("the child's statements are in the coverage report", () => {
    const report = JSON.parse(fs.readFileSync(path.join(tmp, 'coverage', 'coverage-final.json'), 'utf8'));
    const file = path.join(project, 'esm.test.mjs');
    const data = report[file];
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const lineOf = (text) => lines.findIndex((l) => l.includes(text)) + 1;
    const counts = Object.entries(data.statementMap)
      .filter(([, loc]) => [lineOf("await import('../esm/helper.mjs')"), lineOf('this.send(m.toUpperCase())')].includes(loc.start.line))
      .map(([id]) => data.s[id]);
    expect(counts).toEqual([1, 1]);
  });
});
