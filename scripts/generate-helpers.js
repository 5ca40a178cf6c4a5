'use strict';
// Writes lib/source/helpers.js: the helper functions that Babel and TypeScript put at the top of a
// compiled file (`_asyncToGenerator`, `__awaiter`, ...), one entry per top-level declaration, so
// that proclet can ship the few a function refers to along with its source (lib/source/index.js).
//
//   node scripts/generate-helpers.js [FILE]           writes FILE (package-root relative; default HELPERS_FILE)
//   node scripts/generate-helpers.js --check [FILE]   exits 1 if FILE differs from what it would write
//
// Dev dependencies: @babel/core, tslib.
//
// Babel helpers are taken exactly as Babel inlines them into a file, under the names it gives
// them there (`_objectSpread` for the objectSpread2 helper, `_regeneratorDefine2`, ...).
// TypeScript helpers are tslib's (the same code `tsc` inlines, as a library). Internal names
// (`ownKeys`, `asyncGeneratorStep`, ...) are prefixed (`__tslib_`, `__babel_`): only helper names
// are looked up in a shipped source, and internals must not meet the source's own variables.
// Decorator helpers are left out: large, and a decorated class inside a shipped function is
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

const text = `'use strict';
// GENERATED by scripts/generate-helpers.js from @babel/helpers ${babelVersion} and tslib ${tslibVersion}.
// Do not edit; regenerate instead.
//
// Helper functions that Babel and TypeScript place at the top of a compiled file. lib/source/index.js
// ships the ones a function refers to along with its source, because the file they were declared
// in does not exist in the child process.
//
// Babel helpers: Copyright (c) 2014-present Sebastian McKenzie and other contributors, MIT
// License (https://github.com/babel/babel/blob/main/LICENSE); the regenerator runtime in them:
// Copyright (c) 2014-present, Facebook, Inc., MIT License.
// tslib: Copyright (c) Microsoft Corporation, 0BSD License (https://github.com/microsoft/tslib).

/** @type {Record<string, { code: string, deps: string[] }>} Babel's, by the name Babel inlines them under. */
exports.babel = ${JSON.stringify(babelTable, null, 1)};

/** @type {Record<string, { code: string, deps: string[] }>} tslib's, by name (\`__awaiter\`, ...). */
exports.tslib = ${JSON.stringify(tslibTable, null, 1)};
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
    `wrote ${path.relative(root, out)}: ${Object.keys(babelTable).length} Babel and ${Object.keys(tslibTable).length} tslib declarations, ${text.length} bytes`,
  );
}
