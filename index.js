'use strict';
// proclet's JS entry: argument checks, the EventEmitter facade and error reconstruction. The
// work (cache file, spawning, framing, socket I/O, reaping) is in the Rust addon (src/).

const { EventEmitter } = require('events');
const fs = require('fs');
const os = require('os');
const path = require('path');
const util = require('util');

const { NativeProclet } = loadBinding();
const sourceBoundary = require('./lib/source');
const { mergeChildCoverage } = require('./lib/coverage');

// Event kinds delivered by the addon (src/proclet.rs).
const EVENT_MESSAGE = 1;
const EVENT_ERROR = 2;
const EVENT_PROTOCOL = 3;
const EVENT_DRAIN = 4;
const EVENT_EXIT = 5;
const EVENT_TEXT = 6;
const EVENT_COVERAGE = 7;

const SIGNALS = os.constants.signals;
// The protocol's maximum payload (docs/protocol.md), checked here before the text is copied.
const MAX_PAYLOAD = 2 ** 29 - 24;
// Number to name; the first name wins, so 6 is SIGABRT (not its alias SIGIOT), as in child_process.
const SIGNAL_NAMES = {};
for (const [name, number] of Object.entries(SIGNALS)) if (!(number in SIGNAL_NAMES)) SIGNAL_NAMES[number] = name;

// ---- errors: every message a user can see is built here ---------------------------------------

function makeError(Ctor, code, message, options) {
  const error = new Ctor(`proclet: ${message}`, options);
  error.code = code;
  return error;
}

const errors = {
  invalidFunction: (what, got, hint) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_FUNCTION', `${what} expects a function, got ${got}. ${hint}`),
  invalidMessage: (what, reason, cause) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_MESSAGE', `${what}: ${reason}. Messages must be JSON values.`, cause && { cause }),
  invalidEvent: (event) =>
    makeError(
      TypeError,
      'ERR_PROCLET_INVALID_EVENT',
      `child.on(event, handler): unsupported event ${util.inspect(event)}; the child side supports 'message'.`,
    ),
  invalidSignal: (signal) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_SIGNAL', `kill(signal): unknown signal ${util.inspect(signal)}.`),
  alreadyRunning: (pid) =>
    makeError(
      Error,
      'ERR_PROCLET_ALREADY_RUNNING',
      pid === undefined
        ? 'run() was already called on this Proclet; create a new Proclet to start another child.'
        : `run() was already called: child process ${pid} belongs to this Proclet; create a new Proclet to start another.`,
    ),
  channelClosed: (what, pid, exit) =>
    makeError(Error, 'ERR_PROCLET_CHANNEL_CLOSED', `${what}: ${describeEnd(pid, exit)}.`),
  tooLarge: (what, detail) => makeError(RangeError, 'ERR_PROCLET_MESSAGE_TOO_LARGE', `${what}: ${detail}.`),
  protocol: (pid, detail) =>
    makeError(
      Error,
      'ERR_PROCLET_PROTOCOL',
      `child process ${pid} broke the message protocol (${detail}); it has been killed.`,
    ),
  killed: (pid, signal) =>
    makeError(
      Error,
      'ERR_PROCLET_CHILD_KILLED',
      `child process ${pid} was killed by ${signal}${
        signal === 'SIGABRT'
          ? ' (Node aborts like this when it runs out of memory; see its stderr)'
          : signal === 'SIGKILL'
            ? ' (sent by another process, or by the kernel when memory ran out)'
            : ''
      }.`,
    ),
  fromNative: (what, error) => {
    if (error && error.code === 'ERR_PROCLET_MESSAGE_TOO_LARGE') return errors.tooLarge(what, error.message);
    if (error && typeof error.code === 'string' && error.code.startsWith('ERR_PROCLET_')) {
      return makeError(Error, error.code, `${what}: ${error.message}`);
    }
    return error;
  },
};

function describeEnd(pid, exit) {
  if (pid === undefined) return 'the child process never started (see the \'error\' event)';
  return exit.signal
    ? `child process ${pid} has exited (killed by ${exit.signal})`
    : `child process ${pid} has exited (code ${exit.code})`;
}

function describeValue(value) {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (value === undefined) return 'undefined';
  return util.inspect(value, { depth: 0, breakLength: Infinity });
}

// ---- functions as source ----------------------------------------------------------------------

const FUNCTION_HINT =
  'Pass a function written in JavaScript source (a declaration, expression, arrow, async function or method); ' +
  'it runs in a separate process, so give it data through messages, not through its scope.';

/**
 * Returns the source of `fn` and whether it is method shorthand, or throws a TypeError for what
 * cannot be shipped to another process as source.
 */
function functionSource(fn, what) {
  if (typeof fn !== 'function') {
    throw errors.invalidFunction(what, fn === undefined ? 'nothing' : describeValue(fn), FUNCTION_HINT);
  }
  if (util.types.isProxy(fn)) {
    throw errors.invalidFunction(what, 'a Proxy', 'A Proxy has no source of its own: pass the function it wraps.');
  }
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}$/.test(source)) {
    const bound = fn.name.startsWith('bound ');
    throw errors.invalidFunction(
      what,
      bound ? `a bound function (${fn.name})` : `a native function (${fn.name || 'anonymous'})`,
      bound
        ? 'Bound functions have no source to run elsewhere: pass the original function and send what you bound as a message.'
        : 'Built-in functions have no JavaScript source: wrap the call in a function of your own.',
    );
  }
  if (/^class\b(?!\s*\()/.test(source)) {
    throw errors.invalidFunction(
      what,
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
    what,
    `a function whose source cannot be turned back into a function (${util.inspect(source.slice(0, 60))})`,
    sourceBoundary.sourceHint(source) || FUNCTION_HINT,
  );
}

/**
 * What is shipped for `fn`: its source, with what a compiler's output needs in a fresh process
 * (lib/source.js). { source, method, original }.
 */
function shippedSource(fn, what) {
  return sourceBoundary.prepare(fn, functionSource(fn, what), what);
}

const SHIPPED_WORKER = 'the function passed to new Proclet()';
const SHIPPED_HANDLER = "a child.on('message') handler";

// The file that called `new Proclet()`: `require()` in the child resolves from there.
function callerFile() {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let frames = [];
  try {
    Error.stackTraceLimit = 32;
    Error.prepareStackTrace = (_, callSites) => callSites;
    const holder = {};
    Error.captureStackTrace(holder, Proclet);
    frames = holder.stack;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  for (const frame of Array.isArray(frames) ? frames : []) {
    const file = frame.getFileName();
    if (file && file !== __filename && !file.startsWith('node:') && (path.isAbsolute(file) || file.startsWith('file:'))) {
      return file;
    }
  }
  // REPL, `node -e`: resolve from the working directory.
  return path.join(process.cwd(), '[proclet]');
}

// The parent's Node flags, minus those that would make the child debug, evaluate code, watch
// files or run tests instead of running the worker.
function childExecArgv() {
  const takesValue = new Set(['-e', '--eval', '-p', '--print', '-pe', '-ep', '--inspect-port', '--debug-port', '--watch-path', '--input-type']);
  const dropped = /^(--inspect(-brk|-wait|-port|-publish-uid)?|--debug(-brk|-port)?|--eval|--print|--input-type|--watch(-path|-preserve-output)?|--test(-[a-z-]+)?|--interactive|--check)(=.*)?$|^-[ic]$/;
  const argv = process.execArgv;
  const kept = [];
  for (let i = 0; i < argv.length; i++) {
    if (takesValue.has(argv[i])) i++;
    else if (!dropped.test(argv[i])) kept.push(argv[i]);
  }
  return kept;
}

// ---- errors from the child --------------------------------------------------------------------

const BUILTIN_ERRORS = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

function reviveThrown(thrown, pid) {
  if (thrown && typeof thrown === 'object' && thrown.error) return reviveError(thrown.error, pid);
  const value = thrown && typeof thrown === 'object' ? thrown.value : undefined;
  const error = new Error(`child process ${pid} threw a non-Error value: ${util.inspect(value)}`);
  error.value = value;
  return error;
}

function reviveError(data, pid) {
  const message = String(data.message);
  const name = String(data.name);
  let error;
  if (Array.isArray(data.errors)) {
    error = new AggregateError(data.errors.map((e) => reviveThrown(e, pid)), message);
  } else {
    const Ctor = Object.prototype.hasOwnProperty.call(BUILTIN_ERRORS, name) ? BUILTIN_ERRORS[name] : Error;
    error = new Ctor(message);
  }
  const hidden = (value) => ({ value, writable: true, configurable: true, enumerable: false });
  if (error.name !== name) Object.defineProperty(error, 'name', hidden(name));
  if (typeof data.stack === 'string') Object.defineProperty(error, 'stack', hidden(data.stack));
  if (data.cause !== undefined) Object.defineProperty(error, 'cause', hidden(reviveThrown(data.cause, pid)));
  if (data.props && typeof data.props === 'object') Object.assign(error, data.props);
  return error;
}

// ---- the API ----------------------------------------------------------------------------------

/**
 * The parent's side of the channel: an EventEmitter with 'message', 'error', 'exit' and 'drain'.
 * An 'error' with no listener is written to stderr instead of being thrown: the parent survives
 * whatever its child does.
 */
class ParentChannel extends EventEmitter {
  #send;
  #pid;

  constructor(send, pid) {
    super();
    this.#send = send;
    this.#pid = pid;
  }

  /** Sends a JSON value to the child; false once the outgoing queue is past its high-water mark. */
  send(message) {
    return this.#send(message);
  }

  emit(event, ...args) {
    if (event === 'error' && this.listenerCount('error') === 0) {
      const pid = this.#pid();
      process.stderr.write(
        `proclet: unhandled 'error' from child process ${pid === undefined ? '(not started)' : pid} ` +
          `(add proclet.parent.on('error', ...) to handle it):\n${util.inspect(args[0])}\n`,
      );
      return false;
    }
    return super.emit(event, ...args);
  }
}

/** The child's side: handlers registered here run inside the child process. */
class ChildHandlers {
  #add;

  constructor(add) {
    this.#add = add;
  }

  /** Registers `handler` to run in the child for every message sent after this call. */
  on(event, handler) {
    if (event !== 'message') throw errors.invalidEvent(event);
    const { source, method, original } = shippedSource(handler, "child.on('message', handler)");
    this.#add(event, source, method, original);
    return this;
  }
}

/** What `#parse` returns for a payload that is not JSON. */
const INVALID = Symbol('invalid');

/** Surfaces `error` as an ordinary uncaught exception on its own tick, after the current batch. */
function rethrowLater(error) {
  process.nextTick(() => {
    throw error;
  });
}

class Proclet {
  #native = new NativeProclet();
  #source;
  #method;
  #caller;
  #state = 'idle'; // 'running' | 'exited'
  #pid = undefined;
  #exit = null;
  #announcedHandlers = 0;
  #flushScheduled = false;
  #killSignal = 0;
  #protocolFailed = false;
  #shipped = []; // [{ what, source }]: the functions' own sources, for closure explanations

  /**
   * @param {Function} fn the worker: runs in a new Node.js process with `this.send` and `this.close`.
   */
  constructor(fn) {
    const { source, method, original } = shippedSource(fn, 'new Proclet(fn)');
    this.#shipped.push({ what: SHIPPED_WORKER, source: original });
    this.#source = source;
    this.#method = method;
    this.#caller = callerFile();
    this.parent = new ParentChannel(
      (message) => this.#send(message),
      () => this.#pid,
    );
    this.child = new ChildHandlers((event, handlerSource, handlerMethod, handlerOriginal) =>
      this.#addHandler(event, handlerSource, handlerMethod, handlerOriginal),
    );
    Object.defineProperty(this, 'parent', { enumerable: true, writable: false });
    Object.defineProperty(this, 'child', { enumerable: true, writable: false });
  }

  /** Starts the child process. Throws if called twice. Returns this Proclet. */
  run() {
    if (this.#state !== 'idle') throw errors.alreadyRunning(this.#pid);
    this.#state = 'running';
    try {
      this.#pid = this.#native.spawn(
        {
          execPath: process.execPath,
          execArgv: childExecArgv(),
          source: this.#source,
          method: this.#method,
          caller: this.#caller,
          handlers: this.#announcedHandlers,
        },
        (kinds, strings, ints) => this.#dispatch(kinds, strings, ints),
      );
    } catch (cause) {
      this.#state = 'exited';
      const error = errors.fromNative('run()', cause);
      process.nextTick(() => {
        this.#emit('error', error);
        this.#emit('exit', null, null);
      });
    }
    return this;
  }

  /** The child's process id, once `run()` has been called. */
  get pid() {
    return this.#pid;
  }

  /** Sends a signal to the child (default SIGTERM). False if it is not running. */
  kill(signal = 'SIGTERM') {
    let number;
    if (typeof signal === 'string' && Object.prototype.hasOwnProperty.call(SIGNALS, signal)) number = SIGNALS[signal];
    else if (Number.isInteger(signal) && (signal === 0 || SIGNAL_NAMES[signal])) number = signal;
    else throw errors.invalidSignal(signal);
    if (this.#state !== 'running') return false;
    const sent = this.#native.kill(number);
    if (sent && number !== 0) this.#killSignal = number;
    return sent;
  }

  /** Lets the parent exit while the child runs (the child ends with it). */
  unref() {
    this.#native.setRef(false);
    return this;
  }

  /** Undoes `unref()`: the running child keeps the parent's event loop alive. */
  ref() {
    this.#native.setRef(true);
    return this;
  }

  #send(message) {
    // A string travels as its own UTF-8 text (a TEXT frame): no JSON quoting on either side.
    // Lone surrogates have no UTF-8 form, so such strings keep the JSON path and its escapes.
    if (typeof message === 'string' && message.isWellFormed()) return this.#write(message, true);
    let text;
    try {
      text = JSON.stringify(message);
    } catch (cause) {
      throw errors.invalidMessage('parent.send(message)', `the message cannot be serialized (${cause.message})`, cause);
    }
    if (text === undefined) {
      throw errors.invalidMessage('parent.send(message)', `${describeValue(message)} has no JSON form`);
    }
    return this.#write(text, false);
  }

  #write(text, isText) {
    if (this.#state === 'exited') throw errors.channelClosed('parent.send(message)', this.#pid, this.#exit);
    // UTF-8 takes at most 3 bytes per UTF-16 unit: only long texts need counting.
    const bytes = text.length > MAX_PAYLOAD / 3 ? Buffer.byteLength(text) : 0;
    if (bytes > MAX_PAYLOAD) {
      throw errors.tooLarge(
        'parent.send(message)',
        `the message is ${bytes} bytes ${isText ? 'of UTF-8 text' : 'of JSON'}, over the maximum of ${MAX_PAYLOAD} bytes`,
      );
    }
    let belowHighWater;
    try {
      belowHighWater = isText ? this.#native.sendText(text) : this.#native.send(text);
    } catch (cause) {
      // The child is gone but its 'exit' is not delivered yet (this may be a listener running
      // in the final batch): there is no one to receive the message. Discarded, as documented.
      if (cause && cause.code === 'ERR_PROCLET_CHANNEL_CLOSED' && this.#state === 'running') return false;
      throw errors.fromNative('parent.send(message)', cause);
    }
    this.#scheduleFlush();
    return belowHighWater;
  }

  #addHandler(event, source, method, original) {
    if (this.#state === 'exited') throw errors.channelClosed("child.on('message', handler)", this.#pid, this.#exit);
    try {
      this.#native.addHandler(event, source, method);
    } catch (cause) {
      throw errors.fromNative("child.on('message', handler)", cause);
    }
    this.#shipped.push({ what: SHIPPED_HANDLER, source: original });
    if (this.#state === 'idle') this.#announcedHandlers++;
    // Written at once, not at the end of the tick: a child with nothing else to do decides
    // whether to stay alive on its first turn of the event loop.
    else this.#native.flush();
  }

  // Everything sent in one tick goes out in one write.
  #scheduleFlush() {
    if (this.#flushScheduled || this.#state !== 'running') return;
    this.#flushScheduled = true;
    process.nextTick(() => {
      this.#flushScheduled = false;
      this.#native.flush();
    });
  }

  // Listener exceptions must not cost the rest of the batch: each is rethrown on its own tick,
  // where it is an ordinary uncaught exception.
  #emit(event, ...args) {
    try {
      this.parent.emit(event, ...args);
    } catch (error) {
      rethrowLater(error);
    }
  }

  // JSON from the child. One that does not parse breaks the protocol: INVALID, the child killed.
  // After a protocol failure nothing more from that child is believed.
  #parse(text, what) {
    if (this.#protocolFailed) return INVALID;
    try {
      return JSON.parse(text);
    } catch (e) {
      this.#protocolFailure(`${what} is not valid JSON: ${e.message}`);
      return INVALID;
    }
  }

  #dispatch(kinds, strings, ints) {
    let s = 0;
    let n = 0;
    for (let k = 0; k < kinds.length; k++) {
      switch (kinds[k]) {
        case EVENT_MESSAGE: {
          const message = this.#parse(strings[s++], 'a message');
          if (message !== INVALID) this.#emit('message', message);
          break;
        }
        case EVENT_TEXT: {
          const text = strings[s++];
          if (!this.#protocolFailed) this.#emit('message', text);
          break;
        }
        case EVENT_ERROR: {
          const thrown = this.#parse(strings[s++], 'an error report');
          if (thrown === INVALID) break;
          const error = reviveThrown(thrown, this.#pid);
          this.#emit('error', sourceBoundary.explainChildError(error, this.#shipped));
          break;
        }
        case EVENT_COVERAGE: {
          const report = this.#parse(strings[s++], 'a coverage report');
          if (report === INVALID) break;
          try {
            mergeChildCoverage(report);
          } catch (error) {
            rethrowLater(error);
          }
          break;
        }
        case EVENT_PROTOCOL:
          this.#protocolFailure(strings[s++]);
          break;
        case EVENT_DRAIN:
          this.#emit('drain');
          break;
        case EVENT_EXIT: {
          const code = ints[n] === -1 ? null : ints[n];
          const signal = ints[n + 1] === 0 ? null : SIGNAL_NAMES[ints[n + 1]] || ints[n + 1];
          n += 2;
          this.#native.dispose();
          this.#state = 'exited';
          this.#exit = { code, signal };
          if (signal !== null && this.#killSignal === 0 && !this.#protocolFailed) {
            this.#emit('error', errors.killed(this.#pid, signal));
          }
          this.#emit('exit', code, signal);
          break;
        }
        default:
          break;
      }
    }
  }

  #protocolFailure(detail) {
    if (this.#protocolFailed) return;
    this.#protocolFailed = true;
    this.#native.kill(SIGNALS.SIGKILL);
    this.#emit('error', errors.protocol(this.#pid, detail));
  }
}

// ---- native binding ---------------------------------------------------------------------------

function loadBinding() {
  const { platform, arch } = process;
  const targets = platform === 'linux' ? [`linux-${arch}-gnu`, `linux-${arch}-musl`] : [`${platform}-${arch}`];
  let loadError;
  for (const target of targets) {
    const file = path.join(__dirname, `proclet.${target}.node`);
    if (!fs.existsSync(file)) continue;
    try {
      return require(file);
    } catch (e) {
      loadError = e;
    }
  }
  let present = [];
  try {
    present = fs.readdirSync(__dirname).filter((f) => f.endsWith('.node'));
  } catch {}
  const error = new Error(
    `proclet: no usable native binary for ${targets.join(' / ')} in ${__dirname}. ` +
      (present.length ? `This copy contains ${present.join(', ')}, built for another platform. ` : 'This copy contains no binary. ') +
      'Install proclet from a package built on this platform, or build it from source with a Rust toolchain (`npm run build` in a checkout).' +
      (loadError ? ` Loading failed with: ${loadError.message}` : ''),
    loadError ? { cause: loadError } : undefined,
  );
  error.code = 'ERR_PROCLET_BINARY_MISSING';
  throw error;
}

exports.Proclet = Proclet;
