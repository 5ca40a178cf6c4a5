'use strict';
// Calls with results, both ways, matched by id (as turbopack's evaluate.ts and tinypool do). One
// `Calls` per side of a conversation: as the caller it keeps the pending calls (a timeout, an
// AbortSignal, and all of them rejected when the other side ends, so none is left pending); as the
// callee it keeps the exposed methods and an AbortController per call it serves, whose signal the
// method reads as `this.signal` (an AsyncLocalStorage, so it survives `await`).
//
// Frames (docs/protocol.md): CALL [id, name, ...args]; RESULT `<id>,1` (undefined), `<id>,1,<value
// JSON>` or `<id>,0,<Thrown JSON>` (no array around the value; [id, 1, value] inside a PACKED
// frame), reaching `onResult` as [id, 1|0, value]; CANCEL [id, Thrown]. Ids are the caller's: each
// side numbers its own calls.

const { FrameKind } = require('./protocol');
const codec = require('./codec');
const errors = require('./errors');
const { serializeThrown, reviveThrownValue } = require('./thrown');

// One store for the whole process, made when the first call is served and enabled only while
// calls are: on Node 20 and 22 an enabled AsyncLocalStorage makes every promise of the process
// pay for it. It is disabled once no call has been served for IDLE_MS, not after each one
// (enabling costs about as much as a call), and what it holds per call is a `Served`, whose
// AbortController is made only if the method reads `this.signal` or the call is cancelled.
let signals = null;
let serving = 0;
let disableScheduled = false;
const IDLE_MS = 1000;

function store() {
  if (signals === null) signals = new (require('async_hooks').AsyncLocalStorage)();
  return signals;
}

function served() {
  if (--serving > 0 || disableScheduled) return;
  disableScheduled = true;
  // Unreferenced: the timer never keeps a process alive.
  setTimeout(() => {
    disableScheduled = false;
    if (serving === 0) signals.disable();
  }, IDLE_MS).unref();
}

/** One call being served: its AbortSignal, made on first use. */
class Served {
  controller = null;
  reason = undefined;
  cancelled = false;

  get signal() {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.cancelled) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason) {
    if (this.cancelled) return;
    this.cancelled = true;
    this.reason = reason;
    if (this.controller !== null) this.controller.abort(reason);
  }
}

/** A call made, awaiting its result. */
class Pending {
  timer = null;

  constructor(resolve, reject, signal) {
    this.resolve = resolve;
    this.reject = reject;
    this.signal = signal;
  }
}

// The executor of every call's promise: one function for all of them, not a closure per call.
// `new Promise` runs it synchronously, so `captured` is read right after, before anything else.
const captured = { resolve: null, reject: null };
function capture(resolve, reject) {
  captured.resolve = resolve;
  captured.reject = reject;
}

/** Runs an exposed method with the arguments of a CALL array (from index 2). */
function invoke(method, thisArg, array) {
  switch (array.length) {
    case 2:
      return method.call(thisArg);
    case 3:
      return method.call(thisArg, array[2]);
    default:
      return method.apply(thisArg, array.slice(2));
  }
}

class Calls {
  #send;
  #codec;
  #peer;
  #thisArg;
  #nextId = 1;
  /**
   * Calls made, awaiting their result: the latest one in a slot of its own (sequential calls,
   * one awaited at a time, never touch the Map, whose churn rehashes it every few calls), the
   * others by id. Ids only grow, so the slot holds the largest pending id, if it is pending.
   */
  #slotId = 0;
  #slotEntry = null;
  /** id -> Pending. */
  #pending = new Map();
  /** AbortSignal -> Set of ids: one 'abort' listener per signal, however many calls share it. */
  #bySignal = new Map();
  /** name -> function: what the other side may call here. */
  #methods = new Map();
  /** id -> Served: calls being served here. */
  #serving = new Map();
  /** Set once the other side ended: (operation) => Error. */
  #closed = null;
  /** At most this many calls served at once (0: no limit); the rest wait here, in order. */
  #limit;
  /** CALL arrays waiting for a free slot, oldest first. */
  #waiting = [];
  #starting = false;

  /**
   * `send(kind, payload, head)` queues a frame (`head`, for a RESULT's text form, is ASCII that
   * goes before the payload: `<id>,1,`); `codec` (lib/shared/codec.js) encodes arguments and
   * results; `peer()` describes the other process for messages ("child process 123"); `thisArg`
   * is `this` in the methods served here (or later, `bind`); `limit`: how many calls run at once
   * here (a pool worker's `concurrency`; 0, the default, for no limit).
   */
  constructor({ send, codec: instance, peer, thisArg, limit = 0 }) {
    this.#send = send;
    this.#codec = instance;
    this.#peer = peer;
    this.#thisArg = thisArg;
    this.#limit = limit;
  }

  /** The id the next call will get. */
  get nextId() {
    return this.#nextId;
  }

  /** Sets `this` for the methods served here. */
  bind(thisArg) {
    this.#thisArg = thisArg;
  }

  // ---- as the caller --------------------------------------------------------------------------

  /** Calls `name` on the other side; `options` is `{ timeout (ms), signal }` (omitted: neither). */
  call(operation, name, args, options) {
    if (typeof name !== 'string' || name.length === 0) throw errors.invalidMethodName(operation, name);
    let timeout;
    let signal;
    if (options !== undefined) ({ timeout, signal } = checkCallOptions(operation, options));
    const id = this.#nextId;
    const payload = this.#codec.call(id, name, args, operation);
    if (signal && signal.aborted) return Promise.reject(signal.reason);
    if (this.#closed) return Promise.reject(this.#closed(operation));
    this.#nextId++;
    const promise = new Promise(capture);
    const entry = new Pending(captured.resolve, captured.reject, signal);
    captured.resolve = captured.reject = null;
    if (this.#slotEntry !== null) this.#pending.set(this.#slotId, this.#slotEntry);
    this.#slotId = id;
    this.#slotEntry = entry;
    if (timeout > 0) this.#arm(entry, id, operation, name, timeout);
    if (signal) this.#watch(signal, id);
    try {
      this.#send(typeof payload === 'string' ? FrameKind.Call : FrameKind.Packed, payload);
    } catch (error) {
      this.#take(id);
      entry.reject(error);
    }
    return promise;
  }

  // A closure of its own, so that a call without a timeout makes none (nor the context it needs).
  #arm(entry, id, operation, name, timeout) {
    entry.timer = setTimeout(() => this.#abandon(id, errors.callTimeout(operation, name, timeout, this.#peer())), timeout);
  }

  /** A RESULT frame's array. A result for a call no longer pending (timed out, aborted) is dropped. */
  onResult(array) {
    const entry = this.#take(array[0]);
    if (entry === undefined) return;
    if (array[1] === 1) entry.resolve(array[2]);
    else entry.reject(reviveThrownValue(array[2], this.#peer()));
  }

  // The caller gave up (timeout, abort): reject now, and tell the callee, whose method sees its
  // `this.signal` abort with the same reason.
  #abandon(id, reason) {
    const entry = this.#take(id);
    if (!entry) return;
    entry.reject(reason);
    if (this.#closed) return;
    try {
      this.#send(FrameKind.Cancel, JSON.stringify([id, serializeThrown(reason)]));
    } catch {
      // The channel closed meanwhile: there is nothing left to cancel.
    }
  }

  #watch(signal, id) {
    let ids = this.#bySignal.get(signal);
    if (!ids) {
      ids = new Set();
      this.#bySignal.set(signal, ids);
      ids.onAbort = () => {
        this.#bySignal.delete(signal);
        for (const each of ids) this.#abandon(each, signal.reason);
      };
      signal.addEventListener('abort', ids.onAbort, { once: true });
    }
    ids.add(id);
  }

  #take(id) {
    let entry;
    if (id === this.#slotId && this.#slotEntry !== null) {
      entry = this.#slotEntry;
      this.#slotEntry = null;
    } else {
      entry = this.#pending.get(id);
      if (entry === undefined) return undefined;
      this.#pending.delete(id);
    }
    if (entry.timer !== null) clearTimeout(entry.timer);
    if (entry.signal === undefined) return entry;
    const ids = this.#bySignal.get(entry.signal);
    if (ids) {
      ids.delete(id);
      if (ids.size === 0) {
        this.#bySignal.delete(entry.signal);
        entry.signal.removeEventListener('abort', ids.onAbort);
      }
    }
    return entry;
  }

  // ---- as the callee --------------------------------------------------------------------------

  /** Adds `methods` ({ name: function }) to what the other side may call. */
  expose(operation, methods) {
    const entries = checkMethods(operation, methods, this.#methods);
    for (const [name, fn] of entries) this.#methods.set(name, fn);
  }

  /**
   * A CALL frame's array: runs the method and answers with a RESULT frame when it settles. Past
   * the limit the call waits, in order, until a call being served ends (or is cancelled).
   */
  onCall(array) {
    if (this.#limit > 0 && (this.#serving.size >= this.#limit || this.#waiting.length > 0)) {
      this.#waiting.push(array);
      return;
    }
    this.#serve(array);
  }

  /** Starts waiting calls while there is room (a loop, not a recursion through sync methods). */
  #startWaiting() {
    if (this.#starting || this.#closed) return;
    this.#starting = true;
    try {
      while (this.#waiting.length > 0 && this.#serving.size < this.#limit) this.#serve(this.#waiting.shift());
    } finally {
      this.#starting = false;
    }
  }

  // `array`: [id, name, ...args].
  #serve(array) {
    const id = array[0];
    const method = this.#methods.get(array[1]);
    if (method === undefined) {
      this.#answer(id, false, errors.unknownMethod(array[1], [...this.#methods.keys()]));
      return;
    }
    const call = new Served();
    // Counted until the method settles, cancelled or not: its `this.signal` must stay readable.
    serving++;
    let result;
    let then;
    try {
      result = store().run(call, invoke, method, this.#thisArg, array);
      // A `then` getter of the user's may throw too.
      then = result !== null && (typeof result === 'object' || typeof result === 'function') ? result.then : undefined;
    } catch (error) {
      served();
      this.#answered(id, false, error);
      return;
    }
    // Settled synchronously: nothing could cancel it meanwhile (frames are read between tasks).
    if (typeof then !== 'function') {
      served();
      this.#answered(id, true, result);
      return;
    }
    // Running: a CANCEL aborts its signal and drops its result.
    this.#serving.set(id, call);
    // A thenable of the user's may call both of its callbacks, or one twice: the first counts.
    let settled = false;
    const settle = (ok, value) => {
      if (settled) return;
      settled = true;
      served();
      this.#reply(id, ok, value);
    };
    new Promise((resolve, reject) => then.call(result, resolve, reject)).then(
      (value) => settle(true, value),
      (error) => settle(false, error),
    );
  }

  /** A CANCEL frame's array: the caller gave up; the method's signal aborts, its result is dropped. */
  onCancel([id, reason]) {
    const call = this.#serving.get(id);
    if (!call) {
      // Not started yet: it never will be.
      const at = this.#waiting.findIndex((array) => array[0] === id);
      if (at >= 0) this.#waiting.splice(at, 1);
      return;
    }
    this.#serving.delete(id);
    call.abort(reviveThrownValue(reason, this.#peer()));
    if (this.#waiting.length > 0) this.#startWaiting();
  }

  /** The AbortSignal of the call being served (inside an exposed method), else undefined. */
  get signal() {
    const call = signals === null ? undefined : signals.getStore();
    return call === undefined ? undefined : call.signal;
  }

  // A served call settled: answer it, unless it was cancelled (then its result is dropped).
  #reply(id, ok, value) {
    if (this.#serving.delete(id)) this.#answer(id, ok, value);
    if (this.#waiting.length > 0) this.#startWaiting();
  }

  // A call settled synchronously (never in #serving): answer it.
  #answered(id, ok, value) {
    this.#answer(id, ok, value);
    if (this.#waiting.length > 0) this.#startWaiting();
  }

  #answer(id, ok, value) {
    if (this.#closed) return;
    let payload;
    let head;
    try {
      payload = ok ? this.#codec.result(id, value, 'a method result') : thrownJson(value);
      // The head shares the frame: a value whose JSON fits alone may not fit after it.
      head = typeof payload === 'string' ? codec.resultHead(id, ok, payload) : '';
      codec.checkSize(payload, FrameKind.Result, 'a method result', head.length);
    } catch (error) {
      // A result that cannot travel (no JSON form, too large) rejects the call with why.
      ok = false;
      payload = thrownJson(error);
      head = codec.resultHead(id, ok, payload);
    }
    try {
      if (typeof payload === 'string') this.#send(FrameKind.Result, payload, head);
      else this.#send(FrameKind.Packed, payload);
    } catch {
      // The caller is gone: nobody is waiting for this result.
    }
  }

  // ---- both -----------------------------------------------------------------------------------

  /**
   * The other side ended: every pending call rejects with `error(operation)` (and later calls
   * too), and the methods still running here see their signal abort.
   */
  close(error) {
    if (this.#closed) return;
    this.#closed = error;
    this.interrupt(error);
  }

  /**
   * The other side ended and another may take its place (a restart): every pending call rejects
   * with `error(operation)` and the methods still running here see their signal abort, as with
   * `close`, but later calls are sent (to the next one). Calls numbered `before` and up stay
   * pending: they were queued for the next one, never sent to the one that ended.
   */
  interrupt(error, before = Infinity) {
    const ids = [...this.#pending.keys()];
    if (this.#slotEntry !== null) ids.push(this.#slotId);
    for (const id of ids) if (id < before) this.#take(id).reject(error('call()'));
    const running = [...this.#serving.values()];
    this.#serving.clear();
    this.#waiting = [];
    for (const call of running) call.abort(error('an exposed method'));
  }
}

/** The JSON of what a method threw (a Thrown, docs/protocol.md), for a RESULT's text form. */
function thrownJson(error) {
  const text = JSON.stringify(serializeThrown(error));
  // An error too large to travel (a huge message or stack) still rejects the call, with less.
  if (text.length > 1024 * 1024) return JSON.stringify(serializeThrown(errors.resultTooLarge()));
  return text;
}

function checkCallOptions(operation, options) {
  if (options === null || typeof options !== 'object') throw errors.invalidOption(operation, 'options', options, 'an object { timeout, signal }');
  const { timeout, signal } = options;
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 0 && Number.isFinite(timeout))) {
    throw errors.invalidOption(operation, 'timeout', timeout, 'a number of milliseconds >= 0');
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw errors.invalidOption(operation, 'signal', signal, 'an AbortSignal');
  return { timeout, signal };
}

function checkMethods(operation, methods, existing) {
  if (methods === null || typeof methods !== 'object' || Array.isArray(methods)) throw errors.invalidMethods(operation, methods);
  const entries = Object.entries(methods);
  for (const [name, fn] of entries) {
    if (typeof fn !== 'function') throw errors.invalidListener(`${operation} (method ${JSON.stringify(name)})`, fn);
    if (existing.has(name)) throw errors.duplicateMethod(operation, name);
  }
  return entries;
}

module.exports = { Calls, checkMethods, checkCallOptions };
