'use strict';
// Worker functions, handlers and methods compiled by today's TypeScript runners and compilers,
// outside Jest: run with tsx (esbuild with keepNames: __name, __decorateClass ...), compiled by
// esbuild for ES2016 and ES2020 (__async, __spreadValues, __objRest, __publicField, __privateGet,
// __asyncGenerator, __forAwait ...) and by @swc/core for ES2016 and ES5, helpers inline and from
// @swc/helpers (_async_to_generator, _object_spread, _ts_decorate, _class_private_field_get ...).
// The fixture is compiled once, by the tools themselves; every output must print what tsx does.

const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');
const swc = require('@swc/core');
const { runNode, fixture } = require('../helpers');

const root = path.join(__dirname, '..', '..');
const file = fixture('source', 'modern', 'workers.ts');
const tsconfig = fixture('source', 'modern', 'tsconfig.json');
const source = fs.readFileSync(file, 'utf8');
const expected = JSON.parse(fs.readFileSync(fixture('source', 'modern', 'expected.json'), 'utf8'));

/** Runs compiled code as a script in the repository (where `proclet` and @swc/helpers resolve). */
async function run(code) {
  const result = await runNode(['-'], { input: code, cwd: root });
  expect({ stderr: result.stderr, code: result.code, hung: result.hung }).toEqual({ stderr: '', code: 0, hung: false });
  return JSON.parse(result.stdout);
}

const byEsbuild = (target) =>
  esbuild.transformSync(source, {
    loader: 'ts',
    format: 'cjs',
    platform: 'node',
    target,
    keepNames: true,
    sourcefile: file,
    tsconfigRaw: { compilerOptions: { experimentalDecorators: true } },
  }).code;

const bySwc = (target, externalHelpers) =>
  swc.transformSync(source, {
    filename: file,
    swcrc: false,
    jsc: { parser: { syntax: 'typescript', decorators: true }, target, externalHelpers, transform: { legacyDecorator: true } },
    module: { type: 'commonjs' },
  }).code;

test('the expected results are what the workers mean', () => {
  const [plain, async, arrow, decorated, handled, method, failure] = expected;
  expect(plain.messages).toEqual([{ cube: 8, name: 'cube', point: { x: 1, y: 5, origin: 'zero', name: 'Point' }, a: 1, rest: { b: 2, c: 3, d: 4 } }]);
  expect(async.messages).toEqual([{ seen: [1, 2, 3], later: 'later' }]);
  expect(arrow.messages).toEqual(['async arrow']);
  expect(decorated.messages).toEqual([{ registry: ['Service', 'add(2, 3)'], sum: 5 }]);
  expect(handled.messages).toEqual([{ squared: 4, tag: 'two' }, { squared: 9 }]);
  expect(method.messages).toEqual([{ called: { label: '<x>', count: 1, keys: ['a', 'b', 'extra'] } }]);
  expect(failure.errors).toEqual(['RangeError: async failure']);
  for (const result of [plain, async, arrow, decorated, handled, failure]) expect(result.code).toBe(failure === result ? 1 : 0);
  for (const result of [plain, async, arrow, decorated, handled, method]) expect(result.errors).toEqual([]);
});

test('tsx: the TypeScript file run as it is (keepNames: __name; __decorateClass)', async () => {
  const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const result = await runNode([tsx, '--tsconfig', tsconfig, file], { cwd: root, timeoutMs: 60000 });
  expect({ stderr: result.stderr, code: result.code }).toEqual({ stderr: '', code: 0 });
  expect(JSON.parse(result.stdout)).toEqual(expected);
});

describe('esbuild', () => {
  test('target ES2016: __async, __objRest, __spreadValues, __publicField, __privateGet, __asyncGenerator, __forAwait, exports for this', async () => {
    const code = byEsbuild('es2016');
    for (const helper of ['__name(cube', '__async(this, null, function* ()', '__objRest(', '__spreadValues(', '__publicField(', '__privateGet(', '__asyncGenerator(', 'new __await(', '__forAwait(', '__decorateClass(', '__async(exports, null']) {
      expect(code).toContain(helper);
    }
    expect(await run(code)).toEqual(expected);
  });

  test('target ES2020: __name, __decorateClass, class fields lowered', async () => {
    const code = byEsbuild('es2020');
    expect(code).toContain('__name(cube');
    expect(code).toContain('__decorateClass(');
    expect(await run(code)).toEqual(expected);
  });
});

describe('SWC (@swc/core)', () => {
  test('target ES2016, helpers inline: _async_to_generator, _object_spread, _ts_decorate, _class_private_field_get', async () => {
    const code = bySwc('es2016', false);
    for (const helper of ['function _async_to_generator(', '_object_spread(', '_object_without_properties(', '_ts_decorate(', '_class_private_field_get(', '_wrap_async_generator(', '.call(void 0)']) {
      expect(code).toContain(helper);
    }
    expect(await run(code)).toEqual(expected);
  });

  test('target ES2016, externalHelpers: the helpers from @swc/helpers (_async_to_generator._)', async () => {
    const code = bySwc('es2016', true);
    expect(code).toContain('require("@swc/helpers/_/_async_to_generator")');
    expect(code).toContain('_async_to_generator._(function*');
    expect(code).toContain('_ts_decorate._(');
    expect(await run(code)).toEqual(expected);
  });

  test('target ES5: _ts_generator, _create_class, _class_call_check', async () => {
    const code = bySwc('es5', false);
    expect(code).toContain('_ts_generator(this, function(_state)');
    expect(await run(code)).toEqual(expected);
  });
});
