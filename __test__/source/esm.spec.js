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
