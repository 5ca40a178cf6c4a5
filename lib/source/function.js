'use strict';
// A function as source text: what can be shipped to another process, and where it was written.

const path = require('path');
const util = require('util');
const errors = require('../shared/errors');
const { sourceHint } = require('./index');
const { callSites } = require('./location');
const root = require('../root');

const FUNCTION_HINT =
  'Pass a function written in JavaScript source (a declaration, expression, arrow, async function or method); ' +
  'it runs in a separate process, so give it data through messages, not through its scope.';

/**
 * Returns the source of `fn` and whether it is method shorthand, or throws a TypeError
 * (ERR_PROCLET_INVALID_FUNCTION) for what cannot be shipped to another process as source.
 */
function functionSource(fn, operation) {
  if (typeof fn !== 'function') {
    throw errors.invalidFunction(operation, fn === undefined ? 'nothing' : errors.describeValue(fn), FUNCTION_HINT);
  }
  if (util.types.isProxy(fn)) {
    throw errors.invalidFunction(operation, 'a Proxy', 'A Proxy has no source of its own: pass the function it wraps.');
  }
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}$/.test(source)) {
    const bound = fn.name.startsWith('bound ');
    throw errors.invalidFunction(
      operation,
      bound ? `a bound function (${fn.name})` : `a native function (${fn.name || 'anonymous'})`,
      bound
        ? 'Bound functions have no source to run elsewhere: pass the original function and send what you bound as a message.'
        : 'Built-in functions have no JavaScript source: wrap the call in a function of your own.',
    );
  }
  // The kind of function, from the engine (`function*`, `async function*`, generator methods), or
  // from its toStringTag for the generators that regenerator (Babel for old targets) makes of them.
  const tag = Object.prototype.toString.call(fn);
  if (util.types.isGeneratorFunction(fn) || tag === '[object GeneratorFunction]' || tag === '[object AsyncGeneratorFunction]') {
    const isAsync = util.types.isAsyncFunction(fn) || tag === '[object AsyncGeneratorFunction]';
    throw errors.generatorFunction(operation, `${isAsync ? 'an async generator function' : 'a generator function'} (${fn.name || 'anonymous'})`);
  }
  if (/^class\b(?!\s*\()/.test(source)) {
    throw errors.invalidFunction(
      operation,
      `a class (${fn.name || 'anonymous'})`,
      'Pass a function instead: define the class inside it, or require() the module that exports the class there.',
    );
  }
  // Compile without running: is the source an expression on its own, or method shorthand?
  try {
    new Function(`return (\n${source}\n);`);
    return { source, method: false };
  } catch {}
  try {
    new Function(`return ({\n${source}\n});`);
    return { source, method: true };
  } catch {}
  throw errors.invalidFunction(
    operation,
    `a function whose source cannot be turned back into a function (${util.inspect(source.slice(0, 60))})`,
    sourceHint(source) || FUNCTION_HINT,
  );
}

/**
 * The file that called into proclet (the first frame below this call outside proclet's own files
 * and Node's): `require()` in the child resolves from there. Absolute path or file: URL.
 */
function callerFile() {
  const [site] = callSites(callerFile, ownFile);
  // REPL, `node -e`: resolve from the working directory.
  return site === undefined ? path.join(process.cwd(), '[proclet]') : site.file;
}

/** Whether `file` is one of proclet's own, for the package at `own`: its entry, the bundle, lib/. */
function isOwnFile(file, own) {
  if (file === path.join(own, 'index.js')) return true;
  return ['dist', 'lib'].some((folder) => file.startsWith(path.join(own, folder) + path.sep));
}

/** Whether `file` (a path or file: URL from a stack frame) is one of proclet's own. */
function ownFile(file) {
  return path.isAbsolute(file) && isOwnFile(file, root);
}

module.exports = { functionSource, callerFile, isOwnFile: ownFile };
