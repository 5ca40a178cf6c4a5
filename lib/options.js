'use strict';
// What the parent's settings become for a child: Node flags and signal numbers.

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

module.exports = { SIGNALS, signalNumber, signalName, childExecArgv };
