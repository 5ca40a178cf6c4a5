'use strict';
// What users pass, checked and normalized: the Proclet's options, signals, and the Node flags a
// child inherits.

const os = require('os');
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

// ---- all options -------------------------------------------------------------------------------

/** What `new Proclet(worker, options)` accepts today, with API.md's defaults. */
const DEFAULTS = Object.freeze({ wildcard: false, delimiter: '.', startTimeout: 30000, ...SUPERVISION_DEFAULTS });

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
  return result;
}

module.exports = { SIGNALS, signalNumber, signalName, childExecArgv, normalizeOptions, stopTimeout, RESTART_POLICIES };
