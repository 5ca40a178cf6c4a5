'use strict';
// The Proclet: what the user holds. It owns everything that outlives one child process (the
// worker's source, the handlers and methods shipped to the child, the methods exposed to it,
// what was sent before a child runs, the listeners, the lifecycle promises) and opens one
// Session (lib/session.js) per OS process. Today a Proclet runs one child; supervision adds more
// sessions here without changing them.

const util = require('util');
const { FrameKind, HEADER_LEN, HIGH_WATER_MARK } = require('./shared/protocol');
const codec = require('./shared/codec');
const errors = require('./shared/errors');
const { Calls, checkMethods } = require('./shared/calls');
const { reviveThrown } = require('./shared/thrown');
const sourceBoundary = require('./source');
const { functionSource, callerFile } = require('./source/function');
const { mergeChildCoverage } = require('./source/coverage');
const { SIGNALS, signalNumber, childExecArgv, normalizeOptions } = require('./options');
const { Session } = require('./session');
const { ParentChannel } = require('./parent');
const { ChildHandle } = require('./child-handle');
const { PeerRouter } = require('./binding');

/**
 * Where lib/pool.js puts a worker's place in its pool (`{ router, id, size }`) on the options it
 * passes to `new Proclet()`: a symbol, so it is no option a user can pass by name.
 */
const POOL_MEMBER = Symbol('proclet.poolMember');
/** `proclet[SET_BEHIND](iterator, behind)`: a pool's `messages()` pausing its workers' channels. */
const SET_BEHIND = Symbol('proclet.setBehind');

const SEND = 'parent.send(message)';
const SHIPPED_WORKER = 'the function passed to new Proclet()';

/** What is shipped for `fn`: its source with what compiled code needs (lib/source/). */
function shippedSource(fn, operation) {
  return sourceBoundary.prepare(fn, functionSource(fn, operation), operation);
}

/** How closure explanations name a shipped function. */
function describeShipped(spec) {
  if (spec.type === 'on') return `a child.on(${util.inspect(spec.event)}) handler`;
  if (spec.type === 'onAny') return 'a child.onAny() handler';
  return `the child method ${JSON.stringify(spec.name)} (child.expose)`;
}

/** Surfaces `error` as an ordinary uncaught exception on its own tick, after the current batch. */
function rethrowLater(error) {
  process.nextTick(() => {
    throw error;
  });
}

/** A promise with its settle functions; never an unhandled rejection by itself. */
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

class Proclet {
  #worker; // { source, method }
  #caller;
  #options;
  #state = 'idle'; // 'running' | 'exited'
  #session = null;
  #pid = undefined;
  #exit = null;
  #referenced = true;
  /** What the child runs besides the worker, as HANDLER payloads (JSON of `{ type, event?, name?, source, method }`): sent after INIT to every child. */
  #handlers = [];
  /** Names of the methods shipped to the child (each can be exposed once). */
  #childMethods = new Set();
  /** Frames sent before a child runs, `[kind, payload, ...]`, replayed into the next session. */
  #pending = [];
  #pendingBytes = 0;
  /** `flush()` calls made before a child runs: settled by the first session. */
  #pendingFlushes = [];
  /** `{ what, source }` of every shipped function, for closure explanations. */
  #shipped = [];
  /** `messages()` iterators whose consumer is behind: reading is paused while there are some. */
  #behind = new Set();
  #calls;
  #ready = deferred();
  #exited = deferred();
  #startTimer = null;
  /** The final 'exit' was emitted. */
  #finished = false;
  /** `{ router, id, size }`: this worker's place among its peers (a pool's, or its own). */
  #peers;

  /**
   * @param {Function} fn the worker: runs in a new Node.js process, `this` = the child context.
   * @param {object} [options] `{ wildcard, delimiter, startTimeout }` (README).
   */
  constructor(fn, options) {
    const { source, method, original } = shippedSource(fn, 'new Proclet(fn)');
    this.#options = normalizeOptions(options);
    const member = options != null && typeof options === 'object' ? options[POOL_MEMBER] : undefined;
    this.#peers = member || { router: null, id: 1, size: 1 };
    this.#shipped.push({ what: SHIPPED_WORKER, source: original });
    this.#worker = { source, method };
    this.#caller = callerFile(Proclet);
    // `this` in a method the parent exposes: its call's signal.
    const calls = new Calls({
      send: (kind, payload) => this.#write(kind, payload, 'call()'),
      peer: () => (this.#pid === undefined ? 'the child process' : `child process ${this.#pid}`),
    });
    calls.bind(Object.freeze({ get signal() { return calls.signal; } }));
    this.#calls = calls;
    this.parent = new ParentChannel(
      {
        send: (message) => this.#send(message),
        pid: () => this.#pid,
        expose: (methods) => calls.expose('parent.expose(methods)', methods),
        flush: () => this.#flush(),
        setBehind: (iterator, behind) => this.#setBehind(iterator, behind),
        ended: () => this.#finished,
      },
      this.#options,
    );
    this.child = new ChildHandle({
      ship: (spec, fn, operation) => this.#ship(spec, fn, operation),
      emit: (event, args, operation) => this.#write(FrameKind.Event, codec.argsToJson([event], args, operation), operation),
      call: (operation, name, args, callOptions) => calls.call(operation, name, args, callOptions),
      exposeInChild: (methods) => this.#exposeInChild(methods),
    });
    Object.defineProperty(this, 'parent', { enumerable: true, writable: false });
    Object.defineProperty(this, 'child', { enumerable: true, writable: false });
    Object.defineProperty(this, SET_BEHIND, { value: (iterator, behind) => this.#setBehind(iterator, behind) });
    this.#exited.promise.catch(() => {});
  }

  /**
   * Starts the child process; `args` go to the worker function (JSON values). Throws if called
   * twice. Returns this Proclet.
   */
  run(...args) {
    if (this.#state !== 'idle') throw errors.alreadyStarted(this.#pid);
    const init = this.#init(args);
    this.#state = 'running';
    try {
      this.#start(init);
    } catch (cause) {
      const error = errors.fromNative('run()', cause);
      this.#ready.reject(error);
      this.#ended(null, null);
      // Two ticks: an 'error' listener that throws does not cost the 'exit'.
      process.nextTick(() => this.#emit('error', error));
      process.nextTick(() => this.#finish(null, null));
    }
    return this;
  }

  /** Resolves when the child's runtime is connected; rejects if it never gets there. */
  get ready() {
    return this.#ready.promise;
  }

  /** Resolves with `{ code, signal }` after the final 'exit'; never rejects. */
  get exited() {
    return this.#exited.promise;
  }

  /** The child's process id, once `run()` has been called. */
  get pid() {
    return this.#pid;
  }

  /** Sends a signal to the child (default SIGTERM). False if it is not running. */
  kill(signal = 'SIGTERM') {
    const number = signalNumber(signal);
    return this.#session !== null && this.#session.kill(number);
  }

  /** Lets the parent exit while the child runs (the child ends with it). */
  unref() {
    this.#referenced = false;
    if (this.#session) this.#session.setRef(false);
    return this;
  }

  /** Undoes `unref()`: the running child keeps the parent's event loop alive. */
  ref() {
    this.#referenced = true;
    if (this.#session) this.#session.setRef(true);
    return this;
  }

  /** The INIT payload for `run(...args)`; refuses arguments that cannot travel, synchronously. */
  #init(args) {
    const operation = 'run(...args)';
    const init = `{"caller":${JSON.stringify(this.#caller)},"options":${JSON.stringify({
      wildcard: this.#options.wildcard,
      delimiter: this.#options.delimiter,
    })},"id":${this.#peers.id},"size":${this.#peers.size},"concurrency":${this.#peers.concurrency || 0},"handlers":${this.#handlers.length},"args":${codec.argsToJson([], args, operation)}}`;
    codec.checkSize(init, FrameKind.Init, operation);
    return init;
  }

  #start(init) {
    const options = {
      execPath: process.execPath,
      execArgv: childExecArgv(),
      source: this.#worker.source,
      method: this.#worker.method,
      peers: this.#peerRoute(),
    };
    const session = new Session(options, init, this.#sessionHost());
    this.#session = session;
    this.#pid = session.pid;
    if (!this.#referenced) session.setRef(false);
    if (this.#behind.size > 0) session.setPaused(true);
    // Every frame was checked (size, JSON) when it was sent or registered: none can be refused.
    for (const shipped of this.#handlers) session.send(FrameKind.Handler, shipped, 'run()');
    const pending = this.#pending;
    const drainOwed = this.#pendingBytes >= HIGH_WATER_MARK;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (let i = 0; i < pending.length; i += 2) session.send(pending[i], pending[i + 1], SEND);
    // INIT went out at once (the first frame of the tick); what was sent before run() follows
    // now too, and ends the burst: the child waits for INIT and its handlers, and a send right
    // after run() is written at once, not at the end of a tick the caller may spend blocked.
    session.flushNow();
    for (const flush of this.#pendingFlushes.splice(0)) session.flushed('parent.flush()').then(flush.resolve, flush.reject);
    // A send before run() returned false: 'drain' is owed once what it queued is written.
    if (drainOwed) session.flushed('parent.send(message)').then(() => this.#emit('drain'), () => {});
    const ms = this.#options.startTimeout;
    if (ms > 0) {
      this.#startTimer = setTimeout(() => {
        const error = errors.startTimeout(this.#pid, ms);
        this.#ready.reject(error);
        session.kill(SIGNALS.SIGKILL);
        this.#emit('error', error);
      }, ms);
      this.#startTimer.unref();
    }
  }

  /** The router this worker's children join: its pool's, or (a lone Proclet) one of its own. */
  #peerRoute() {
    if (this.#peers.router === null) this.#peers.router = new PeerRouter(1);
    return { router: this.#peers.router, id: this.#peers.id };
  }

  /** What a session reports, turned into the Proclet's events. */
  #sessionHost() {
    return {
      ready: () => {
        clearTimeout(this.#startTimer);
        this.#ready.resolve();
      },
      message: (message) => this.parent.fromChildMessage(message),
      event: (event, args) => this.parent.fromChild(event, args),
      call: (array) => this.#calls.onCall(array),
      result: (array) => this.#calls.onResult(array),
      cancel: (array) => this.#calls.onCancel(array),
      error: (thrown) => this.#emit('error', sourceBoundary.explainChildError(reviveThrown(thrown, `child process ${this.#pid}`), this.#shipped)),
      coverage: (report) => {
        try {
          mergeChildCoverage(report);
        } catch (error) {
          rethrowLater(error);
        }
      },
      drain: () => this.#emit('drain'),
      protocolError: (detail) => this.#emit('error', errors.protocol(this.#pid, detail)),
      cutOff: (detail, code) => this.#emit('error', errors.cutOff(this.#pid, detail, code)),
      exit: (code, signal, unexpected) => {
        this.#ended(code, signal);
        // 'exit' comes last even when an 'error' listener throws (then on the next tick).
        let threw = unexpected;
        try {
          if (unexpected) this.#emit('error', errors.killed(this.#pid, signal));
          threw = false;
        } finally {
          if (threw) process.nextTick(() => this.#finish(code, signal));
          else this.#finish(code, signal);
        }
      },
    };
  }

  // The child is gone: nothing more can reach it, and nothing waits for it.
  #ended(code, signal) {
    clearTimeout(this.#startTimer);
    this.#session = null;
    this.#state = 'exited';
    this.#exit = { code, signal };
    const pid = this.#pid;
    const exit = this.#exit;
    const closed = (operation) => errors.channelClosed(operation, pid, exit);
    this.#ready.reject(errors.exitedBeforeReady(pid, exit));
    this.#calls.close(closed);
    for (const flush of this.#pendingFlushes.splice(0)) flush.reject(closed('parent.flush()'));
  }

  #finish(code, signal) {
    this.#finished = true;
    try {
      this.#emit('exit', code, signal);
    } finally {
      this.#exited.resolve({ code, signal });
    }
  }

  #send(message) {
    if (codec.isText(message)) return this.#write(FrameKind.Text, message, SEND);
    return this.#write(FrameKind.Message, codec.toJson(message, SEND), SEND);
  }

  #write(kind, payload, operation) {
    if (this.#state === 'exited') throw errors.channelClosed(operation, this.#pid, this.#exit);
    const bytes = codec.checkSize(payload, kind, operation);
    if (this.#session) return this.#session.send(kind, payload, operation);
    this.#pending.push(kind, payload);
    this.#pendingBytes += HEADER_LEN + (bytes || Buffer.byteLength(payload));
    return this.#pendingBytes < HIGH_WATER_MARK;
  }

  #flush() {
    if (this.#state === 'exited') return Promise.reject(errors.channelClosed('parent.flush()', this.#pid, this.#exit));
    if (this.#session) return this.#session.flushed('parent.flush()');
    const flush = deferred();
    this.#pendingFlushes.push(flush);
    return flush.promise;
  }

  /** Ships `fn` to run in the child as `spec` ({ type, event?, name? }). */
  #ship(spec, fn, operation) {
    if (this.#state === 'exited') throw errors.channelClosed(operation, this.#pid, this.#exit);
    this.#shipPrepared(spec, shippedSource(fn, operation), operation);
  }

  #shipPrepared(spec, { source, method, original }, operation) {
    const shipped = JSON.stringify({ ...spec, source, method });
    codec.checkSize(shipped, FrameKind.Handler, operation);
    if (this.#session) {
      this.#session.send(FrameKind.Handler, shipped, operation);
      // Written at once, not at the end of the tick: a child with nothing else to do decides
      // whether to stay alive on its first turn of the event loop.
      this.#session.flushNow();
    }
    this.#handlers.push(shipped);
    this.#shipped.push({ what: describeShipped(spec), source: original });
  }

  #exposeInChild(methods) {
    const operation = 'child.expose(methods)';
    if (this.#state === 'exited') throw errors.channelClosed(operation, this.#pid, this.#exit);
    const entries = checkMethods(operation, methods, this.#childMethods);
    // Every source is checked before any is shipped, so a refused method ships none.
    const prepared = entries.map(([name, fn]) => [name, shippedSource(fn, `${operation} (method ${JSON.stringify(name)})`)]);
    for (const [name, shipped] of prepared) {
      this.#shipPrepared({ type: 'expose', name }, shipped, `child.expose({ ${name} })`);
      this.#childMethods.add(name);
    }
  }

  #setBehind(iterator, behind) {
    const before = this.#behind.size > 0;
    if (behind) this.#behind.add(iterator);
    else this.#behind.delete(iterator);
    const after = this.#behind.size > 0;
    if (before !== after && this.#session) this.#session.setPaused(after);
  }

  // A listener that throws throws out of here: lib/session.js delivers the rest of the batch on
  // the next tick, and Node reports the exception at the user's line.
  #emit(event, ...args) {
    this.parent.emit(event, ...args);
  }
}

module.exports = { Proclet, POOL_MEMBER, SET_BEHIND };
