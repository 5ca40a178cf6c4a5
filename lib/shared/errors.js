'use strict';
// Every error proclet throws or reports, worded once for both processes (the parent requires this
// module; the child runtime embeds it). Each message starts with "proclet: ", names the operation
// and the process, and says what to do; each error has a stable `code`. Bad arguments are
// TypeErrors, sizes RangeErrors, the rest Errors.

const util = require('util');

// proclet's own frames (an invalid value found deep in a message sent through a pool: a dozen
// and more) would push the caller's out of V8's default 10: the stack is captured deeper, then
// keeps proclet's frames and `Error.stackTraceLimit` frames below them, the caller's first.
const OWN_FRAMES = 40;
/** Where proclet's frames are: this bundle (dist/proclet.js, the child's script), or lib/ unbundled. */
const OWN_FILES =
  typeof __filename !== 'string' ? null : /[\\/]lib[\\/]shared$/.test(__dirname) ? require('path').resolve(__dirname, '..') + require('path').sep : __filename;

function makeError(Ctor, code, message, options) {
  const limit = Error.stackTraceLimit;
  let deeper = false;
  if (OWN_FILES !== null && typeof limit === 'number' && limit > 0 && limit < Infinity) {
    try {
      Error.stackTraceLimit = limit + OWN_FRAMES;
      deeper = true;
    } catch {
      // Frozen (--frozen-intrinsics): the stack is what the limit gives.
    }
  }
  let error;
  try {
    error = new Ctor(`proclet: ${message}`, options);
  } finally {
    if (deeper) Error.stackTraceLimit = limit;
  }
  if (deeper) trimStack(error, limit);
  error.code = code;
  return error;
}

/** Keeps proclet's frames on top of the stack, then `limit` more. */
function trimStack(error, limit) {
  const stack = error.stack;
  if (typeof stack !== 'string') return;
  const lines = stack.split('\n');
  let i = lines.findIndex((line) => /^\s+at /.test(line));
  if (i < 0) return;
  while (i < lines.length && lines[i].includes(OWN_FILES)) i++;
  if (lines.length <= i + limit) return;
  Object.defineProperty(error, 'stack', { value: lines.slice(0, i + limit).join('\n'), writable: true, configurable: true, enumerable: false });
}

/** A value for a message: short, on one line. */
function describeValue(value) {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (value === undefined) return 'undefined';
  return util.inspect(value, { depth: 0, breakLength: Infinity });
}

/** "child process 123 has exited (code 1)", or why there is no child. */
function describeEnd(pid, exit) {
  if (pid === undefined) return "the child process never started (see the 'error' event)";
  if (!exit) return `the channel to child process ${pid} is closed`;
  return exit.signal
    ? `child process ${pid} has exited (killed by ${exit.signal})`
    : `child process ${pid} has exited (code ${exit.code})`;
}

function invalidFunction(operation, got, hint) {
  return makeError(TypeError, 'ERR_PROCLET_INVALID_FUNCTION', `${operation} expects a function, got ${got}. ${hint}`);
}

const KILL_HINTS = {
  SIGABRT: ' (Node aborts like this when it runs out of memory; see its stderr)',
  SIGKILL: ' (sent by another process, or by the kernel when memory ran out)',
};

module.exports = {
  makeError,
  describeValue,

  invalidFunction,

  /**
   * A generator function, native (`function* () {}`, `async function* () {}`, `*gen() {}`) or as a
   * compiler rewrote one (`got` says which). Calling one only creates a generator object, and the
   * child calls the function and nothing more, so it would run none of its body.
   */
  generatorFunction: (operation, got) =>
    invalidFunction(
      operation,
      got,
      'Calling a generator function only creates a generator, and nothing in the child iterates it, so none of its body would run. ' +
        'Pass a regular or async function instead (function () {...}, async function () {...}) and call this.send(value) where it would yield a value.',
    ),

  /** A message that cannot travel: `operation` is `parent.send(message)` or `this.send(message)`. */
  invalidMessage: (operation, reason, hint, cause) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_MESSAGE', `${operation}: ${reason}.${hint ? ` ${hint}.` : ''}`, cause && { cause }),

  /** An event name that is not a non-empty string. */
  invalidEventName: (operation, event) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_EVENT', `${operation}: the event name must be a non-empty string, got ${describeValue(event)}.`),

  /** A listener, handler or method that is not a function. */
  invalidListener: (operation, value) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_FUNCTION', `${operation} expects a function, got ${describeValue(value)}.`),

  /** `side` is 'child' (names the parent listens for) or 'parent' (names the child handles itself). */
  reservedEvent: (operation, event, side) =>
    makeError(
      TypeError,
      'ERR_PROCLET_RESERVED_EVENT',
      side === 'child'
        ? `${operation}: ${JSON.stringify(event)} is reserved for proclet's own events on the parent's side; pick another name (use this.send() for messages).`
        : `${operation}: ${JSON.stringify(event)} is reserved in the child; pick another name (use parent.send() for messages).`,
    ),

  invalidMethods: (operation, value) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_FUNCTION', `${operation} expects an object of functions ({ name() {} }), got ${describeValue(value)}.`),

  duplicateMethod: (operation, name) =>
    makeError(TypeError, 'ERR_PROCLET_DUPLICATE_METHOD', `${operation}: a method named ${JSON.stringify(name)} is already exposed; each name can be exposed once.`),

  invalidMethodName: (operation, name) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_METHOD', `${operation}: the method name must be a non-empty string, got ${describeValue(name)}.`),

  /** The callee has no method of that name. */
  unknownMethod: (name, known) =>
    makeError(
      Error,
      'ERR_PROCLET_UNKNOWN_METHOD',
      `no method ${JSON.stringify(name)} is exposed on the other side (${known.length ? `exposed: ${known.map((k) => JSON.stringify(k)).join(', ')}` : 'nothing is exposed'}); expose it with expose({ ${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}() {} }).`,
    ),

  resultTooLarge: () =>
    makeError(RangeError, 'ERR_PROCLET_MESSAGE_TOO_LARGE', 'a method result: the error it threw is too large to send back (over 1 MiB of JSON).'),

  callTimeout: (operation, name, timeout, peer) =>
    makeError(Error, 'ERR_PROCLET_CALL_TIMEOUT', `${operation}: ${JSON.stringify(name)} on ${peer} did not answer within ${timeout} ms; the call was cancelled (its this.signal aborted).`),

  invalidOption: (operation, option, value, expected) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_OPTION', `${operation}: option ${option} must be ${expected}, got ${describeValue(value)}.`),

  /** `to(target)` with no such worker: `size` workers, ids 1..size. */
  invalidPeer: (operation, target, size) =>
    makeError(
      TypeError,
      'ERR_PROCLET_INVALID_PEER',
      `${operation}: no worker ${describeValue(target)}; ${size === 1 ? 'a lone Proclet is worker 1' : `this pool has workers 1 to ${size}`}, or 'all' for every worker.`,
    ),

  /** A pool call with no worker left to run it. */
  poolEnded: (operation) =>
    makeError(Error, 'ERR_PROCLET_CHANNEL_CLOSED', `${operation}: every worker of the pool has exited for good; create a new pool to run more calls.`),

  /** A pool call refused because `maxQueue` calls already wait. */
  queueFull: (operation, maxQueue) =>
    makeError(
      Error,
      'ERR_PROCLET_QUEUE_FULL',
      `${operation}: ${maxQueue} calls already wait for a free worker (maxQueue); wait for some to finish, or raise maxQueue or size.`,
    ),

  /** The child ended before its runtime said READY (`proclet.ready` or `restart()` rejects with this). */
  exitedBeforeReady: (pid, exit, operation = 'proclet.ready') =>
    makeError(Error, 'ERR_PROCLET_CHANNEL_CLOSED', `${operation}: ${describeEnd(pid, exit)} before it was ready; see the 'error' event for why.`),

  startTimeout: (pid, ms) =>
    makeError(Error, 'ERR_PROCLET_START_TIMEOUT', `child process ${pid} did not become ready within ${ms} ms (startTimeout); it has been killed.`),

  invalidSignal: (signal) => makeError(TypeError, 'ERR_PROCLET_INVALID_SIGNAL', `kill(signal): unknown signal ${util.inspect(signal)}.`),

  invalidExitCode: (operation, code) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_EXIT_CODE', `${operation}: code must be an integer, got ${util.inspect(code)}.`),

  alreadyStarted: (pid, stopped = false) =>
    makeError(
      Error,
      'ERR_PROCLET_ALREADY_STARTED',
      stopped
        ? 'run(): stop() was called before run(), which ended this Proclet; create a new Proclet to start a child.'
        : pid === undefined
          ? 'run() was already called on this Proclet; create a new Proclet to start another child.'
          : `run() was already called: child process ${pid} belongs to this Proclet; create a new Proclet to start another.`,
    ),

  /** `operation` (restart()) needs a running Proclet, and run() was not called yet. */
  notStarted: (operation) =>
    makeError(Error, 'ERR_PROCLET_NOT_STARTED', `${operation}: this Proclet has not started a child yet; call run() first.`),

  /** stop() ended the Proclet before run(): what needed a child gets this. */
  stoppedBeforeRun: (operation) =>
    makeError(Error, 'ERR_PROCLET_CHANNEL_CLOSED', `${operation}: stop() was called before run(), so this Proclet never started a child.`),

  /** Supervision ended (stop(), or the final exit) while restart() waited for its new child. */
  restartCancelled: (pid, why) =>
    makeError(Error, 'ERR_PROCLET_CHANNEL_CLOSED', `restart(): no new child process follows child process ${pid}: ${why}.`),

  /** `quickEnds` ends in a row, each within `minUptime` ms of its start (or before it was ready). */
  restartLimit: (pid, quickEnds, options, exit) =>
    makeError(
      Error,
      'ERR_PROCLET_RESTART_LIMIT',
      `child process ${pid} ended ${quickEnds} times in a row within minUptime (${options.minUptime} ms) of starting ` +
        `(the last one ${exit.signal ? `killed by ${exit.signal}` : exit.code === null ? 'could not be spawned' : `with code ${exit.code}`}); proclet gave up after ` +
        `maxRestarts (${options.maxRestarts}) restarts. The 'error' events before this one say why it ended; fix that, ` +
        'or raise maxRestarts or lower minUptime.',
    ),

  /** In the child: the parent closed the channel (it exited, or dropped the child). */
  parentGone: (operation) => makeError(Error, 'ERR_PROCLET_CHANNEL_CLOSED', `${operation}: the parent process closed the channel.`),

  channelClosed: (operation, pid, exit) => makeError(Error, 'ERR_PROCLET_CHANNEL_CLOSED', `${operation}: ${describeEnd(pid, exit)}.`),

  /** `bytes` of `what` ("UTF-8 text", "JSON") over the protocol's maximum. */
  tooLarge: (operation, bytes, what, max) =>
    makeError(
      RangeError,
      'ERR_PROCLET_MESSAGE_TOO_LARGE',
      `${operation}: the message is ${bytes} bytes of ${what}, over the maximum of ${max} bytes; split it into several messages.`,
    ),

  protocol: (pid, detail) =>
    makeError(Error, 'ERR_PROCLET_PROTOCOL', `child process ${pid} broke the message protocol (${detail}); it has been killed.`),

  /** The child exited by itself in the middle of writing a frame: not a kill, a message lost. */
  cutOff: (pid, detail, code) =>
    makeError(
      Error,
      'ERR_PROCLET_PROTOCOL',
      `child process ${pid} exited (code ${code}) in the middle of sending a message (${detail}); that message is lost. ` +
        'A child that calls process.exit() while the parent does not read loses what it could not write; this.close(code) delivers everything first.',
    ),

  /** In the child: the parent sent what this runtime does not understand. */
  protocolFromParent: (detail) =>
    makeError(Error, 'ERR_PROCLET_PROTOCOL', `the parent process broke the message protocol (${detail}); this child exits.`),

  killed: (pid, signal) =>
    makeError(Error, 'ERR_PROCLET_CHILD_KILLED', `child process ${pid} was killed by ${signal}${KILL_HINTS[signal] || ''}.`),

  /** What `who` ("child process 123") threw was not an Error: the 'error' event carries it as `value`. */
  nonErrorThrown: (who, value) => {
    const error = new Error(`${who} threw a non-Error value: ${util.inspect(value)}`);
    error.value = value;
    return error;
  },

  /** A script worker that require.resolve cannot find from the file that created the Proclet. */
  workerNotFound: (operation, specifier, from, cause) =>
    makeError(
      TypeError,
      'ERR_PROCLET_WORKER_NOT_FOUND',
      `${operation}: no worker module ${JSON.stringify(specifier)} from ${from} ` +
        "(a relative path is resolved from the file that calls new Proclet(), like require.resolve(); not from the working directory). " +
        'Check the path, or pass an absolute path or a file: URL (a string names a module file; to run code, pass a function).',
      cause ? { cause } : undefined,
    ),

  notAFunction: (operation) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_FUNCTION', `${operation}: the function source did not evaluate to a function in the child.`),

  /** A native error of the addon (`ERR_PROCLET_*` code, detail as message), worded for `operation`. */
  fromNative: (operation, error) => {
    if (error && typeof error.message === 'string' && error.message.startsWith('proclet: ')) return error;
    if (error && typeof error.code === 'string' && error.code.startsWith('ERR_PROCLET_')) {
      const Ctor = error.code === 'ERR_PROCLET_MESSAGE_TOO_LARGE' ? RangeError : Error;
      return makeError(Ctor, error.code, `${operation}: ${error.message}.`);
    }
    return error;
  },

  unhandledChildError: (pid) =>
    `proclet: unhandled 'error' from child process ${pid === undefined ? '(not started)' : pid} ` +
    "(add proclet.parent.on('error', ...) to handle it):\n",

  binaryMissing: (targets, dir, present, loadError) =>
    makeError(
      Error,
      'ERR_PROCLET_BINARY_MISSING',
      `no usable native binary for ${targets.join(' / ')} in ${dir}. ` +
        (present.length ? `This copy contains ${present.join(', ')}, built for another platform. ` : 'This copy contains no binary. ') +
        'Install proclet from a package built on this platform, or build it from source with a Rust toolchain (`npm run build` in a checkout).' +
        (loadError ? ` Loading failed with: ${loadError.message}` : ''),
      loadError ? { cause: loadError } : undefined,
    ),
};
