'use strict';
// The user's functions in the child: the worker, the handlers for messages and named events, and
// the exposed methods, compiled from their source with a require(), __filename and __dirname
// rooted at the file that created the Proclet, and called with `this` = the context.

const vm = require('vm');
const path = require('path');
const util = require('util');
const Module = require('module');
const { createRequire } = Module;
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
  // file -> the Module that functions of that compiled file are compiled in (compileMapped): one
  // per file, alive as long as the child, so that Node keeps its source map.
  const mappedModules = new Map();

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

  /** Registers what the parent shipped: `{ type: 'on' | 'onAny' | 'expose', event?, name?, source, method, prelude?, at? }`. */
  function add(spec) {
    switch (spec.type) {
      case 'on':
        registry.on(spec.event, materialize(compile(spec), spec.method, `child.on(${util.inspect(spec.event)}, handler)`));
        break;
      case 'onAny':
        registry.onAny(materialize(compile(spec), spec.method, 'child.onAny(handler)'));
        break;
      case 'expose': {
        const operation = `child.expose({ ${spec.name} })`;
        registry.expose(operation, { [spec.name]: materialize(compile(spec), spec.method, operation) });
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
    for (let i = 0; i < any.length; i++) {
      invoke(any[i], [event, ...args, from]);
      if (lifetime.closing) return;
    }
    // The handlers get the arguments, then the sender's id (apply copies them: one array serves all).
    const withFrom = args.slice();
    withFrom.push(from);
    for (let i = 0; i < listeners.length; i++) {
      invoke(listeners[i], withFrom);
      if (lifetime.closing) return;
    }
  }

  /**
   * `dispatch` for an EVENT frame's array `[event, ...args]`, freshly parsed and owned by the
   * caller: with listeners and no `onAny`, it becomes their arguments in place, `[...args, from]`.
   */
  function dispatchParsed(array, from = FROM_PARENT) {
    const event = array[0];
    const listeners = table.listenersFor(event);
    if (table.anyListeners.length > 0 || listeners.length === 0) {
      dispatch(event, array.slice(1), from);
      return;
    }
    const last = array.length - 1;
    for (let i = 0; i < last; i++) array[i] = array[i + 1];
    array[last] = from;
    for (let i = 0; i < listeners.length; i++) {
      invoke(listeners[i], array);
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

  /**
   * Compiles a shipped function (`{ source, method, prelude?, at? }`) into a factory: called with
   * `this` = the context, it returns the function (or, for method shorthand, an object holding
   * it). The source is compiled where it was written (`at`, lib/source/location.js): in that
   * file, its first line at `at.line` and indented to `at.column` (spaces, inside the parentheses), so that V8 reports
   * every frame inside it at the user's line and column. The prelude (helpers a compiler's output
   * needs, lib/source/index.js) is compiled apart and reaches the source as parameters.
   */
  function compile({ source, method, prelude, at }) {
    coverage.provide(source);
    const open = method ? '({' : '(';
    const close = method ? '})' : ')';
    const loader = dynamicImportLoader(source);
    // A function found in another file than the caller's (a file further out) is placed there
    // unless it uses import(), which resolves from the file it is compiled in: the caller's.
    const elsewhere = at && typeof at.file === 'string' && (at.file.startsWith('file:') ? fileURLToPath(at.file) : at.file) !== callerFile;
    const placed =
      at !== undefined && at !== null && Number.isInteger(at.line) && Number.isInteger(at.column) && at.line >= 0 && at.column >= 0 && !(elsewhere && loader);
    const body = placed ? `return ${open}\n${' '.repeat(at.column)}${source}\n${close};` : `return ${open}\n${source}\n${close};`;
    const names = prelude ? prelude.names : [];
    const factory =
      placed && at.map && at.line >= 1
        ? compileMapped(source, open, close, names, at)
        : vm.compileFunction(body, ['require', '__filename', '__dirname', ...names], {
      // Where the source was written (the caller's file, or a file further out), as the parent's frames name it.
      filename: placed && typeof at.file === 'string' ? at.file : callerFile,
      lineOffset: placed ? at.line - 1 : 0,
      importModuleDynamically: loader,
    });
    if (!prelude) return factory;
    return function () {
      const values = vm.compileFunction(`${prelude.code}\nreturn [${names.join(', ')}];`, [], { filename: HELPERS_FILE }).call(this);
      return factory.call(this, userRequire, callerFile, callerDir, ...values);
    };
  }

  /**
   * A function of a compiled file with a source map (`at.map`, lib/source/location.js): compiled
   * as a module of that file, at the line and column where it is in the code that ran in the
   * parent, with the file's source map, so that Node maps its frames to the original file (the
   * .ts), line and column whenever source maps are enabled here, as it does in the parent. The
   * module's own `exports` and `module` are shadowed: the function sees what it sees elsewhere.
   * Node keeps the source map of a module compiled this way only while its Module object lives
   * (its cache is a weak map keyed by the Module): the Module is kept (mappedModules) for as long
   * as this child runs, or a garbage collection would drop the map and later frames would show
   * the positions of the code that ran.
   */
  function compileMapped(source, open, close, names, at) {
    const file = at.file.startsWith('file:') ? fileURLToPath(at.file) : at.file;
    let module = mappedModules.get(file);
    if (module === undefined) {
      module = new Module(file, null);
      module.filename = file;
      module.paths = Module._nodeModulePaths(path.dirname(file));
      mappedModules.set(file, module);
    }
    const map = Buffer.from(JSON.stringify(at.map)).toString('base64');
    const code =
      `return function (require, __filename, __dirname, module, exports${names.map((name) => `, ${name}`).join('')}) { return ${open}` +
      `${'\n'.repeat(at.line)}${' '.repeat(at.column)}${source}\n${close}; };\n` +
      `//# sourceMappingURL=data:application/json;charset=utf-8;base64,${map}\n`;
    const factory = module._compile(code, file);
    return function (...args) {
      return factory.call(this, ...args.slice(0, 3), undefined, undefined, ...args.slice(3));
    };
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

  /**
   * Runs the worker with `args`. Its factory is in the cached script; `worker` (INIT's) says
   * where it was written and what helpers it needs: then it is compiled again like a handler,
   * from the source inside the factory.
   */
  function runWorker(factory, method, args, worker) {
    const factorySource = Function.prototype.toString.call(factory);
    const { prelude, at } = worker || {};
    const source = (prelude || at) && workerSource(factorySource, method);
    if (source !== undefined) {
      factory = compile({ source, method, prelude, at });
    } else {
      coverage.provide(factorySource);
      const loader = dynamicImportLoader(factorySource);
      if (loader !== undefined) {
        // The same factory, compiled again so that its import() resolves from the caller's file.
        factory = vm.compileFunction(`return ${factorySource}`, [], { filename: callerFile, importModuleDynamically: loader })();
      }
    }
    start(factory, method, args);
  }

  /**
   * Runs a worker whose source came in INIT (`{ text, method }`: a spare adopted by run(), warm
   * start); `worker` as for runWorker.
   */
  function runWorkerSource(source, args, worker) {
    const { prelude, at } = worker || {};
    start(compile({ source: source.text, method: source.method, prelude, at }), source.method, args);
  }

  function start(factory, method, args) {
    lifetime.started();
    call(materialize(factory, method, 'new Proclet(fn)'), args);
  }

  /**
   * Runs a script worker (runtime/script.js): loads the module and calls its exported function,
   * if it has one, with `args`. The child stays alive while an ES module loads.
   */
  // `frames.loading()` is called when the module is imported asynchronously (an ES module):
  // the runtime then holds what the parent sends until `frames.loaded()`, called once the
  // module's export has run (or failed to load).
  function runScript(file, args, frames) {
    const { loadScript } = require('./script');
    let loading = false;
    const run = (worker) => {
      const wasLoading = loading;
      if (loading) lifetime.hold(-1);
      loading = false;
      lifetime.started();
      try {
        if (worker !== null) call(worker, args);
      } finally {
        if (wasLoading) frames.loaded();
      }
    };
    const imported = loadScript(file, run);
    if (imported !== undefined) {
      loading = true;
      frames.loading();
      lifetime.hold(1);
      imported.then(undefined, (error) => {
        const wasLoading = loading;
        if (loading) lifetime.hold(-1);
        loading = false;
        lifetime.fatal(error, 'uncaughtException');
        if (wasLoading) frames.loaded();
      });
    }
  }

  /** Calls the worker with `this` = the context; a returned promise that rejects is fatal. */
  function call(worker, args) {
    const result = worker.apply(context, args);
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      result.then(undefined, (error) => lifetime.fatal(error, 'unhandledRejection'));
    }
  }

  /** The context, once it exists: `this` for every user function. */
  function bind(value) {
    context = value;
  }

  return { registry, add, dispatch, dispatchParsed, dispatchMessage, runWorker, runWorkerSource, runScript, bind, stop };
}

// The file name that frames inside the helpers of a compiled function show.
const HELPERS_FILE = 'proclet:helpers';

// The worker's factory in the cached script (src/script/runtime.rs, worker_script):
//   function (require, __filename, __dirname) {\nreturn (\n<source>\n);\n}   ( `({` and `})` for a method)
const FACTORY_HEAD = 'function (require, __filename, __dirname) {\nreturn ';

/** The worker's own source inside its factory's text, or undefined if the text is not that shape. */
function workerSource(factorySource, method) {
  const head = `${FACTORY_HEAD}${method ? '({' : '('}\n`;
  const tail = `\n${method ? '})' : ')'};\n}`;
  if (!factorySource.startsWith(head) || !factorySource.endsWith(tail)) return undefined;
  return factorySource.slice(head.length, factorySource.length - tail.length);
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
