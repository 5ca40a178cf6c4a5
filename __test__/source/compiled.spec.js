'use strict';
// Worker functions after a compiler rewrote them, outside Jest: TypeScript's tsc for ES2015
// (__awaiter), ES5 (__awaiter, __generator, __read, _this) and with importHelpers (tslib_1);
// Babel for Internet Explorer 11 and Node 6 today (_asyncToGenerator wrappers, _regenerator),
// with @babel/plugin-transform-runtime (helpers imported from @babel/runtime), and the output of
// Babel 7.20 (_regeneratorRuntime()) and 7.17 (the regeneratorRuntime global), kept as
// generated. All run the same workers and must print the same results.

const fs = require('fs');
const os = require('os');
const path = require('path');
const babel = require('@babel/core');
const { runNode, fixture } = require('../helpers');

const root = path.join(__dirname, '..', '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const expected = JSON.parse(fs.readFileSync(fixture('source', 'compiled', 'expected.json'), 'utf8'));
let tmp;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proclet-compiled-'));
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs compiled code as a script in the repository (where `proclet` and its devDependencies resolve). */
async function run(code) {
  const result = await runNode(['-'], { input: code, cwd: root });
  expect({ stderr: result.stderr, code: result.code, hung: result.hung }).toEqual({ stderr: '', code: 0, hung: false });
  return JSON.parse(result.stdout);
}

describe('TypeScript (tsc)', () => {
  const compiled = {};

  async function compile(name, options) {
    const outDir = path.join(tmp, name);
    const result = await runNode(
      [
        tsc,
        '--strict',
        '--module', 'node16',
        '--moduleResolution', 'node16',
        '--types', 'node',
        '--lib', 'es2020',
        '--rootDir', root,
        '--outDir', outDir,
        ...options,
        fixture('source', 'compiled', 'workers.ts'),
      ],
      { timeoutMs: 90000 },
    );
    const file = path.join(outDir, path.relative(root, fixture('source', 'compiled', 'workers.js')));
    compiled[name] = { output: result.stdout + result.stderr, code: fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '' };
  }

  beforeAll(
    () =>
      Promise.all([
        compile('es2015', ['--target', 'ES2015']),
        compile('es5', ['--target', 'ES5', '--downlevelIteration']),
        compile('import-helpers', ['--target', 'ES2015', '--importHelpers']),
      ]),
    120000,
  );

  test('target ES2015: __awaiter', async () => {
    const { output, code } = compiled.es2015;
    expect(output).toBe('');
    expect(code).toContain('__awaiter(void 0, void 0, void 0, function* ()'); // an async arrow at the top level
    expect(await run(code)).toEqual(expected);
  });

  test('target ES5: __awaiter, __generator, __read, __spreadArray, __assign', async () => {
    const { output, code } = compiled.es5;
    expect(output).toBe('');
    expect(code).toMatch(/__generator\(this, function \(_a\)/);
    expect(code).toContain('__read(__spreadArray([], __read(numbers()), false))');
    expect(await run(code)).toEqual(expected);
  });

  test('importHelpers: tslib_1.__awaiter', async () => {
    const { output, code } = compiled['import-helpers'];
    expect(output).toBe('');
    expect(code).toContain('tslib_1.__awaiter(');
    expect(await run(code)).toEqual(expected);
  });
});

describe('Babel', () => {
  const source = fs.readFileSync(fixture('source', 'compiled', 'workers.src.js'), 'utf8');
  const compile = (targets) =>
    babel.transformSync(source, { filename: 'workers.src.js', configFile: false, babelrc: false, presets: [['@babel/preset-env', { targets }]] }).code;

  test(`today's Babel (${babel.version}) for Node 6: _asyncToGenerator around native generators`, async () => {
    const code = compile({ node: '6' });
    expect(code).toContain('_asyncToGenerator(function* ()');
    expect(await run(code)).toEqual(expected);
  });

  test(`today's Babel (${babel.version}) for Internet Explorer 11: _regenerator`, async () => {
    const code = compile({ ie: '11' });
    expect(code).toContain('_regenerator().m(function _callee');
    expect(await run(code)).toEqual(expected);
  });

  test('with @babel/plugin-transform-runtime: helpers and regenerator-runtime imported from @babel/runtime', async () => {
    const code = babel.transformSync(source, {
      filename: 'workers.src.js',
      configFile: false,
      babelrc: false,
      presets: [['@babel/preset-env', { targets: { ie: '11' } }]],
      plugins: ['@babel/plugin-transform-runtime'],
    }).code;
    expect(code).toContain('(0, _asyncToGenerator2.default)(');
    expect(code).toContain('_regenerator.default.mark(function _callee');
    expect(await run(code)).toEqual(expected);
  });

  test("with @babel/plugin-transform-runtime for today's @babel/runtime: the regenerator helper imported", async () => {
    const code = babel.transformSync(source, {
      filename: 'workers.src.js',
      configFile: false,
      babelrc: false,
      presets: [['@babel/preset-env', { targets: { ie: '11' } }]],
      plugins: [['@babel/plugin-transform-runtime', { version: require('@babel/runtime/package.json').version }]],
    }).code;
    expect(code).toContain('(0, _regenerator2.default)().m(function _callee');
    expect(await run(code)).toEqual(expected);
  });

  test('Babel 7.20 output: _regeneratorRuntime()', async () => {
    const code = fs.readFileSync(fixture('source', 'compiled', 'babel-7.20.12-ie11.js'), 'utf8');
    expect(code).toContain('_regeneratorRuntime().mark(function _callee');
    expect(await run(code)).toEqual(expected);
  });

  test('Babel 7.17 output: the regeneratorRuntime global', async () => {
    const code = fs.readFileSync(fixture('source', 'compiled', 'babel-7.17.12-ie11.js'), 'utf8');
    expect(code).toContain('regeneratorRuntime.mark(function _callee');
    expect(code).not.toContain('_regeneratorRuntime');
    expect(await run(code)).toEqual(expected);
  });
});
