'use strict';
// The user's functions in the child: the worker and the handlers, compiled from their source with
// a require(), __filename and __dirname rooted at the file that created the Proclet, and called
// with `this` = the context.

const vm = require('vm');
const path = require('path');
const { createRequire } = require('module');
const { fileURLToPath } = require('url');
const errors = require('../lib/shared/errors');

/**
 * `caller`: absolute path or file: URL of the file that created the Proclet.
 * `lifetime`: runtime/lifetime.js; `coverage`: runtime/coverage.js.
 */
function createHandlers({ caller, context, lifetime, coverage }) {
  const callerFile = caller.startsWith('file:') ? fileURLToPath(caller) : caller;
  const callerDir = path.dirname(callerFile);
  const userRequire = createRequire(callerFile);
  const handlers = [];
  // Messages that arrived while no handler existed wait for the first one, in order, as Node's
  // IPC channel holds messages until a 'message' listener appears.
  let held = [];

  /** Registers a handler from its shipped form `{ event, source, method }`. */
  function add({ source, method }) {
    handlers.push(materialize(compile(source, method), method, "child.on('message', handler)"));
    lifetime.setHandlerCount(handlers.length);
    if (held.length === 0) return;
    const waiting = held;
    held = [];
    for (const message of waiting) {
      deliver(message);
      if (lifetime.closing) return;
    }
  }

  // A handler that throws is an uncaught exception, as usual; but it must not unwind through
  // the reader and abandon a half-parsed read (a user's 'uncaughtException' listener keeps the
  // child running). Without such a listener, the fatal path reports it and dispatching stops.
  function deliver(message) {
    if (handlers.length === 0) {
      held.push(message);
      return;
    }
    for (const handler of handlers) {
      try {
        handler.call(context, message);
      } catch (error) {
        lifetime.handlerThrew(error);
      }
      if (lifetime.closing) return;
    }
  }

  function compile(source, method) {
    coverage.provide(source);
    const body = method ? `return ({\n${source}\n});` : `return (\n${source}\n);`;
    return vm.compileFunction(body, ['require', '__filename', '__dirname'], {
      filename: callerFile,
      importModuleDynamically: dynamicImportLoader(source),
    });
  }

  // Evaluates a factory with `this` = context and returns the function it produces.
  function materialize(factory, method, operation) {
    let value = factory.call(context, userRequire, callerFile, callerDir);
    if (method) {
      const descriptor = Object.getOwnPropertyDescriptor(value, Reflect.ownKeys(value)[0]);
      value = descriptor.value || descriptor.get || descriptor.set;
    }
    if (typeof value !== 'function') throw errors.notAFunction(operation);
    return value;
  }

  /** Runs the worker (its factory is in the cached script) with `args`. */
  function runWorker(factory, method, args) {
    const factorySource = Function.prototype.toString.call(factory);
    coverage.provide(factorySource);
    const loader = dynamicImportLoader(factorySource);
    if (loader !== undefined) {
      // The same factory, compiled again so that its import() resolves from the caller's file.
      factory = vm.compileFunction(`return ${factorySource}`, [], { filename: callerFile, importModuleDynamically: loader })();
    }
    lifetime.started();
    const worker = materialize(factory, method, 'new Proclet(fn)');
    const result = worker.apply(context, args);
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      result.then(undefined, (error) => lifetime.fatal(error, 'unhandledRejection'));
    }
  }

  return { add, deliver, runWorker };
}

// Dynamic import(): resolved from the file that created the Proclet, like require(). A source
// that contains `import(` is compiled (vm.compileFunction, with that file as its filename) with
// vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER, which hands import() to Node's own ESM loader
// with the filename as the referrer: ESM and CommonJS targets, relative paths, packages with
// "exports" conditions and import attributes all resolve exactly as in that file. The
// alternative, an importModuleDynamically callback, needs --experimental-vm-modules on Node 20
// and would have to reimplement ESM resolution; the cached script's own import() resolves from
// the cache directory. Without the constant (Node before 20.12) import() stays unavailable in
// handlers and resolves from the cache directory in the worker.
//
// Node 20 and 22 flag the constant as experimental with a warning on its first use. The use is
// proclet's, not the user's, so that one warning is consumed here, synchronously, before any
// user code can import anything; other warnings are untouched.
const mainContextLoader = vm.constants && vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER;
let loaderWarningConsumed = false;

function dynamicImportLoader(source) {
  if (mainContextLoader === undefined || !/\bimport\s*\(/.test(source)) return undefined;
  if (!loaderWarningConsumed) {
    loaderWarningConsumed = true;
    const emitWarning = process.emitWarning;
    process.emitWarning = function (warning, ...rest) {
      const text = warning && typeof warning === 'object' ? warning.message : warning;
      if (typeof text === 'string' && text.includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) return;
      return emitWarning.call(this, warning, ...rest);
    };
    try {
      vm.compileFunction("return import('node:path')", [], { importModuleDynamically: mainContextLoader })().catch(() => {});
    } catch {
    } finally {
      process.emitWarning = emitWarning;
    }
  }
  return mainContextLoader;
}

module.exports = { createHandlers };
