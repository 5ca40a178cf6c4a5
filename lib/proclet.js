'use strict';
// The Proclet: what the user holds. It owns everything that outlives one child process (the
// worker's source, the handlers registered for the child, what was sent before a child runs, the
// listeners) and opens one Session (lib/session.js) per OS process. Today a Proclet runs one
// child; supervision adds more sessions here without changing them.

const { FrameKind, HEADER_LEN, HIGH_WATER_MARK } = require('./shared/protocol');
const codec = require('./shared/codec');
const errors = require('./shared/errors');
const { reviveThrown } = require('./shared/thrown');
const sourceBoundary = require('./source');
const { functionSource, callerFile } = require('./source/function');
const { mergeChildCoverage } = require('./source/coverage');
const { signalNumber, childExecArgv } = require('./options');
const { Session } = require('./session');
const { ParentChannel } = require('./parent');
const { ChildHandle } = require('./child-handle');

const SEND = 'parent.send(message)';
const ON_MESSAGE = "child.on('message', handler)";
const SHIPPED_WORKER = 'the function passed to new Proclet()';
const SHIPPED_HANDLER = "a child.on('message') handler";

/** What is shipped for `fn`: its source with what compiled code needs (lib/source/). */
function shippedSource(fn, operation) {
  return sourceBoundary.prepare(fn, functionSource(fn, operation), operation);
}

/** Surfaces `error` as an ordinary uncaught exception on its own tick, after the current batch. */
function rethrowLater(error) {
  process.nextTick(() => {
    throw error;
  });
}

class Proclet {
  #worker; // { source, method }
  #caller;
  #state = 'idle'; // 'running' | 'exited'
  #session = null;
  #pid = undefined;
  #exit = null;
  #referenced = true;
  /** Handlers for the child, `{ event, source, method }`: sent in INIT to every child. */
  #handlers = [];
  /** Frames sent before a child runs, `[kind, payload, ...]`, replayed into the next session. */
  #pending = [];
  #pendingBytes = 0;
  /** `{ what, source }` of every shipped function, for closure explanations. */
  #shipped = [];

  /**
   * @param {Function} fn the worker: runs in a new Node.js process with `this.send` and `this.close`.
   */
  constructor(fn) {
    const { source, method, original } = shippedSource(fn, 'new Proclet(fn)');
    this.#shipped.push({ what: SHIPPED_WORKER, source: original });
    this.#worker = { source, method };
    this.#caller = callerFile(Proclet);
    this.parent = new ParentChannel(
      (message) => this.#send(message),
      () => this.#pid,
    );
    this.child = new ChildHandle((event, handler) => this.#addHandler(event, handler));
    Object.defineProperty(this, 'parent', { enumerable: true, writable: false });
    Object.defineProperty(this, 'child', { enumerable: true, writable: false });
  }

  /** Starts the child process. Throws if called twice. Returns this Proclet. */
  run() {
    if (this.#state !== 'idle') throw errors.alreadyRunning(this.#pid);
    this.#state = 'running';
    try {
      this.#start();
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

  #start() {
    const options = {
      execPath: process.execPath,
      execArgv: childExecArgv(),
      source: this.#worker.source,
      method: this.#worker.method,
    };
    const init = { caller: this.#caller, handlers: this.#handlers, args: [] };
    const session = new Session(options, init, this.#sessionHost());
    this.#session = session;
    this.#pid = session.pid;
    if (!this.#referenced) session.setRef(false);
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (let i = 0; i < pending.length; i += 2) session.send(pending[i], pending[i + 1], SEND);
    // INIT went out at once (the first frame of the tick); what was sent before run() follows
    // now too, and ends the burst: a send right after run() is written at once, not at the end
    // of a tick the caller may spend blocked.
    session.flushNow();
  }

  /** What a session reports, turned into the Proclet's events. */
  #sessionHost() {
    return {
      message: (message) => this.#emit('message', message),
      error: (thrown) => this.#emit('error', sourceBoundary.explainChildError(reviveThrown(thrown, this.#pid), this.#shipped)),
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
        this.#session = null;
        this.#state = 'exited';
        this.#exit = { code, signal };
        if (unexpected) this.#emit('error', errors.killed(this.#pid, signal));
        this.#emit('exit', code, signal);
      },
    };
  }

  #send(message) {
    if (codec.isText(message)) return this.#write(FrameKind.Text, message);
    return this.#write(FrameKind.Message, codec.toJson(message, SEND));
  }

  #write(kind, payload) {
    if (this.#state === 'exited') throw errors.channelClosed(SEND, this.#pid, this.#exit);
    const bytes = codec.checkSize(payload, kind, SEND);
    if (this.#session) return this.#session.send(kind, payload, SEND);
    this.#pending.push(kind, payload);
    this.#pendingBytes += HEADER_LEN + (bytes || Buffer.byteLength(payload));
    return this.#pendingBytes < HIGH_WATER_MARK;
  }

  #addHandler(event, handler) {
    if (this.#state === 'exited') throw errors.channelClosed(ON_MESSAGE, this.#pid, this.#exit);
    const { source, method, original } = shippedSource(handler, ON_MESSAGE);
    const shipped = { event, source, method };
    if (this.#session) {
      this.#session.send(FrameKind.Handler, JSON.stringify(shipped), ON_MESSAGE);
      // Written at once, not at the end of the tick: a child with nothing else to do decides
      // whether to stay alive on its first turn of the event loop.
      this.#session.flushNow();
    }
    this.#handlers.push(shipped);
    this.#shipped.push({ what: SHIPPED_HANDLER, source: original });
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
}

module.exports = { Proclet };
