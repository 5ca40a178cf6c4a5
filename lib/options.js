'use strict';
// What users pass, checked and normalized: the Proclet's options, signals, and the Node flags a
// child inherits.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { fileURLToPath } = require('url');
const errors = require('./shared/errors');

const SIGNALS = os.constants.signals;
// Number to name; the first name wins, so 6 is SIGABRT (not its alias SIGIOT), as in child_process.
const SIGNAL_NAMES = {};
for (const [name, number] of Object.entries(SIGNALS)) if (!(number in SIGNAL_NAMES)) SIGNAL_NAMES[number] = name;

/** A signal name or number as a number, or a TypeError (ERR_PROCLET_INVALID_SIGNAL). */
function signalNumber(signal) {
  if (typeof signal === 'string' && Object.prototype.hasOwnProperty.call(SIGNALS, signal)) return SIGNALS[signal];
  if (Number.isInteger(signal) && (signal === 0 || SIGNAL_NAMES[signal])) return signal;
  throw errors.invalidSignal(signal);
}

/** A signal number as its name (the number itself if it has none). */
function signalName(number) {
  return SIGNAL_NAMES[number] || number;
}

// The parent's Node flags, minus those that would make the child debug, evaluate code, watch
// files or run tests instead of running the worker.
function childExecArgv() {
  const takesValue = new Set(['-e', '--eval', '-p', '--print', '-pe', '-ep', '--inspect-port', '--debug-port', '--watch-path', '--input-type']);
  const dropped =
    /^(--inspect(-brk|-wait|-port|-publish-uid)?|--debug(-brk|-port)?|--eval|--print|--input-type|--watch(-path|-preserve-output)?|--test(-[a-z-]+)?|--interactive|--check)(=.*)?$|^-[ic]$/;
  const argv = process.execArgv;
  const kept = [];
  for (let i = 0; i < argv.length; i++) {
    if (takesValue.has(argv[i])) i++;
    else if (!dropped.test(argv[i])) kept.push(argv[i]);
  }
  return kept;
}


// ---- supervision (API.md section 3) ----------------------------------------------------------

/** The restart policies: when a child that ended is followed by another. */
const RESTART_POLICIES = Object.freeze(['never', 'on-failure', 'always']);

/** Supervision's options with API.md's defaults (milliseconds). */
const SUPERVISION_DEFAULTS = Object.freeze({
  restart: 'never',
  maxRestarts: 16,
  minUptime: 1000,
  restartDelay: 100,
  maxRestartDelay: 15000,
  killTimeout: 5000,
});

const isMilliseconds = (value) => typeof value === 'number' && value >= 0 && Number.isFinite(value);

/** Checks the supervision options of `result` (defaults filled in); a TypeError names the bad one. */
function checkSupervision(result, operation) {
  if (!RESTART_POLICIES.includes(result.restart)) {
    throw errors.invalidOption(operation, 'restart', result.restart, `one of ${RESTART_POLICIES.map((p) => `'${p}'`).join(', ')}`);
  }
  if (!(Number.isInteger(result.maxRestarts) || result.maxRestarts === Infinity) || !(result.maxRestarts >= 0)) {
    throw errors.invalidOption(operation, 'maxRestarts', result.maxRestarts, 'an integer >= 0 (or Infinity)');
  }
  for (const key of ['minUptime', 'restartDelay', 'maxRestartDelay']) {
    if (!isMilliseconds(result[key])) throw errors.invalidOption(operation, key, result[key], 'a number of milliseconds >= 0');
  }
  checkKillTimeout(result.killTimeout, operation, 'killTimeout');
}

/** A kill timeout: milliseconds >= 0 (0: SIGKILL at once), or Infinity (never SIGKILL). */
function checkKillTimeout(value, operation, name) {
  if (!(isMilliseconds(value) || value === Infinity)) {
    throw errors.invalidOption(operation, name, value, 'a number of milliseconds >= 0 (0: SIGKILL at once; Infinity: never)');
  }
  return value;
}

/** `stop(options)`'s `{ timeout }`: the milliseconds before SIGKILL (default: the Proclet's `killTimeout`). */
function stopTimeout(options, killTimeout, operation) {
  if (options === undefined) return killTimeout;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw errors.invalidOption(operation, 'options', options, 'an object { timeout }');
  }
  return options.timeout === undefined ? killTimeout : checkKillTimeout(options.timeout, operation, 'timeout');
}


// --- The child process: arguments, Node flags, environment, working directory, stdio (API.md
// section 1). `undefined` means "the parent's, read when the child starts" (execArgv, env, cwd).
const PROCESS_DEFAULTS = Object.freeze({ args: Object.freeze([]), execArgv: undefined, env: undefined, cwd: undefined, stdio: 'inherit' });
const STDIO_MODES = ['inherit', 'pipe', 'ignore'];

/** A frozen copy of an array of strings without NUL characters (they cannot reach exec). */
function stringArray(operation, option, value) {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && !item.includes('\0'))) {
    throw errors.invalidOption(operation, option, value, 'an array of strings (without NUL characters)');
  }
  return Object.freeze([...value]);
}

/** Checks and copies the process options in `result` (a copy of the user's options, defaults filled in). */
function normalizeProcessOptions(operation, result) {
  result.args = stringArray(operation, 'args', result.args);
  if (result.execArgv !== undefined) result.execArgv = stringArray(operation, 'execArgv', result.execArgv);
  if (result.env !== undefined) {
    const env = result.env;
    if (env === null || typeof env !== 'object' || Array.isArray(env)) {
      throw errors.invalidOption(operation, 'env', env, 'an object of environment variables ({ NAME: "value" })');
    }
    const copy = {};
    for (const key of Object.keys(env)) {
      const value = env[key];
      if (value === undefined) continue; // as in child_process: an undefined variable is left out
      if (key === '' || key.includes('=') || key.includes('\0')) {
        throw errors.invalidOption(operation, `env[${JSON.stringify(key)}]`, key, 'a variable name: not empty, without "=" or NUL characters');
      }
      if (typeof value !== 'string' || value.includes('\0')) {
        throw errors.invalidOption(operation, `env.${key}`, value, 'a string (without NUL characters) or undefined; convert numbers with String()');
      }
      copy[key] = value;
    }
    result.env = Object.freeze(copy);
  }
  if (result.cwd !== undefined) result.cwd = directory(operation, result.cwd);
  if (!STDIO_MODES.includes(result.stdio)) {
    throw errors.invalidOption(operation, 'stdio', result.stdio, `one of ${STDIO_MODES.map((m) => `'${m}'`).join(', ')}`);
  }
}

/** `cwd` as an absolute path to a directory that exists (a relative path is from process.cwd()). */
function directory(operation, cwd) {
  let dir = cwd;
  if (cwd instanceof URL || (typeof cwd === 'string' && cwd.startsWith('file:'))) {
    try {
      dir = fileURLToPath(cwd);
    } catch {
      throw errors.invalidOption(operation, 'cwd', cwd, 'a path or a file: URL of a directory');
    }
  }
  if (typeof dir !== 'string' || dir === '' || dir.includes('\0')) {
    throw errors.invalidOption(operation, 'cwd', cwd, 'a path or a file: URL of a directory');
  }
  dir = path.resolve(dir);
  let stat;
  try {
    stat = fs.statSync(dir);
  } catch {}
  if (!stat || !stat.isDirectory()) {
    throw errors.invalidOption(operation, 'cwd', cwd, `an existing directory (${stat ? 'that is not a directory' : 'nothing is there'})`);
  }
  return dir;
}

/** The child's environment: the `env` option, or the parent's `process.env` as it is now. */
function childEnv(options) {
  if (options.env !== undefined) return options.env;
  const env = {};
  for (const [key, value] of Object.entries(process.env)) if (typeof value === 'string') env[key] = value;
  return env;
}
// --- end of the process options.


// ---- all options -------------------------------------------------------------------------------

/** What `new Proclet(worker, options)` accepts today, with API.md's defaults. */
const DEFAULTS = Object.freeze({ wildcard: false, delimiter: '.', startTimeout: 30000, ...SUPERVISION_DEFAULTS, ...PROCESS_DEFAULTS, serialization: 'json' });

/** Checks `options` and fills in defaults; a TypeError (ERR_PROCLET_INVALID_OPTION) names what is wrong. */
function normalizeOptions(options) {
  const operation = 'new Proclet(worker, options)';
  if (options === undefined) return { ...DEFAULTS };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw errors.invalidOption(operation, 'options', options, 'an object');
  }
  for (const key of Object.keys(options)) {
    if (!Object.prototype.hasOwnProperty.call(DEFAULTS, key)) {
      throw errors.invalidOption(operation, key, options[key], `one of the supported options (${Object.keys(DEFAULTS).join(', ')}); ${JSON.stringify(key)} is not one`);
    }
  }
  const result = { ...DEFAULTS };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) result[key] = value;
  if (typeof result.wildcard !== 'boolean') throw errors.invalidOption(operation, 'wildcard', result.wildcard, 'a boolean');
  if (typeof result.delimiter !== 'string' || result.delimiter.length === 0 || result.delimiter.includes('*')) {
    throw errors.invalidOption(operation, 'delimiter', result.delimiter, "a non-empty string without '*'");
  }
  if (typeof result.startTimeout !== 'number' || !(result.startTimeout >= 0) || !Number.isFinite(result.startTimeout)) {
    throw errors.invalidOption(operation, 'startTimeout', result.startTimeout, 'a number of milliseconds >= 0 (0: no limit)');
  }
  checkSupervision(result, operation);
  normalizeProcessOptions(operation, result);
  // serialization (API.md section 4): how messages, events, calls and run() arguments travel.
  if (result.serialization !== 'json' && result.serialization !== 'advanced') {
    throw errors.invalidOption(operation, 'serialization', result.serialization, "'json' or 'advanced'");
  }
  return result;
}

module.exports = { SIGNALS, signalNumber, signalName, childExecArgv, childEnv, normalizeOptions, stopTimeout, RESTART_POLICIES };
