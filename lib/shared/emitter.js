'use strict';
// Named events as both processes dispatch them: exact names, `onAny`, and with `wildcard: true`
// EventEmitter2's patterns (`*` one segment, `**` any number of segments, split by `delimiter`).
// The parent's `proclet.parent` and the child runtime's handlers use the same matching, so a
// pattern means the same thing on both sides.

const errors = require('./errors');

/** Events the child cannot emit: the parent's own events use these names. */
// (`newListener` and `removeListener` are EventEmitter's own.)
const RESERVED_FROM_CHILD = new Set(['message', 'error', 'exit', 'drain', 'spawn', 'restart', 'stdout', 'stderr', 'newListener', 'removeListener']);
/** Events the parent cannot emit into the child. */
const RESERVED_TO_CHILD = new Set(['message', 'stop']);

/** Options `{ wildcard, delimiter }`, checked by the caller. */
function isPattern(event, options) {
  return options.wildcard === true && event.includes('*');
}

/** A predicate for `pattern` (only called when `isPattern`). */
function compilePattern(pattern, delimiter) {
  const want = pattern.split(delimiter);
  return (name) => matchSegments(want, 0, name.split(delimiter), 0);
}

function matchSegments(want, i, got, j) {
  while (i < want.length) {
    if (want[i] === '**') {
      // `**` takes any number of segments (none included): try every split.
      for (let k = j; k <= got.length; k++) if (matchSegments(want, i + 1, got, k)) return true;
      return false;
    }
    if (j >= got.length || (want[i] !== '*' && want[i] !== got[j])) return false;
    i++;
    j++;
  }
  return j === got.length;
}

/** A string event name, or a TypeError (ERR_PROCLET_INVALID_EVENT) naming `operation`. */
function checkEventName(event, operation) {
  if (typeof event !== 'string' || event.length === 0) throw errors.invalidEventName(operation, event);
}

/** A function, or a TypeError (ERR_PROCLET_INVALID_FUNCTION) naming `operation`. */
function checkListener(listener, operation) {
  if (typeof listener !== 'function') throw errors.invalidListener(operation, listener);
}

const NONE = Object.freeze([]);

/**
 * Handlers by event name, by pattern, and for any event. `listenersFor(event)` returns, in
 * registration order, the handlers of the exact name and of the matching patterns. Lists are
 * copied on write, never in place: what `listenersFor` returned stays as it was while a handler
 * adds or removes handlers, and dispatching allocates nothing.
 */
class HandlerTable {
  #options;
  #exact = new Map(); // name -> [fn]
  #patterns = NONE; // [{ pattern, test, fn }]
  #any = NONE;

  constructor(options = {}) {
    this.#options = { wildcard: options.wildcard === true, delimiter: options.delimiter || '.' };
  }

  /** Adds `fn` for `event` (a name, or a pattern with `wildcard`); first with `prepend`. */
  on(event, fn, prepend = false) {
    if (isPattern(event, this.#options)) {
      const entry = { pattern: event, test: compilePattern(event, this.#options.delimiter), fn };
      this.#patterns = prepend ? [entry, ...this.#patterns] : [...this.#patterns, entry];
    } else {
      const list = this.#exact.get(event) || NONE;
      this.#exact.set(event, prepend ? [fn, ...list] : [...list, fn]);
    }
  }

  /** The listeners registered with exactly this pattern (what `once` wrapped, unwrapped). */
  patternListeners(pattern) {
    return this.#patterns.filter((p) => p.pattern === pattern).map((p) => p.fn.listener || p.fn);
  }

  /** Removes every listener registered with exactly this pattern. */
  removeAll(pattern) {
    this.#patterns = this.#patterns.filter((p) => p.pattern !== pattern);
  }

  /** Removes every pattern and `onAny` listener (exact names are the caller's own). */
  clear() {
    this.#patterns = NONE;
    this.#any = NONE;
  }

  off(event, fn) {
    if (isPattern(event, this.#options)) {
      // `fn.listener`: what a `once` wrapper wraps, as Node's EventEmitter does.
      const i = this.#patterns.findLastIndex((p) => p.pattern === event && (p.fn === fn || p.fn.listener === fn));
      if (i !== -1) this.#patterns = this.#patterns.filter((_, k) => k !== i);
      return;
    }
    const list = this.#exact.get(event);
    const i = list ? list.lastIndexOf(fn) : -1;
    if (i === -1) return;
    if (list.length === 1) this.#exact.delete(event);
    else this.#exact.set(event, list.filter((_, k) => k !== i));
  }

  onAny(fn) {
    this.#any = [...this.#any, fn];
  }

  offAny(fn) {
    const i = this.#any.lastIndexOf(fn);
    if (i !== -1) this.#any = this.#any.filter((_, k) => k !== i);
  }

  /** The handlers for `event` (exact name, then matching patterns), without `onAny` ones. Read only. */
  listenersFor(event) {
    const exact = this.#exact.get(event) || NONE;
    if (this.#patterns.length === 0) return exact;
    const matching = this.#patterns.filter((p) => p.test(event)).map((p) => p.fn);
    return matching.length === 0 ? exact : exact.concat(matching);
  }

  /** The `onAny` handlers. Read only. */
  get anyListeners() {
    return this.#any;
  }

  /** True when something would receive `event`. */
  handles(event) {
    return this.#any.length > 0 || this.#exact.has(event) || this.#patterns.some((p) => p.test(event));
  }

  /** How many handlers of any kind are registered. */
  get size() {
    let n = this.#any.length + this.#patterns.length;
    for (const list of this.#exact.values()) n += list.length;
    return n;
  }
}

module.exports = {
  RESERVED_FROM_CHILD,
  RESERVED_TO_CHILD,
  HandlerTable,
  compilePattern,
  isPattern,
  checkEventName,
  checkListener,
};
