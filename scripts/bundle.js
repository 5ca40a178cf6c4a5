'use strict';
// Builds dist/proclet.js: the parent side of proclet (lib/, entry lib/index.js) as one CommonJS
// file, which index.js loads. One file instead of ~25 modules: Node's loader resolves, reads and
// wraps one module, so `require('proclet')` is faster, and it no longer runs its path
// normalization often enough for V8 to optimize it, which paged TurboFan's code into every parent
// that used proclet (README, Performance: "Where the idle pool's RSS goes").
//
//   node scripts/bundle.js     (part of `npm run build`; Jest's globalSetup and bench/run.js run
//                               it too, so they never load a stale bundle)
//
// Not minified: stack traces through proclet stay legible (function names, one statement a line).
// Left out of the bundle, and required from where they are when used:
// - acorn and acorn-walk (dependencies, loaded on first parse) and the `.node` addon;
// - LAZY below: large modules that most programs never load. The bundle's source text is kept in
//   memory for as long as the process lives (a one-byte string in V8's large-object space), so a
//   module in it costs its size in RSS whether or not it ever runs; required from lib/, it costs
//   nothing until used. lib/source/helpers.js (generated, ~110 KB of compiler helpers) is needed
//   only for a function compiled by Babel, TypeScript, esbuild or SWC that uses one. The other
//   lazily required modules (lib/script.js, lib/source/coverage.js, lib/shared/structured.js) are
//   small and share modules with the rest: they stay in the bundle, which keeps one instance of
//   each module (a second copy of lib/shared/errors.js would come with them otherwise).
//
// The bundle lives one folder below the package root, as lib/ does, so a module that finds the
// root from its own `__dirname` (lib/root.js) finds it from either.

const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const ENTRY = path.join(root, 'lib', 'index.js');
const OUTFILE = path.join(root, 'dist', 'proclet.js');

/** Modules kept out of the bundle: required from lib/ when used (absolute paths). */
const LAZY = [path.join(root, 'lib', 'source', 'helpers.js')];

/** Marks the LAZY modules external, with the path from the bundle's folder to their file. */
const lazyModules = {
  name: 'proclet-lazy-modules',
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind !== 'require-call') return undefined;
      const file = LAZY.find((f) => f === path.resolve(args.resolveDir, args.path) || f === path.resolve(args.resolveDir, `${args.path}.js`));
      if (file === undefined) return undefined;
      const relative = path.relative(path.dirname(OUTFILE), file).split(path.sep).join('/');
      return { path: relative.startsWith('.') ? relative : `./${relative}`, external: true };
    });
  },
};

/** The esbuild options; `outfile` defaults to dist/proclet.js. */
function options(outfile = OUTFILE) {
  return {
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['acorn', 'acorn-walk', '*.node'],
    plugins: [lazyModules],
    minify: false,
    keepNames: false,
    legalComments: 'inline',
    logLevel: 'warning',
    banner: { js: '// proclet: lib/ bundled by scripts/bundle.js (generated; edit lib/ and run `npm run build`).' },
  };
}

/**
 * Fails when the bundle names a class or function otherwise than lib/ does: stack traces and
 * `.name` show the bundle's names. esbuild renames one that collides with a name at the bundle's
 * top level (Proclet2), and writes a class declaration as `var X = class _X {...}` when the body
 * names X (then `X.name` is "_X").
 */
function checkNames(bundled, metafile) {
  const declared = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    for (const name of namesIn(fs.readFileSync(path.join(root, input), 'utf8'))) declared.add(name);
  }
  // esbuild's own helpers (__commonJS's __require) are named so.
  const renamed = new Set(namesIn(bundled).filter((name) => !declared.has(name) && !name.startsWith('__')));
  if (renamed.size > 0) {
    throw new Error(`the bundle renames ${[...renamed].join(', ')}: give lib/index.js no top-level names, and do not name a class inside its own body`);
  }
}

/** The names of the classes and functions `source` declares, and of `var X = class ...` (acorn). */
function namesIn(source) {
  const acorn = require('acorn');
  const walk = require('acorn-walk');
  const names = [];
  const named = (node) => {
    if (node.id) names.push(node.id.name);
  };
  walk.simple(acorn.parse(source, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true }), {
    ClassDeclaration: named,
    ClassExpression: named,
    FunctionDeclaration: named,
    FunctionExpression: named,
    VariableDeclarator(node) {
      if (node.init && node.init.type === 'ClassExpression' && node.id.type === 'Identifier') names.push(node.id.name);
    },
  });
  return names;
}

/**
 * Builds dist/proclet.js; resolves with its path. The file is replaced with a rename, and only
 * when its content changes: a process loading it meanwhile (another Jest run) never sees half a
 * file.
 */
async function bundle() {
  if (path.dirname(path.dirname(OUTFILE)) !== root) throw new Error('the bundle must be one folder below the package root (lib/root.js)');
  const esbuild = require('esbuild');
  const result = await esbuild.build({ ...options(), write: false, metafile: true });
  const [output] = result.outputFiles;
  checkNames(output.text, result.metafile);
  const text = Buffer.from(output.contents);
  let current = null;
  try {
    current = fs.readFileSync(OUTFILE);
  } catch {}
  if (current === null || !current.equals(text)) {
    fs.mkdirSync(path.dirname(OUTFILE), { recursive: true });
    const temporary = `${OUTFILE}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, text);
    fs.renameSync(temporary, OUTFILE);
  }
  return OUTFILE;
}

module.exports = { bundle, options, ENTRY, OUTFILE, LAZY };

if (require.main === module) {
  bundle().then(
    (file) => console.log(`${path.relative(root, file)}: ${fs.statSync(file).size} bytes`),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
