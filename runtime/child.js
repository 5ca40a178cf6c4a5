// proclet child runtime. src/script.rs places this ahead of the worker function in the cached
// script; it speaks the frame format of docs/protocol.md over fd 3 and gives the worker and the
// handlers their context: this.send(message) and this.close(code).
//
// Lifetime: the channel keeps this process alive only while handlers are registered (or
// announced and not yet received), as Node's own IPC channel does while 'message' listeners
// exist. A worker with no handlers exits when its own work is done. End-of-file on fd 3 means
// the parent is gone: the child exits at once rather than linger as an orphan.
const __proclet_runtime = (function () {
  'use strict';

  const net = require('net');
  const vm = require('vm');
  const fs = require('fs');
  const path = require('path');
  const util = require('util');
  const { createRequire } = require('module');
  const { fileURLToPath } = require('url');

  const HEADER = 5;
  const MAX_PAYLOAD = 2 ** 29 - 24; // V8's longest string (docs/protocol.md)
  const KIND_MESSAGE = 0x01;
  const KIND_ERROR = 0x02;
  const KIND_HANDLER = 0x03;
  const KIND_TEXT = 0x04;
  const KIND_COVERAGE = 0x10;
  // this.send() returns false once this many characters wait to be written.
  const HIGH_WATER = 1024 * 1024;

  // argv: [node, script, caller, announced handler count]; the user's code sees [node, script].
  const caller = process.argv[2];
  const announcedHandlers = Number(process.argv[3]) || 0;
  process.argv.splice(2, 2);
  const callerFile = caller.startsWith('file:') ? fileURLToPath(caller) : caller;
  const callerDir = path.dirname(callerFile);
  const userRequire = createRequire(callerFile);

  let carry = null; // the start of a frame that continues in the next read (a copy)
  let large = null; // a large frame's payload, being filled in place
  let largeFilled = 0;
  let largeKind = 0;
  const LARGE = 64 * 1024;

  // Reads go straight to onData through a reused buffer (no Readable-stream machinery per
  // chunk); a large frame is read in place into a buffer of its own.
  const SCRATCH = Buffer.allocUnsafe(256 * 1024);
  const socket = new net.Socket({
    fd: 3,
    readable: true,
    writable: true,
    onread: { buffer: () => (large ? large.subarray(largeFilled) : SCRATCH), callback: (n, buffer) => onData(n, buffer) },
  });
  const handlers = [];
  let receivedHandlers = 0;
  let closing = false;
  let reportingFatal = false;

  // ---- outgoing -------------------------------------------------------------------------------
  // Frames sent during one tick are encoded into one buffer and written with one write().
  let outKinds = [];
  let outTexts = [];
  let outLengths = [];
  let outChars = 0;
  let flushScheduled = false;

  function queue(kind, text) {
    const length = Buffer.byteLength(text);
    if (length > MAX_PAYLOAD) {
      const error = new RangeError(
        `proclet: message of ${length} bytes exceeds the maximum of ${MAX_PAYLOAD} bytes`,
      );
      error.code = 'ERR_PROCLET_MESSAGE_TOO_LARGE';
      throw error;
    }
    outKinds.push(kind);
    outTexts.push(text);
    outLengths.push(length);
    outChars += text.length;
    if (!flushScheduled) {
      flushScheduled = true;
      process.nextTick(flush);
    }
    return outChars + socket.writableLength < HIGH_WATER;
  }

  function encodePending() {
    let total = 0;
    for (let i = 0; i < outLengths.length; i++) total += HEADER + outLengths[i];
    const buffer = Buffer.allocUnsafe(total);
    let offset = 0;
    for (let i = 0; i < outKinds.length; i++) {
      buffer.writeUInt32BE(outLengths[i], offset);
      buffer[offset + 4] = outKinds[i];
      offset += HEADER;
      offset += buffer.write(outTexts[i], offset, outLengths[i], 'utf8');
    }
    outKinds = [];
    outTexts = [];
    outLengths = [];
    outChars = 0;
    return buffer;
  }

  // With nothing queued in the stream, write(2) directly: one syscall and no stream machinery.
  // Whatever the socket does not take goes through the stream, which waits for writability.
  function flush() {
    flushScheduled = false;
    if (outKinds.length === 0 || socket.destroyed) return;
    const buffer = encodePending();
    let written = 0;
    if (socket.writableLength === 0) {
      try {
        written = fs.writeSync(3, buffer);
      } catch {
        // EAGAIN: the stream waits for writability. Any other error, the stream reports too.
      }
    }
    if (written < buffer.length) socket.write(written === 0 ? buffer : buffer.subarray(written));
  }

  // A worker that calls process.exit() itself still gets its last messages out: write what is
  // pending synchronously, unless libuv already holds earlier writes (order would break, and
  // how much of them libuv wrote is unknown: that tail is lost, as with child_process; README).
  function flushSync() {
    if (outKinds.length === 0 || socket.destroyed || socket.writableLength > 0) return;
    const buffer = encodePending();
    const pause = new Int32Array(new SharedArrayBuffer(4));
    let offset = 0;
    while (offset < buffer.length) {
      try {
        offset += fs.writeSync(3, buffer, offset);
      } catch (error) {
        if (error.code !== 'EAGAIN') return;
        Atomics.wait(pause, 0, 0, 1);
      }
    }
  }

  function serialize(message) {
    let text;
    try {
      text = JSON.stringify(message);
    } catch (cause) {
      throw invalidMessage(`it cannot be serialized to JSON: ${cause.message}`, cause);
    }
    if (text === undefined) {
      throw invalidMessage(`${typeof message === 'function' ? 'a function' : String(message)} has no JSON form`);
    }
    return text;
  }

  function invalidMessage(reason, cause) {
    const error = new TypeError(`proclet: this.send(message): ${reason}`, cause && { cause });
    error.code = 'ERR_PROCLET_INVALID_MESSAGE';
    return error;
  }

  // A string travels as its own UTF-8 text (TEXT frame); lone surrogates keep the JSON path.
  function send(message) {
    if (typeof message === 'string' && message.isWellFormed()) {
      return closing ? false : queue(KIND_TEXT, message);
    }
    const text = serialize(message);
    if (closing) return false;
    return queue(KIND_MESSAGE, text);
  }

  function close(code = 0) {
    if (!Number.isInteger(code)) {
      const error = new TypeError(`proclet: this.close(code): code must be an integer, got ${util.inspect(code)}`);
      error.code = 'ERR_PROCLET_INVALID_EXIT_CODE';
      throw error;
    }
    shutdown(code);
  }

  // Delivers everything queued so far, then exits with `code`.
  function shutdown(code) {
    if (closing) return;
    closing = true;
    process.exitCode = code;
    queueCoverage();
    flush();
    socket.end(() => process.exit(code));
    socket.once('close', () => process.exit(code));
  }

  // The context: `this` in the worker and in every handler (arrow functions get it lexically,
  // because their source is evaluated inside a function called with it).
  const context = {};
  Object.defineProperties(context, {
    send: { value: send, enumerable: true },
    close: { value: close, enumerable: true },
  });

  // ---- incoming -------------------------------------------------------------------------------
  function onData(n, buffer) {
    if (closing) return;
    if (large) {
      largeFilled += n;
      if (largeFilled === large.length) {
        const payload = large;
        large = null;
        dispatch(largeKind, payload.toString('utf8'));
      }
      return;
    }
    const data = carry ? Buffer.concat([carry, buffer.subarray(0, n)]) : buffer.subarray(0, n);
    carry = null;
    let offset = 0;
    while (data.length - offset >= HEADER && !closing) {
      const length = data.readUInt32BE(offset);
      if (length > MAX_PAYLOAD) throw new Error(`proclet: the parent sent a frame of ${length} bytes`);
      const end = offset + HEADER + length;
      if (end > data.length) {
        if (length >= LARGE) {
          // The parent is trusted: allocate the announced size and read the rest into it.
          large = Buffer.allocUnsafe(length);
          largeFilled = data.copy(large, 0, offset + HEADER);
          largeKind = data[offset + 4];
          offset = data.length;
        }
        break;
      }
      if (HEADER + length <= LARGE && data[offset + 4] === KIND_MESSAGE && end + HEADER <= data.length && data[end + 4] === KIND_MESSAGE) {
        offset = dispatchRun(data, offset);
        continue;
      }
      dispatch(data[offset + 4], data.toString('utf8', offset + HEADER, end));
      offset = end;
    }
    // SCRATCH is reused by the next read: keep a copy of what is left.
    if (offset < data.length && !closing) carry = Buffer.from(data.subarray(offset));
  }

  // A run of consecutive complete MESSAGE frames costs one toString and one JSON.parse: each
  // 5-byte header is overwritten in place with "[" or "," and four spaces (JSON whitespace),
  // and the byte after the run with "]" (put back afterwards). Safe because the parent is
  // trusted: every payload is one JSON.stringify output. Returns the offset after the run.
  function dispatchRun(data, start) {
    let offset = start;
    let count = 0;
    while (data.length - offset >= HEADER && data[offset + 4] === KIND_MESSAGE) {
      const end = offset + HEADER + data.readUInt32BE(offset);
      // Same bound as the caller's, so the first frame always joins the run.
      if (end >= data.length || end - offset > LARGE) break;
      data[offset] = count === 0 ? 0x5b : 0x2c;
      data.fill(0x20, offset + 1, offset + HEADER);
      offset = end;
      count++;
    }
    const after = data[offset];
    data[offset] = 0x5d;
    const messages = JSON.parse(data.toString('utf8', start, offset + 1));
    data[offset] = after;
    for (const message of messages) {
      deliver(message);
      if (closing) break;
    }
    return offset;
  }

  // A handler that throws is an uncaught exception, as usual; but it must not unwind through
  // onData and abandon a half-parsed read (a user's 'uncaughtException' listener keeps the
  // child running). Without such a listener, fatal() reports it and stops dispatching at once.
  function deliver(message) {
    for (const handler of handlers) {
      try {
        handler.call(context, message);
      } catch (error) {
        if (process.listenerCount('uncaughtException') > 1) {
          process.nextTick(() => {
            throw error;
          });
        } else {
          fatal(error, 'uncaughtException');
        }
      }
      if (closing) return;
    }
  }

  function dispatch(kind, text) {
    if (kind === KIND_MESSAGE || kind === KIND_TEXT) {
      deliver(kind === KIND_TEXT ? text : JSON.parse(text));
    } else if (kind === KIND_HANDLER) {
      const { source, method } = JSON.parse(text);
      handlers.push(materialize(compile(source, method), method));
      receivedHandlers++;
      updateRef();
    } else {
      throw new Error(`proclet: unexpected frame kind 0x${kind.toString(16)} from the parent`);
    }
  }

  function compile(source, method) {
    provideCoverage(source);
    const body = method ? `return ({\n${source}\n});` : `return (\n${source}\n);`;
    return vm.compileFunction(body, ['require', '__filename', '__dirname'], {
      filename: callerFile,
      importModuleDynamically: dynamicImportLoader(source),
    });
  }

  // Evaluates a factory with `this` = context and returns the function it produces.
  function materialize(factory, method) {
    let value = factory.call(context, userRequire, callerFile, callerDir);
    if (method) {
      const descriptor = Object.getOwnPropertyDescriptor(value, Reflect.ownKeys(value)[0]);
      value = descriptor.value || descriptor.get || descriptor.set;
    }
    if (typeof value !== 'function') {
      throw new TypeError('proclet: the function source did not evaluate to a function');
    }
    return value;
  }

  // Referenced through the first turn of the event loop regardless, so that frames the parent
  // wrote before we started (handlers attached right after run()) are read before we decide.
  let firstTurnDone = false;

  function updateRef() {
    if (!firstTurnDone || handlers.length > 0 || receivedHandlers < announcedHandlers) socket.ref();
    else socket.unref();
  }

  // End-of-file: the parent is gone (exited, killed, or dropped the channel).
  socket.on('end', () => process.exit());
  socket.on('error', () => process.exit());

  // ---- errors ---------------------------------------------------------------------------------
  // Uncaught errors are reported to the parent, then the child exits with code 1, as Node does.
  // A user's own 'uncaughtException' / 'unhandledRejection' listener takes precedence.
  function fatal(error, event) {
    if (process.listenerCount(event) > 1 || reportingFatal || closing) return;
    reportingFatal = true;
    let text;
    try {
      text = JSON.stringify(serializeThrown(error, 0));
    } catch {
      text = JSON.stringify({ value: String(error) });
    }
    queue(KIND_ERROR, text);
    shutdown(1);
  }

  process.on('uncaughtException', (error) => fatal(error, 'uncaughtException'));
  process.on('unhandledRejection', (reason) => fatal(reason, 'unhandledRejection'));
  process.on('exit', () => {
    queueCoverage();
    flushSync();
  });

  function serializeThrown(value, depth) {
    const isError =
      value instanceof Error ||
      (value !== null && typeof value === 'object' && typeof value.message === 'string' && typeof value.name === 'string');
    if (!isError || depth > 8) return { value: jsonSafe(value) };
    const error = {
      name: String(value.name),
      message: String(value.message),
      stack: typeof value.stack === 'string' ? value.stack : undefined,
      props: {},
    };
    for (const key of Object.keys(value)) {
      if (key === 'errors' || key === 'cause') continue;
      const safe = jsonSafe(value[key]);
      if (safe !== undefined) error.props[key] = safe;
    }
    if ('cause' in value) error.cause = serializeThrown(value.cause, depth + 1);
    if (Array.isArray(value.errors)) error.errors = value.errors.map((e) => serializeThrown(e, depth + 1));
    return { error };
  }

  function jsonSafe(value) {
    try {
      const text = JSON.stringify(value);
      return text === undefined ? util.inspect(value) : JSON.parse(text);
    } catch {
      return util.inspect(value);
    }
  }

  // ---- what compiled sources need -------------------------------------------------------------
  // Coverage: code instrumented by istanbul (jest --coverage, nyc) counts through a function of
  // its file, `cov_1x2y3z().s[4]++`, which does not exist here. Each `cov_` name a source uses
  // gets a global of that name returning its counter tables; the counts go to the parent in one
  // COVERAGE frame when the child ends (shutdown, or the 'exit' event), and the parent adds them
  // to its own report (lib/coverage.js).
  const coverage = new Map(); // cov_ name -> counters
  let coverageSent = false;

  // The counters a source can touch are written in it (`cov_x().s[4]++`, `.b[2][1]++`), so each
  // table is a plain object with those indexes at 0: counting stays as fast as in the parent (a
  // proxy in front of the counts made instrumented loops hundreds of times slower). A branch the
  // scan missed gets a path table from the branch table's prototype, consulted only for indexes
  // the object lacks, so such code still runs; a statement or function index the scan missed
  // counts as NaN and is left out of the report.
  const INDEX = /^\d+$/;
  const newPaths = new Proxy(Object.create(null), {
    get: (_, key, table) => {
      if (typeof key !== 'string' || !INDEX.test(key)) return undefined;
      const paths = {};
      Object.defineProperty(table, key, { value: paths, writable: true, enumerable: true, configurable: true });
      return paths;
    },
  });

  function provideCoverage(source) {
    const names = source.match(/\bcov_[0-9a-z]+\b/g);
    if (!names) return;
    for (const name of new Set(names)) {
      let counters = coverage.get(name);
      if (counters === undefined) {
        if (name in globalThis) continue;
        counters = { s: {}, f: {}, b: Object.create(newPaths), bT: Object.create(newPaths) };
        if (coverage.size === 0) process.on('SIGTERM', coverageOnTerm);
        coverage.set(name, counters);
        Object.defineProperty(globalThis, name, { value: () => counters, writable: true, configurable: true });
      }
      const uses = new RegExp(`\\b${name}\\(\\)\\s*\\.\\s*(s|f|b|bT)\\s*\\[\\s*(\\d+)\\s*\\](?:\\s*\\[\\s*(\\d+)\\s*\\])?`, 'g');
      for (const [, table, index, path] of source.matchAll(uses)) {
        if (path === undefined) {
          if ((table === 's' || table === 'f') && !(index in counters[table])) counters[table][index] = 0;
        } else if (table === 'b' || table === 'bT') {
          const paths = counters[table][index];
          if (!(path in paths)) paths[path] = 0;
        }
      }
    }
  }

  // proclet.kill() sends SIGTERM: counts so far still reach the parent, then the signal takes
  // its default course (unless the user listens for it too), so the exit is reported as before.
  function coverageOnTerm() {
    queueCoverage();
    flushSync();
    if (process.listenerCount('SIGTERM') === 1) {
      process.removeListener('SIGTERM', coverageOnTerm);
      process.kill(process.pid, 'SIGTERM');
    }
  }

  function queueCoverage() {
    if (coverage.size === 0 || coverageSent) return;
    coverageSent = true;
    const plain = (table) => Object.fromEntries(Object.entries(table).filter(([, n]) => Number.isFinite(n) && n > 0));
    const branches = (table) => Object.fromEntries(Object.entries(table).map(([id, paths]) => [id, plain(paths)]));
    const report = {};
    for (const [name, counters] of coverage) {
      report[name] = { s: plain(counters.s), f: plain(counters.f), b: branches(counters.b), bT: branches(counters.bT) };
    }
    try {
      queue(KIND_COVERAGE, JSON.stringify(report));
    } catch {}
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

  // ---- start ----------------------------------------------------------------------------------
  function start(factory, method) {
    const factorySource = Function.prototype.toString.call(factory);
    provideCoverage(factorySource);
    const loader = dynamicImportLoader(factorySource);
    if (loader !== undefined) {
      // The same factory, compiled again so that its import() resolves from the caller's file.
      factory = vm.compileFunction(`return ${factorySource}`, [], { filename: callerFile, importModuleDynamically: loader })();
    }
    updateRef();
    setImmediate(() => {
      firstTurnDone = true;
      updateRef();
    });
    const worker = materialize(factory, method);
    const result = worker.call(context);
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      result.then(undefined, (error) => fatal(error, 'unhandledRejection'));
    }
  }

  return { start };
})();
