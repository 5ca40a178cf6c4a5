'use strict';
// Writes lib/source/helpers.js: the helper functions that Babel, TypeScript, esbuild (and so tsx)
// and SWC put at the top of a compiled file (`_asyncToGenerator`, `__awaiter`, `__name`, `__async`,
// `_async_to_generator`, ...), one entry per top-level declaration, so that proclet can ship the
// few a function refers to along with its source (lib/source/index.js).
//
//   node scripts/generate-helpers.js [FILE]           writes FILE (package-root relative; default HELPERS_FILE)
//   node scripts/generate-helpers.js --check [FILE]   exits 1 if FILE differs from what it would write
//
// Dev dependencies: @babel/core, tslib, esbuild, @swc/helpers (each pinned: a new version
// regenerates the file, and CI checks that it was).
//
// Babel helpers are taken exactly as Babel inlines them into a file, under the names it gives
// them there (`_objectSpread` for the objectSpread2 helper, `_regeneratorDefine2`, ...).
// TypeScript helpers are tslib's (the same code `tsc` inlines, as a library). Internal names
// (`ownKeys`, `asyncGeneratorStep`, ...) are prefixed (`__tslib_`, `__babel_`): only helper names
// are looked up in a shipped source, and internals must not meet the source's own variables.
// esbuild has no list of its helpers (they live in its binary's runtime): they are taken from
// what esbuild itself emits for snippets that use every lowered feature (ESBUILD_SNIPPETS), at
// the targets that lower them. SWC's are @swc/helpers' own modules (the code SWC inlines too).
// Babel's decorator helpers are left out: large, and a decorated class inside a shipped function is
// rare (such a function then gets proclet's explanation that the helper is missing).

// The generated file, relative to the package root (.ci/run names it too).
const HELPERS_FILE = 'lib/source/helpers.js';

const fs = require('fs');
const path = require('path');
const babel = require('@babel/core');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const out = path.resolve(root, args.find((a) => a !== '--check') ?? HELPERS_FILE);

const babelVersion = require('@babel/helpers/package.json').version;
const tslibVersion = require('tslib/package.json').version;
const esbuild = require('esbuild');
const swcHelpersVersion = require('@swc/helpers/package.json').version;
const { default: babelHelpers } = require('@babel/helpers/lib/helpers-generated.js');

const LEFT_OUT = /^(applyDecs|applyDecoratedDescriptor|decorate$|initializerDefineProperty|initializerWarningHelper)/;

/**
 * Top-level declarations of a program: [{ names, code }]. A statement that is not a declaration
 * (`AsyncGenerator.prototype.next = ...`) belongs to the declaration before it.
 */
function declarations(code) {
  const ast = babel.parseSync(code, { configFile: false, babelrc: false, sourceType: 'script' });
  const result = [];
  for (const node of ast.program.body) {
    const text = code.slice(node.start, node.end);
    if (node.type === 'FunctionDeclaration') result.push({ names: [node.id.name], code: text });
    else if (node.type === 'VariableDeclaration') result.push({ names: node.declarations.map((d) => d.id.name), code: text });
    else if (node.type === 'ExpressionStatement' && result.length > 0) result[result.length - 1].code += `\n${text}`;
    else if (node.type === 'EmptyStatement') continue;
    else throw new Error(`unexpected top-level ${node.type} in ${code.slice(0, 80)}`);
  }
  return result;
}

/**
 * Renames the top-level bindings of `code` that do not start with `keep` to `prefix` + name:
 * helper-internal names (`ownKeys`, `set`, `id`, `asyncGeneratorStep`) could otherwise meet a
 * variable of the shipped function, and only helper names are ever looked up in the source.
 */
function privateNames(code, keep, prefix) {
  return babel.transformSync(code, {
    configFile: false,
    babelrc: false,
    sourceType: 'script',
    compact: true,
    comments: true,
    plugins: [
      () => ({
        visitor: {
          Program(p) {
            for (const name of Object.keys(p.scope.bindings)) {
              if (!name.startsWith(keep)) p.scope.rename(name, prefix + name.replace(/^_+/, ''));
            }
          },
        },
      }),
    ],
  }).code;
}

function collectBabel() {
  const table = new Map(); // name -> code
  const order = Object.keys(babelHelpers);
  // Current helpers first: where a legacy helper inlines under the same name (objectSpread and
  // objectSpread2 are both `_objectSpread`), today's Babel output means the current one.
  const legacyStart = order.indexOf('AwaitValue');
  for (const [i, name] of order.entries()) {
    if (LEFT_OUT.test(name)) continue;
    let code;
    try {
      code = babel.transformSync('', {
        configFile: false,
        babelrc: false,
        sourceType: 'script',
        compact: false,
        comments: true,
        plugins: [
          () => ({
            visitor: {
              Program(p, state) {
                if (state.done) return;
                state.done = true;
                const id = state.file.addHelper(name);
                p.pushContainer('body', babel.types.expressionStatement(id));
              },
            },
          }),
        ],
      }).code;
    } catch (error) {
      if (error.code === 'BABEL_HELPER_UNKNOWN' || /internal/i.test(error.message)) continue;
      throw error;
    }
    const decls = declarations(privateNames(code.replace(/\n[^\n]*;\s*$/, '\n'), '_', '__babel_'));
    for (const decl of decls) {
      for (const n of decl.names) {
        const existing = table.get(n);
        if (existing === undefined) table.set(n, decl.code);
        else if (existing !== decl.code && i < legacyStart) {
          throw new Error(`two current Babel helpers declare ${n} differently`);
        }
      }
    }
  }
  return table;
}

function collectTslib() {
  const file = require.resolve('tslib/tslib.es6.js');
  const source = fs.readFileSync(file, 'utf8');
  const renamed = babel.transformSync(source, {
    configFile: false,
    babelrc: false,
    sourceType: 'module',
    comments: false,
    plugins: [
      () => ({
        visitor: {
          ExportDefaultDeclaration(p) {
            p.remove();
          },
          ExportNamedDeclaration(p) {
            if (p.node.declaration) p.replaceWith(p.node.declaration);
            else p.remove();
          },
        },
      }),
    ],
  }).code;
  const table = new Map();
  for (const decl of declarations(privateNames(renamed, '__', '__tslib_'))) for (const n of decl.names) table.set(n, decl.code);
  return table;
}

// Snippets whose esbuild output declares every helper esbuild has for code inside a function:
// [options, code]. `loader` defaults to 'ts', `format` to 'cjs'.
const ESBUILD_SNIPPETS = [
  // keepNames (tsx compiles with it): __name; es2016: async functions (__async), super in them.
  [{ target: 'es2016', keepNames: true }, 'class A extends B { async m() { super.x = 1; return super.x + super.y(); } }; function f() {}'],
  // es2017: async generators, for await, object rest and spread.
  [{ target: 'es2017' }, 'async function* g() { yield 1; yield* [2]; await 3; for await (const x of y); } const { a, ...r } = { ...o, b }; function h({ c, ...d }) {}'],
  // es2015: `**`.
  [{ target: 'es2015' }, 'let e = 2 ** 3; e **= 2;'],
  // es2020: class fields, private members, static blocks, `#x in y`.
  [{ target: 'es2020' }, 'class C { x = 1; static y = 2; #z = 3; #m() {} static #s = 1; get #g() { return 1; } set #g(v) {} static { C.#s++; } n() { this.#m(); this.#z++; this.#g = this.#g; [this.#z] = [1]; return #z in this; } }'],
  // TypeScript's experimentalDecorators (the decorators of Angular, NestJS, TypeORM...): __decorateClass, __decorateParam.
  [{ target: 'es2022', tsconfigRaw: { compilerOptions: { experimentalDecorators: true } } }, 'function dec(...a: any[]) {} @dec class D { @dec m(@dec p: any) {} @dec x = 1; }'],
  // JavaScript (TC39) decorators.
  [{ target: 'es2022', loader: 'js' }, 'function dec() {} @dec class E { @dec m() {} @dec static s() {} @dec accessor x = 1; @dec #p() {} @dec get g() { return 1; } @dec set g(v) {} @dec f = 1; }'],
  // `using` and `await using`; import() for a Node without it (a require() then).
  [{ target: 'es2022' }, 'async function u() { using a = b; await using c = d; }'],
  [{ target: 'node12', platform: 'node' }, 'const i = (m: string) => import(m);'],
];

/** esbuild's helpers, as esbuild emits them (var declarations of arrow functions, mostly). */
function collectEsbuild() {
  const table = new Map();
  for (const [options, code] of ESBUILD_SNIPPETS) {
    const output = esbuild.transformSync(code, { loader: 'ts', format: 'cjs', platform: 'neutral', ...options }).code;
    const ast = babel.parseSync(output, { configFile: false, babelrc: false, sourceType: 'module' });
    for (const node of ast.program.body) {
      if (node.type !== 'VariableDeclaration' || node.declarations.length !== 1) continue;
      const name = node.declarations[0].id.name;
      if (!name || !name.startsWith('__')) continue;
      const text = output.slice(node.start, node.end).replace(/\/\* @__PURE__ \*\/ /g, '');
      const existing = table.get(name);
      if (existing !== undefined && existing !== text) throw new Error(`esbuild declares ${name} differently in two snippets`);
      table.set(name, text);
    }
  }
  return table;
}

// Left out of SWC's, as of Babel's: the large decorator helpers (TypeScript's `_ts_decorate` stays).
const SWC_LEFT_OUT = /^_(apply_decs|apply_decorated_descriptor|decorate$|initializer_define_property|initializer_warning_helper)/;

/** SWC's helpers from @swc/helpers' ES modules (`function _x() {...} export { _x as _ };`). */
function collectSwc() {
  const dir = path.join(path.dirname(require.resolve('@swc/helpers/package.json')), 'esm');
  const table = new Map();
  for (const file of fs.readdirSync(dir).sort()) {
    const name = path.basename(file, '.js');
    if (!/^_[a-z0-9_]+$/.test(name) || SWC_LEFT_OUT.test(name)) continue;
    const source = fs.readFileSync(path.join(dir, file), 'utf8');
    const script = babel.transformSync(source, {
      configFile: false,
      babelrc: false,
      sourceType: 'module',
      comments: false,
      plugins: [
        () => ({
          visitor: {
            ImportDeclaration(p) {
              // import { _ as _define_property } from "./_define_property.js": the helper of that name.
              const [specifier] = p.node.specifiers;
              const from = path.basename(p.node.source.value, '.js');
              if (p.node.specifiers.length !== 1 || specifier.local.name !== from) throw new Error(`${file}: unexpected import`);
              p.remove();
            },
            ExportNamedDeclaration(p) {
              const [specifier] = p.node.specifiers;
              if (p.node.declaration || !specifier || specifier.local.name !== name) throw new Error(`${file}: unexpected export`);
              p.remove();
            },
          },
        }),
      ],
    }).code;
    for (const decl of declarations(privateNames(script, '_', '__swc_'))) {
      for (const n of decl.names) {
        const existing = table.get(n);
        if (existing !== undefined && existing !== decl.code) throw new Error(`two @swc/helpers modules declare ${n} differently`);
        table.set(n, decl.code);
      }
    }
  }
  return table;
}

/** name -> { code, deps }: deps are the other names of the same table that code refers to. */
function withDependencies(table) {
  const names = [...table.keys()];
  const result = {};
  for (const [name, code] of table) {
    const deps = names.filter((other) => other !== name && new RegExp(`(?<![\\w$.])${other.replace(/\$/g, '\\$')}(?![\\w$])`).test(code));
    result[name] = { code, deps };
  }
  return result;
}

const babelTable = withDependencies(collectBabel());
const tslibTable = withDependencies(collectTslib());
const esbuildTable = withDependencies(collectEsbuild());
const swcTable = withDependencies(collectSwc());

const text = `'use strict';
// GENERATED by scripts/generate-helpers.js from @babel/helpers ${babelVersion}, tslib ${tslibVersion},
// esbuild ${esbuild.version} and @swc/helpers ${swcHelpersVersion}.
// Do not edit; regenerate instead.
//
// Helper functions that Babel, TypeScript, esbuild (tsx) and SWC place at the top of a compiled file. lib/source/index.js
// ships the ones a function refers to along with its source, because the file they were declared
// in does not exist in the child process.
//
// Babel helpers: Copyright (c) 2014-present Sebastian McKenzie and other contributors, MIT
// License (https://github.com/babel/babel/blob/main/LICENSE); the regenerator runtime in them:
// Copyright (c) 2014-present, Facebook, Inc., MIT License.
// tslib: Copyright (c) Microsoft Corporation, 0BSD License (https://github.com/microsoft/tslib).
// esbuild's runtime: Copyright (c) 2020 Evan Wallace, MIT License (https://github.com/evanw/esbuild).
// @swc/helpers: Copyright (c) 강동윤 and SWC contributors, Apache License 2.0
// (https://github.com/swc-project/swc/blob/main/LICENSE).

/** @type {Record<string, { code: string, deps: string[] }>} Babel's, by the name Babel inlines them under. */
exports.babel = ${JSON.stringify(babelTable, null, 1)};

/** @type {Record<string, { code: string, deps: string[] }>} tslib's, by name (\`__awaiter\`, ...). */
exports.tslib = ${JSON.stringify(tslibTable, null, 1)};

/** @type {Record<string, { code: string, deps: string[] }>} esbuild's (and so tsx's), by name (\`__name\`, \`__async\`, ...). */
exports.esbuild = ${JSON.stringify(esbuildTable, null, 1)};

/** @type {Record<string, { code: string, deps: string[] }>} SWC's (@swc/helpers), by name (\`_async_to_generator\`, ...). */
exports.swc = ${JSON.stringify(swcTable, null, 1)};
`;
if (check) {
  let current = null;
  try {
    current = fs.readFileSync(out, 'utf8');
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  if (current === text) {
    console.log(`${path.relative(root, out)} is up to date`);
  } else {
    console.log(`${path.relative(root, out)} ${current === null ? 'is missing' : 'differs from what scripts/generate-helpers.js generates'}: run node scripts/generate-helpers.js`);
    process.exitCode = 1;
  }
} else {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, text);
  console.log(
    `wrote ${path.relative(root, out)}: ${Object.keys(babelTable).length} Babel, ${Object.keys(tslibTable).length} tslib, ` +
      `${Object.keys(esbuildTable).length} esbuild and ${Object.keys(swcTable).length} SWC declarations, ${text.length} bytes`,
  );
}
