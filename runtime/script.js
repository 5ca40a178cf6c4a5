'use strict';
// Script workers (API.md section 1): the INIT frame names a module file (an absolute path,
// resolved in the parent from the file that created the Proclet), and the runtime loads that
// file itself, with Node's own require() or import(): the module runs from its own file, so its
// stack traces, source maps and coverage are the file's, and nothing of it is copied into the
// cache. A module whose export is a function is called like a function worker.

const fs = require('fs');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');

/**
 * Whether Node loads `file` as an ES module: `.mjs`, or `.js` under a package.json whose "type"
 * is "module" (the nearest one, as Node looks it up). Anything else is loaded with require(),
 * which on Node 22+ also loads an ES module by syntax detection.
 */
function isModule(file) {
  const extension = path.extname(file);
  if (extension === '.mjs' || extension === '.mts') return true;
  if (extension !== '.js' && extension !== '.ts') return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    let text;
    try {
      text = fs.readFileSync(path.join(dir, 'package.json'), 'utf8');
    } catch {
      if (dir === path.dirname(dir) || path.basename(dir) === 'node_modules') return false;
      continue;
    }
    try {
      return JSON.parse(text).type === 'module';
    } catch {
      return false;
    }
  }
}

/**
 * The function a module exports, or null: `module.exports` itself, or the default export (of an
 * ES module, or of CommonJS compiled from one, `exports.default` with `__esModule`).
 */
function exportedFunction(exports) {
  if (typeof exports === 'function') return exports;
  if (exports === null || typeof exports !== 'object') return null;
  if ((util.types.isModuleNamespaceObject(exports) || exports.__esModule === true) && typeof exports.default === 'function') {
    return exports.default;
  }
  return null;
}

/**
 * Loads `file` and hands its exported function (or null) to `run`: synchronously for CommonJS,
 * so the module and the worker run in the script's first tick, as a function worker does; after
 * import() for an ES module. Returns the import's promise (rejected with what loading threw), or
 * undefined; a CommonJS module that throws throws out of here.
 */
function loadScript(file, run) {
  // process.argv[1] names the module, as with `node file` and child_process.fork().
  process.argv[1] = file;
  if (isModule(file)) return import(pathToFileURL(file).href).then((namespace) => run(exportedFunction(namespace)));
  run(exportedFunction(require(file)));
  return undefined;
}

module.exports = { loadScript, isModule, exportedFunction };
