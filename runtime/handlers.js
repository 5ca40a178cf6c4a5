'use strict';
// The user's functions in the child: the worker, the handlers for messages and named events, and
// the exposed methods, compiled from their source with a require(), __filename and __dirname
// rooted at the file that created the Proclet, and called with `this` = the context.

const vm = require('vm');
const path = require('path');
const util = require('util');
const { createRequire } = require('module');
const { fileURLToPath } = require('url');
const errors = require('../lib/shared/errors');
const { HandlerTable } = require('../lib/shared/emitter');

/** The sender id handlers receive after an event's arguments: the parent. */
const FROM_PARENT = 0;

/**
 * `caller`: absolute path or file: URL of the file that created the Proclet; `options`:
 * `{ wildcard, delimiter }`; `useCalls()`: lib/shared/calls.js's Calls; `lifetime`, `coverage`:
 * runtime/.
 */
function createHandlers({ caller, options, useCalls, lifetime, coverage }) {
  const callerFile = caller.startsWith('file:') ? fileURLToPath(caller) : caller;
  const callerDir = path.dirname(callerFile);
  const userRequire = createRequire(callerFile);
  const table = new HandlerTable(options);
  let context = null;
  let exposed = 0;
  // Messages and events that arrived while nothing handled them wait for the first handler, in
  // order, as Node's IPC channel holds messages until a 'message' listener appears. They wait in
  // memory: the channel cannot stop being read, because the handler they wait for may be on its
  // way through it (README, Limits).
  let held = [];

  function hold(event, args, from) {
    held.push([event, args, from]);
  }

  function changed() {
    lifetime.setHandlerCount(table.size + exposed);
    if (held.length === 0) return;
    const waiting = held;
    held = [];
    for (let i = 0; i < waiting.length; i++) {
      const [event, args, from] = waiting[i];
      dispatch(event, args, from);
      if (lifetime.closing) return;
    }
  }

  const registry = {
    on(event, fn) {
      table.on(event, fn);
      changed();
    },
    off(event, fn) {
      table.off(event, fn);
      lifetime.setHandlerCount(table.size + exposed);
    },
    onAny(fn) {
      table.onAny(fn);
      changed();
    },
    expose(operation, methods) {
      useCalls().expose(operation, methods);
      exposed += Object.keys(methods).length;
      lifetime.setHandlerCount(table.size + exposed);
    },
  };

  /** Registers what the parent shipped: `{ type: 'on' | 'onAny' | 'expose', event?, name?, source, method }`. */
  function add(spec) {
    switch (spec.type) {
      case 'on':
        registry.on(spec.event, materialize(compile(spec.source, spec.method), spec.method, `child.on(${util.inspect(spec.event)}, handler)`));
        break;
      case 'onAny':
        registry.onAny(materialize(compile(spec.source, spec.method), spec.method, 'child.onAny(handler)'));
        break;
      case 'expose': {
        const operation = `child.expose({ ${spec.name} })`;
        registry.expose(operation, { [spec.name]: materialize(compile(spec.source, spec.method), spec.method, operation) });
        break;
      }
      default:
        throw errors.protocolFromParent(`a handler of unknown type ${JSON.stringify(spec.type)}`);
    }
  }

  // A handler that throws is an uncaught exception, as usual; but it must not unwind through
  // the reader and abandon a half-parsed read (a user's 'uncaughtException' listener keeps the
  // child running). Without such a listener, the fatal path reports it and dispatching stops.
  /**
   * Delivers a message to the 'message' handlers (and `onAny` ones): the hot path, no arrays.
   * `from`: the sender's id (0, the parent, or a peer's).
   */
  function dispatchMessage(message, from = FROM_PARENT) {
    const any = table.anyListeners;
    const listeners = table.listenersFor('message');
    if (any.length === 0 && listeners.length === 0) {
      hold('message', [message], from);
      return;
    }
    for (let i = 0; i < any.length; i++) {
      invoke(any[i], ['message', message, from]);
      if (lifetime.closing) return;
    }
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i].call(context, message, from);
      } catch (error) {
        lifetime.handlerThrew(error);
      }
      if (lifetime.closing) return;
    }
  }

  /** Delivers `event` (a message is the event 'message') with `args` to its handlers; `from` as above. */
  function dispatch(event, args, from = FROM_PARENT) {
    const any = table.anyListeners;
    const listeners = table.listenersFor(event);
    if (any.length === 0 && listeners.length === 0) {
      hold(event, args, from);
      return;
    }
    for (const handler of any) {
      invoke(handler, [event, ...args, from]);
      if (lifetime.closing) return;
    }
    for (const handler of listeners) {
      invoke(handler, [...args, from]);
      if (lifetime.closing) return;
    }
  }

  // A graceful stop (the parent's stop() or restart()): the 'stop' handlers run (and `onAny`
  // ones, which see every event), what they return is awaited, then the child closes with
  // code 0, delivering everything it sent. A handler may close with another code itself; one
  // that throws or rejects is an uncaught error (exit code 1). With no handler, the child closes
  // at once. The parent sends SIGKILL if this takes longer than its kill timeout.
  let stopping = false;
  function stop() {
    if (stopping || lifetime.closing) return;
    stopping = true;
    const waits = [];
    const run = (handler, args) => {
      let result;
      try {
        result = handler.apply(context, args);
      } catch (error) {
        lifetime.handlerThrew(error);
        return;
      }
      if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof result.then === 'function') {
        waits.push(Promise.resolve(result).then(undefined, (error) => lifetime.fatal(error, 'unhandledRejection')));
      }
    };
    for (const handler of table.anyListeners) {
      run(handler, ['stop', FROM_PARENT]);
      if (lifetime.closing) return;
    }
    for (const handler of table.listenersFor('stop')) {
      run(handler, [FROM_PARENT]);
      if (lifetime.closing) return;
    }
    if (waits.length === 0) {
      lifetime.shutdown(0);
      return;
    }
    // Alive while the handlers finish, whatever else holds the loop.
    lifetime.hold(1);
    Promise.all(waits).then(() => {
      lifetime.hold(-1);
      lifetime.shutdown(0);
    });
  }

  function invoke(handler, args) {
    try {
      handler.apply(context, args);
    } catch (error) {
      lifetime.handlerThrew(error);
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
    start(factory, method, args);
  }

  /** Runs a worker whose source came in INIT (a spare adopted by run(), warm start). */
  function runWorkerSource(source, method, args) {
    start(compile(source, method), method, args);
  }

  function start(factory, method, args) {
    lifetime.started();
    const worker = materialize(factory, method, 'new Proclet(fn)');
    const result = worker.apply(context, args);
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      result.then(undefined, (error) => lifetime.fatal(error, 'unhandledRejection'));
    }
  }

  /** The context, once it exists: `this` for every user function. */
  function bind(value) {
    context = value;
  }

  return { registry, add, dispatch, dispatchMessage, runWorker, runWorkerSource, bind, stop };
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
