'use strict';
// Every error proclet throws or reports, worded once for both processes (the parent requires this
// module; the child runtime embeds it). Each message starts with "proclet: ", names the operation
// and the process, and says what to do; each error has a stable `code`. Bad arguments are
// TypeErrors, sizes RangeErrors, the rest Errors.

const util = require('util');

function makeError(Ctor, code, message, options) {
  const error = new Ctor(`proclet: ${message}`, options);
  error.code = code;
  return error;
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

const KILL_HINTS = {
  SIGABRT: ' (Node aborts like this when it runs out of memory; see its stderr)',
  SIGKILL: ' (sent by another process, or by the kernel when memory ran out)',
};

module.exports = {
  makeError,
  describeValue,

  invalidFunction: (operation, got, hint) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_FUNCTION', `${operation} expects a function, got ${got}. ${hint}`),

  /** A message that cannot travel: `operation` is `parent.send(message)` or `this.send(message)`. */
  invalidMessage: (operation, reason, cause) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_MESSAGE', `${operation}: ${reason}. Messages must be JSON values.`, cause && { cause }),

  invalidEvent: (operation, event) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_EVENT', `${operation}: unsupported event ${util.inspect(event)}; the child side supports 'message'.`),

  invalidSignal: (signal) => makeError(TypeError, 'ERR_PROCLET_INVALID_SIGNAL', `kill(signal): unknown signal ${util.inspect(signal)}.`),

  invalidExitCode: (operation, code) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_EXIT_CODE', `${operation}: code must be an integer, got ${util.inspect(code)}.`),

  alreadyRunning: (pid) =>
    makeError(
      Error,
      'ERR_PROCLET_ALREADY_RUNNING',
      pid === undefined
        ? 'run() was already called on this Proclet; create a new Proclet to start another child.'
        : `run() was already called: child process ${pid} belongs to this Proclet; create a new Proclet to start another.`,
    ),

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

  /** What the child threw was not an Error: the parent's 'error' carries it as `value`. */
  nonErrorThrown: (pid, value) => {
    const error = new Error(`child process ${pid} threw a non-Error value: ${util.inspect(value)}`);
    error.value = value;
    return error;
  },

  notAFunction: (operation) =>
    makeError(TypeError, 'ERR_PROCLET_INVALID_FUNCTION', `${operation}: the function source did not evaluate to a function in the child.`),

  /** A native error of the addon (`ERR_PROCLET_*` code, detail as message), worded for `operation`. */
  fromNative: (operation, error) => {
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
