'use strict';
// ProcletPool (API.md section 6): `size` Proclets running the same worker, each with a stable id
// (1..size) that its replacements keep. Calls go to the least busy worker and queue FIFO in the
// pool while every worker runs `concurrency` of them; handlers and methods registered on
// `pool.child` are installed in every worker; `pool.parent` hears every worker, with the worker's
// id after each event's own arguments. Workers reach each other with `this.to(id | 'all')`:
// those frames are routed by the addon (src/napi/router.rs), not by this file.

const os = require('os');
const util = require('util');
const { Proclet, POOL_MEMBER, SET_BEHIND } = require('./proclet');
const { ParentChannel } = require('./parent');
const { PeerRouter } = require('./binding');
const { Codec } = require('./shared/codec');
const { FrameKind } = require('./shared/protocol');
const errors = require('./shared/errors');
const { checkCallOptions } = require('./shared/calls');
const { checkEventName, checkListener, RESERVED_TO_CHILD } = require('./shared/emitter');

const CONSTRUCT = 'new ProcletPool(worker, options)';
/**
 * Calls per `concurrency` slot that may wait inside a busy worker (Celery's prefetch multiplier
 * has the same default): a worker then goes from one call to the next without a round trip to
 * the parent, which is most of the cost of a small call.
 */
const DEFAULT_PREFETCH = 4;
/** Lifecycle events of a worker's Proclet, forwarded to `pool.parent` with the worker's id. */
const LIFECYCLE = ['error', 'spawn', 'restart', 'drain'];
/** Forwarded only once someone listens on the pool (listening may change how output flows). */
const OUTPUT = ['stdout', 'stderr'];

function checkCount(name, value, min, allowInfinity) {
  const ok = (Number.isSafeInteger(value) && value >= min) || (allowInfinity && value === Infinity);
  if (!ok) throw errors.invalidOption(CONSTRUCT, name, value, `an integer >= ${min}${allowInfinity ? ' (or Infinity)' : ''}`);
  return value;
}

/** `pool.parent`: every worker's messages and events, each listener getting the worker id last. */
class PoolParent extends ParentChannel {
  #pool;
  constructor(pool, host, options) {
    super(host, options);
    this.#pool = pool;
    super.on('newListener', (event) => {
      if (OUTPUT.includes(event)) pool.forwardOutput(event);
    });
  }
}

class ProcletPool {
  #size;
  #concurrency;
  #maxQueue;
  #router;
  /** Proclets by id (index id - 1). */
  #workers = [];
  /** Calls in flight per worker (index id - 1), and their records in the order they were sent. */
  #busy;
  #outstanding;
  /** A worker holds at most `concurrency * (1 + prefetch)` calls: running, or waiting there. */
  #depth;
  /** A worker takes calls: its child runs or is starting (not between a death and its restart). */
  #up;
  /** Workers whose final 'exit' came. */
  #gone = 0;
  /** Calls waiting for a worker: `{ operation, name, args, timeout, signal, deadline, resolve, reject, timer, onAbort }`. */
  #queue = [];
  #queueHead = 0;
  /** The workers' serialization: checks the arguments of a call that has to wait, at once. */
  #codec;
  /** Where the next least-busy search starts (ties go round the pool). */
  #next = 0;
  #ready;
  #exited;
  #exits = [];
  #forwarded = new Set();
  /** The id of the worker whose 'error' is being emitted (for the unhandled-error report). */
  #errorPid = undefined;

  /**
   * @param {Function} worker runs in every worker process, `this` = the child context.
   * @param {object} [options] `{ size, concurrency, maxQueue, ...ProcletOptions }` (README).
   */
  constructor(worker, options = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw errors.invalidOption(CONSTRUCT, 'options', options, 'an object');
    }
    const { size, concurrency, maxQueue, prefetch, ...procletOptions } = options;
    this.#size = checkCount('size', size === undefined ? os.availableParallelism() : size, 1, false);
    this.#concurrency = checkCount('concurrency', concurrency === undefined ? 1 : concurrency, 1, false);
    this.#maxQueue = checkCount('maxQueue', maxQueue === undefined ? Infinity : maxQueue, 0, true);
    this.#depth = 1 + checkCount('prefetch', prefetch === undefined ? DEFAULT_PREFETCH : prefetch, 0, false);
    // A pool replaces workers that fail, unless told otherwise.
    if (procletOptions.restart === undefined) procletOptions.restart = 'on-failure';
    this.#router = new PeerRouter(this.#size);
    this.#codec = new Codec(procletOptions.serialization === undefined ? 'json' : procletOptions.serialization);
    this.#busy = new Array(this.#size).fill(0);
    this.#outstanding = Array.from({ length: this.#size }, () => []);
    this.#up = new Array(this.#size).fill(true);
    const byId = {};
    for (let id = 1; id <= this.#size; id++) {
      const proclet = new Proclet(worker, { ...procletOptions, [POOL_MEMBER]: { router: this.#router, id, size: this.#size, concurrency: this.#concurrency } });
      this.#workers.push(proclet);
      byId[id] = proclet;
      this.#watch(proclet, id);
    }
    this.workers = Object.freeze(byId);
    const wildcard = procletOptions.wildcard === true;
    const delimiter = procletOptions.delimiter === undefined ? '.' : procletOptions.delimiter;
    this.parent = new PoolParent(
      this,
      {
        send: (message) => this.to('all').send(message),
        pid: () => this.#errorPid,
        expose: (methods) => {
          for (const proclet of this.#workers) proclet.parent.expose(methods);
        },
        flush: () => Promise.all(this.#workers.map((p) => p.parent.flush())).then(() => {}),
        // A pool's messages() consumer that is behind stops every worker's channel being read.
        setBehind: (iterator, behind) => {
          for (const proclet of this.#workers) proclet[SET_BEHIND](iterator, behind);
        },
        ended: () => this.#gone === this.#size,
      },
      { wildcard, delimiter },
    );
    this.child = Object.freeze({
      on: (event, handler) => {
        for (const proclet of this.#workers) proclet.child.on(event, handler);
        return this.child;
      },
      onAny: (handler) => {
        for (const proclet of this.#workers) proclet.child.onAny(handler);
        return this.child;
      },
      expose: (methods) => {
        for (const proclet of this.#workers) proclet.child.expose(methods);
        return this.child;
      },
      call: (name, ...args) => this.#call('pool.child.call(name, ...args)', name, args, undefined),
      callWith: (callOptions, name, ...args) => this.#call('pool.child.callWith(options, name, ...args)', name, args, callOptions),
    });
    this.#ready = Promise.all(this.#workers.map((p) => p.ready)).then(() => {});
    this.#ready.catch(() => {});
    this.#exited = Promise.all(this.#workers.map((p) => p.exited)).then(() => this.#exits.slice());
    Object.defineProperty(this, 'parent', { enumerable: true, writable: false });
    Object.defineProperty(this, 'child', { enumerable: true, writable: false });
    Object.defineProperty(this, 'workers', { enumerable: true, writable: false });
  }

  /** How many workers the pool has. */
  get size() {
    return this.#size;
  }

  /** Calls not started yet: waiting in the pool, or in a worker for one of its calls to end. */
  get queued() {
    let count = 0;
    for (let k = this.#queueHead; k < this.#queue.length; k++) if (this.#queue[k] !== undefined && !this.#queue[k].done) count++;
    for (const busy of this.#busy) if (busy > this.#concurrency) count += busy - this.#concurrency;
    return count;
  }

  /** Starts every worker with `args`. */
  run(...args) {
    for (const proclet of this.#workers) proclet.run(...args);
    return this;
  }

  /** Resolves when every worker is ready; rejects as the first worker's `ready` that rejects. */
  get ready() {
    return this.#ready;
  }

  /** Resolves with `[{ id, code, signal }]` (by id) once every worker has ended for good. */
  get exited() {
    return this.#exited;
  }

  /**
   * Stops every worker gracefully (their 'stop' handlers run, then they close); resolves with
   * `[{ id, code, signal }]` once all have ended.
   */
  stop(stopOptions) {
    return Promise.all(this.#workers.map((proclet) => proclet.stop(stopOptions))).then(() => this.#exits.slice());
  }

  /** Lets the parent exit while workers run (they end with it). */
  unref() {
    for (const proclet of this.#workers) proclet.unref();
    return this;
  }

  /** Undoes `unref()`. */
  ref() {
    for (const proclet of this.#workers) proclet.ref();
    return this;
  }

  /**
   * `{ send, emit, call, callWith }` to worker `id`, or `{ send, emit }` to every worker with
   * `'all'`. Handlers in the workers get `0` (the parent) as the sender id.
   */
  to(target) {
    if (target === 'all') {
      const workers = this.#workers;
      return {
        send: (message) => {
          let below = true;
          for (const proclet of workers) below = proclet.parent.send(message) && below;
          return below;
        },
        emit: (event, ...args) => {
          const operation = "pool.to('all').emit(event, ...args)";
          checkEventName(event, operation);
          if (RESERVED_TO_CHILD.has(event)) throw errors.reservedEvent(operation, event, 'parent');
          let below = true;
          for (const proclet of workers) below = proclet.child.emit(event, ...args) && below;
          return below;
        },
      };
    }
    if (!Number.isInteger(target) || target < 1 || target > this.#size) throw errors.invalidPeer('pool.to(id)', target, this.#size);
    const proclet = this.#workers[target - 1];
    const index = target - 1;
    return {
      send: (message) => proclet.parent.send(message),
      emit: (event, ...args) => proclet.child.emit(event, ...args),
      call: (name, ...args) => this.#direct(index, proclet.child.call(name, ...args)),
      callWith: (callOptions, name, ...args) => this.#direct(index, proclet.child.callWith(callOptions, name, ...args)),
    };
  }

  /** Forwards a worker output event ('stdout' / 'stderr') once the pool's parent has a listener. */
  forwardOutput(event) {
    if (this.#forwarded.has(event)) return;
    this.#forwarded.add(event);
    this.#workers.forEach((proclet, index) => proclet.parent.on(event, (...args) => this.parent.emit(event, ...args, index + 1)));
  }

  // ---- events -------------------------------------------------------------------------------

  #watch(proclet, id) {
    const index = id - 1;
    proclet.parent.onAny((event, ...args) => {
      this.parent.fromChild(event, [...args, id]);
    });
    for (const event of LIFECYCLE) {
      proclet.parent.on(event, (...args) => {
        if (event === 'restart') this.#up[index] = false;
        if (event === 'error') this.#errorPid = `${proclet.pid} (worker ${id})`;
        try {
          this.parent.emit(event, ...args, id);
        } finally {
          if (event === 'spawn') {
            this.#up[index] = true;
            this.#drain();
          }
        }
      });
    }
    proclet.parent.on('exit', (code, signal) => {
      this.#up[index] = false;
      this.#gone++;
      this.#exits.push({ id, code, signal });
      this.#exits.sort((a, b) => a.id - b.id);
      // Nothing will read what its peers send it any more.
      this.#router.close(id);
      try {
        this.parent.emit('exit', code, signal, id);
      } finally {
        if (this.#gone === this.#size) this.#rejectQueued();
        else this.#drain();
      }
    });
  }

  // ---- calls --------------------------------------------------------------------------------
  //
  // A worker runs at most `concurrency` calls at once (its runtime enforces it). While every
  // worker is that busy, up to `concurrency * prefetch` more calls per worker are handed over
  // ahead of time: they wait in the worker, in order, so that it never idles for a round trip
  // between two calls. Such a call has not started; if its worker dies, it goes back to the front of
  // the pool's queue for another worker instead of failing. Past that, calls wait here (FIFO).

  #call(operation, name, args, callOptions) {
    if (typeof name !== 'string' || name.length === 0) throw errors.invalidMethodName(operation, name);
    const { timeout, signal } = callOptions === undefined ? {} : checkCallOptions(operation, callOptions);
    if (this.#gone === this.#size) return Promise.reject(errors.poolEnded(operation));
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry = { operation, name, args, timeout, signal, deadline: 0, resolve, reject, timer: null, onAbort: null, done: false };
    if (timeout > 0) entry.deadline = Date.now() + timeout;
    const index = this.#queue.length === this.#queueHead ? this.#place() : -1;
    if (index >= 0) {
      // Throws what the worker's call() throws (bad arguments), synchronously.
      this.#dispatch(index, entry, true);
      return promise;
    }
    // Refused now, as a call to a worker would be, not when its turn comes.
    this.#codec.list(FrameKind.Call, [0, name], args, operation);
    if (signal && signal.aborted) return Promise.reject(signal.reason);
    if (this.queued >= this.#maxQueue) return Promise.reject(errors.queueFull(operation, this.#maxQueue));
    this.#enqueue(entry, false);
    return promise;
  }

  /**
   * The least busy worker that takes calls and holds fewer than `limit` (`concurrency` to run at
   * once; `concurrency * (1 + prefetch)` to also wait there), or -1.
   */
  #pick(limit) {
    let best = -1;
    let least = limit;
    const size = this.#size;
    for (let k = 0; k < size; k++) {
      const i = (this.#next + k) % size;
      if (this.#up[i] && this.#busy[i] < least) {
        best = i;
        least = this.#busy[i];
        if (least === 0) break;
      }
    }
    if (best >= 0) this.#next = (best + 1) % size;
    return best;
  }

  /** Where the next call goes: a worker with room to run it, else one it can wait in if the queue allows. */
  #place() {
    const index = this.#pick(this.#concurrency);
    if (index >= 0 || this.queued >= this.#maxQueue) return index;
    return this.#pick(this.#depth * this.#concurrency);
  }

  /** Sends `entry` to worker `index`; `throwing`: a synchronous refusal is thrown, not a rejection. */
  #dispatch(index, entry, throwing) {
    entry.done = true;
    clearTimeout(entry.timer);
    entry.timer = null;
    if (entry.onAbort) {
      entry.signal.removeEventListener('abort', entry.onAbort);
      entry.onAbort = null;
    }
    const child = this.#workers[index].child;
    let promise;
    try {
      if (entry.timeout === undefined && entry.signal === undefined) promise = child.call(entry.name, ...entry.args);
      else {
        const timeout = entry.deadline === 0 ? entry.timeout : Math.max(1, entry.deadline - Date.now());
        promise = child.callWith({ timeout, signal: entry.signal }, entry.name, ...entry.args);
      }
    } catch (error) {
      if (throwing) throw error;
      entry.reject(error);
      return;
    }
    this.#track(index, promise, entry);
  }

  /** A call to worker `index` (`to(id).call`), counted like the pool's own. */
  #direct(index, promise) {
    this.#track(index, promise, null);
    return promise;
  }

  // Counts a call in flight on worker `index` until it settles. A call that was still waiting in
  // a worker that died goes back to the pool's queue (see above).
  #track(index, promise, entry) {
    const record = { entry, requeued: false };
    const outstanding = this.#outstanding[index];
    outstanding.push(record);
    this.#busy[index]++;
    const release = () => {
      const at = outstanding.indexOf(record);
      if (at >= 0) {
        outstanding.splice(at, 1);
        this.#busy[index]--;
      }
    };
    promise.then(
      (value) => {
        release();
        if (entry) entry.resolve(value);
        this.#drain();
      },
      (error) => {
        if (error && error.code === 'ERR_PROCLET_CHANNEL_CLOSED' && outstanding.includes(record)) this.#lost(index);
        if (record.requeued) return;
        release();
        if (entry) entry.reject(error);
        this.#drain();
      },
    );
  }

  // Worker `index`'s child ended with calls outstanding (they all reject, in the order they were
  // sent, from the same turn): the first `concurrency` were running, the rest never started.
  #lost(index) {
    const outstanding = this.#outstanding[index];
    const waited = [];
    for (let k = this.#concurrency; k < outstanding.length; k++) {
      const record = outstanding[k];
      if (record.entry === null) continue;
      record.requeued = true;
      waited.push(record);
    }
    for (const record of waited) {
      outstanding.splice(outstanding.indexOf(record), 1);
      this.#busy[index]--;
    }
    // Oldest first, ahead of everything that was queued after them.
    for (let k = waited.length - 1; k >= 0; k--) this.#enqueue(waited[k].entry, true);
  }

  /** Queues `entry` (at the front if it is going back), with its timeout and abort signal. */
  #enqueue(entry, front) {
    if (this.#gone === this.#size) {
      entry.reject(errors.poolEnded(entry.operation));
      return;
    }
    entry.done = false;
    const { operation, name, timeout, signal } = entry;
    if (entry.deadline > 0) {
      const left = entry.deadline - Date.now();
      entry.timer = setTimeout(() => this.#dropQueued(entry, errors.callTimeout(operation, name, timeout, 'a worker of the pool (it was still queued)')), Math.max(0, left));
    }
    if (signal) {
      entry.onAbort = () => this.#dropQueued(entry, signal.reason);
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    if (front) this.#queue.splice(this.#queueHead, 0, entry);
    else this.#queue.push(entry);
  }

  /** Hands queued calls to workers with room, oldest first. */
  #drain() {
    while (this.#queueHead < this.#queue.length) {
      const entry = this.#queue[this.#queueHead];
      if (entry === undefined || entry.done) {
        this.#queueHead++;
        continue;
      }
      // This entry is counted as queued: it may go to a worker to wait there.
      const index = this.#pick(this.#depth * this.#concurrency);
      if (index < 0) break;
      this.#queue[this.#queueHead++] = undefined;
      this.#dispatch(index, entry, false);
    }
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    } else if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  #dropQueued(entry, reason) {
    if (entry.done) return;
    entry.done = true;
    clearTimeout(entry.timer);
    if (entry.onAbort) entry.signal.removeEventListener('abort', entry.onAbort);
    const at = this.#queue.indexOf(entry, this.#queueHead);
    if (at >= 0) this.#queue.splice(at, 1);
    entry.reject(reason);
  }

  /** No worker is left: what waits can never run. */
  #rejectQueued() {
    const waiting = this.#queue.slice(this.#queueHead);
    this.#queue = [];
    this.#queueHead = 0;
    for (const entry of waiting) {
      if (!entry || entry.done) continue;
      entry.done = true;
      clearTimeout(entry.timer);
      if (entry.onAbort) entry.signal.removeEventListener('abort', entry.onAbort);
      entry.reject(errors.poolEnded(entry.operation));
    }
  }

  [util.inspect.custom]() {
    return `ProcletPool { size: ${this.#size}, concurrency: ${this.#concurrency}, queued: ${this.queued} }`;
  }
}

module.exports = { ProcletPool };
