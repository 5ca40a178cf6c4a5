'use strict';
// The Proclet: what the user holds. It owns everything that outlives one child process (the
// worker's source, the handlers and methods shipped to the child, the methods exposed to it,
// what was sent while no child runs, the listeners, the lifecycle promises) and supervises a
// sequence of Sessions (lib/session.js), one per OS process: the restart policy's arithmetic is
// lib/restart-policy.js, the timers and the stop/restart escalation are here.
//
// States: 'idle' (before run()), 'running' (a child runs), 'waiting' (a restart is pending, no
// child runs), 'exited' (the final exit; nothing follows). What keeps the parent's event loop
// alive: the running child (its native session, referenced unless unref()) and the timer of a
// pending restart (the same). The start and kill timers are unreferenced: they only ever act on
// a child that holds the loop itself.

const util = require('util');
const { FrameKind, HEADER_LEN, HIGH_WATER_MARK } = require('./shared/protocol');
const codec = require('./shared/codec');
const { Codec } = codec;
const errors = require('./shared/errors');
const { Calls, checkMethods } = require('./shared/calls');
const { reviveThrown } = require('./shared/thrown');
const sourceBoundary = require('./source');
const { functionSource, callerFile, isOwnFile } = require('./source/function');
const { callSites, locate, locateOwn, withSourceMap } = require('./source/location');
const { locationOffset } = require('./source/syntax');
const { SIGNALS, signalNumber, childExecArgv, childEnv, normalizeOptions, stopTimeout } = require('./options');
const { ProcletStdio } = require('./stdio');
const { Session } = require('./session');
const { RestartPolicy } = require('./restart-policy');
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

/**
 * What is shipped for `fn`: its source with what compiled code needs, and where it was written
 * when a file holds it as it is (the caller's, or the one V8 says it was written in), or where
 * it is in a compiled file that has a source map (`at`:
 * { file, line, column, map? }, 0-based) (lib/source/location.js).
 */
function shippedSource(fn, operation) {
  const written = functionSource(fn, operation);
  const prepared = sourceBoundary.prepare(fn, written, operation);
  // (Not for a Babel async wrapper: what is shipped then is the generator inside it.)
  let at;
  if (prepared.original === written.source) {
    const sites = callSites(shippedSource, isOwnFile);
    at = withSourceMap(locate(written.source, sites)) || locateOwn(fn, written.source, () => locationOffset(written.source, written.method), sites);
  }
  return at ? { ...prepared, at } : prepared;
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

/**
 * Runs `steps` (functions) in order. One that throws (a listener of the user's) throws out of
 * here, as a listener's exception does from EventEmitter; the steps after it run on the next
 * tick, so a throwing 'error' listener never costs the 'exit' that follows.
 */
function inOrder(steps, from = 0) {
  let i = from;
  try {
    for (; i < steps.length; i++) steps[i]();
  } finally {
    if (i < steps.length - 1) process.nextTick(() => inOrder(steps, i + 1));
  }
}

/**
 * Milliseconds since an arbitrary origin, monotonic. Not the global `performance`: its first use
 * loads perf_hooks, a millisecond of the first run() of a process that never touched it.
 */
const now = () => process.uptime() * 1000;

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

/**
 * `this` in a method the parent exposes: `signal` is the AbortSignal of the call it serves. A
 * class, not an object literal with a getter per Proclet: V8 gives each such literal a hidden
 * class of its own, which on Node 24 kept about 8 KiB of memory per Proclet after it was gone.
 */
class ParentCallContext {
  #calls;

  constructor(calls) {
    this.#calls = calls;
  }

  get signal() {
    return this.#calls.signal;
  }
}

class Proclet {
  #worker; // { source, method, prelude?, at? } (lib/source/) | { script } (absolute path)
  #caller;
  #options;
  #state = 'idle'; // 'running' | 'waiting' | 'exited' (see the top of this file)
  /** The current child's session, or null while none runs. */
  #session = null;
  /**
   * The current child, or null: `{ pid, startedAt, ready, startTimer, waiter, timedOut (killed
   * for startTimeout), failedStart (timed out, or could not be spawned: a quick end however long
   * it took) }`.
   */
  #current = null;
  /** The current (or last) child's pid. */
  #pid = undefined;
  /** The final exit, once there is one. */
  #exit = null;
  /** The last child's exit (the final one once nothing follows). */
  #lastExit = null;
  #referenced = true;
  /** The run() arguments as JSON, for the INIT of every child ('null' when they are packed). */
  #argsJson = null;
  /** The run() arguments as a PACKED frame (kind INIT) sent right after INIT, or null. */
  #argsPacked = null;
  /** What the child runs besides the worker, as HANDLER payloads (JSON of `{ type, event?, name?, source, method, prelude?, at? }`): sent after INIT to every child. */
  #handlers = [];
  /** Names of the methods shipped to the child (each can be exposed once). */
  #childMethods = new Set();
  /** Frames sent while no child runs, `[kind, payload, ...]`, replayed into the next session. */
  #pending = [];
  #pendingBytes = 0;
  /** Ids from which calls were queued for the next child rather than sent to the current one. */
  #queuedCallsFrom = Infinity;
  /** `flush()` calls made while no child runs: settled by the next session. */
  #pendingFlushes = [];
  /** A send returned false and no 'drain' has followed yet. */
  #drainOwed = false;
  /** `{ what, source }` of every shipped function, for closure explanations. */
  #shipped = [];
  /** `messages()` iterators whose consumer is behind: reading is paused while there are some. */
  #behind = new Set();
  #calls;
  /** Encodes what this Proclet sends, for its `serialization` option (lib/shared/codec.js). */
  #codec;
  #ready = deferred();
  #exited = deferred();
  #policy;
  #restartTimer = null;
  /** SIGKILL for a child asked to stop (stop(), restart()) that has not ended in time. */
  #killTimer = null;
  /** stop() was called: supervision has ended, the current child's exit is final. */
  #stopping = false;
  /** stop() was called before run(). */
  #stoppedBeforeRun = false;
  /** restart() asked the current child to stop: its exit is followed by a new child at once. */
  #restartAsked = false;
  /** restart()'s promise, settled by the ready (or the end) of the child it starts. */
  #restartWaiter = null;
  /** The final 'exit' was emitted. */
  #finished = false;
  /** `{ router, id, size }`: this worker's place among its peers (a pool's, or its own). */
  #peers;
  #stdio;

  /**
   * @param {Function | string | URL} fn the worker: a function that runs in a new Node.js
   * process (`this` = the child context), or a module's path or file: URL (a script worker,
   * resolved from the calling file).
   * @param {object} [options] API.md section 1 (README: Options, Supervision).
   */
  constructor(fn, options) {
    // (Not callerFile(Proclet): a class that names itself inside its body is renamed _Proclet in
    // the bundle, and so in stack traces; proclet's own frames are skipped anyway.)
    this.#caller = callerFile();
    // A script worker: a path or URL (lib/script.js, loaded when one is used).
    if (typeof fn === 'string' || fn instanceof URL) {
      this.#worker = { script: require('./script').resolveScript(fn, this.#caller) };
      this.#options = normalizeOptions(options);
    } else {
      const { source, method, original, prelude, at } = shippedSource(fn, 'new Proclet(fn)');
      this.#options = normalizeOptions(options);
      this.#shipped.push({ what: SHIPPED_WORKER, source: original });
      this.#worker = { source, method, prelude, at };
    }
    const member = options !== null && typeof options === 'object' ? options[POOL_MEMBER] : undefined;
    this.#peers = member || { router: null, id: 1, size: 1 };
    this.#policy = new RestartPolicy(this.#options);
    this.#stdio = new ProcletStdio(this.#options.stdio, (event, chunk) => this.#emit(event, chunk));
    this.#codec = new Codec(this.#options.serialization);
    // `this` in a method the parent exposes: its call's signal.
    const calls = new Calls({
      // A RESULT's head is joined here: the parent serves few calls, and the addon copies it anyway.
      send: (kind, payload, head) => this.#write(kind, head === undefined ? payload : head + payload, 'call()'),
      codec: this.#codec,
      peer: () => (this.#pid === undefined ? 'the child process' : `child process ${this.#pid}`),
    });
    calls.bind(Object.freeze(new ParentCallContext(calls)));
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
      emit: (event, args, operation) => {
        const payload = this.#codec.event(event, args, operation);
        return this.#write(codec.kindOf(FrameKind.Event, payload), payload, operation);
      },
      call: (operation, name, args, callOptions) => calls.call(operation, name, args, callOptions),
      exposeInChild: (methods) => this.#exposeInChild(methods),
    });
    Object.defineProperty(this, 'parent', { enumerable: true, writable: false });
    Object.defineProperty(this, 'child', { enumerable: true, writable: false });
    Object.defineProperty(this, SET_BEHIND, { value: (iterator, behind) => this.#setBehind(iterator, behind) });
    this.#exited.promise.catch(() => {});
  }

  /**
   * Starts the child process; `args` go to the worker function (JSON values), in every child
   * supervision starts. Throws if called twice. Returns this Proclet.
   */
  run(...args) {
    if (this.#state !== 'idle') throw errors.alreadyStarted(this.#pid, this.#stoppedBeforeRun);
    const encoded = this.#codec.list(FrameKind.Init, [], args, 'run(...args)');
    if (typeof encoded === 'string') this.#argsJson = encoded;
    else {
      // Sent to every child supervision starts: copied now, once.
      void encoded.frame;
      this.#argsJson = 'null';
      this.#argsPacked = encoded;
    }
    codec.checkSize(this.#init(), FrameKind.Init, 'run(...args)');
    this.#state = 'running';
    try {
      this.#spawn();
    } catch (cause) {
      // The first child could not be started: final, whatever the policy (a restart that cannot
      // spawn is a quick end instead, see #restartNow).
      const error = errors.fromNative('run()', cause);
      this.#ready.reject(error);
      this.#final({ code: null, signal: null }, [() => this.#emit('error', error)], true);
    }
    return this;
  }

  /** Resolves when the first child's runtime is connected; rejects if it never gets there. */
  get ready() {
    return this.#ready.promise;
  }

  /** Resolves with `{ code, signal }` after the final 'exit'; never rejects. */
  get exited() {
    return this.#exited.promise;
  }

  /** The current child's process id (the last one's while a restart is pending), once `run()` has been called. */
  get pid() {
    return this.#pid;
  }

  /** With `stdio: 'pipe'`: a Writable to the child's stdin (else null). */
  get stdin() {
    return this.#stdio.stdin;
  }

  /** With `stdio: 'pipe'`: a Readable of the child's stdout, for the Proclet's whole life (else null). */
  get stdout() {
    return this.#stdio.stdout;
  }

  /** With `stdio: 'pipe'`: a Readable of the child's stderr (else null). */
  get stderr() {
    return this.#stdio.stderr;
  }

  /** Sends a signal to the current child (default SIGTERM). False if none is running. */
  kill(signal = 'SIGTERM') {
    const number = signalNumber(signal);
    return this.#session !== null && this.#session.kill(number);
  }

  /**
   * Ends supervision: the child's 'stop' handlers run, then it closes, delivering what it sent;
   * SIGKILL after `timeout` ms (default `killTimeout`). Resolves with the final `{ code, signal }`.
   * Before run(): ends this Proclet without a child (`{ code: null, signal: null }`). Twice, or
   * after the exit: the same final exit.
   */
  stop(options) {
    const timeout = stopTimeout(options, this.#options.killTimeout, 'stop(options)');
    if (this.#stopping || this.#state === 'exited') return this.#exited.promise;
    this.#stopping = true;
    if (this.#state === 'idle') {
      this.#stoppedBeforeRun = true;
      this.#ready.reject(errors.stoppedBeforeRun('proclet.ready'));
      this.#final({ code: null, signal: null }, [], true);
    } else if (this.#state === 'waiting') {
      this.#final(this.#lastExit, []);
    } else {
      this.#askToStop(timeout);
    }
    return this.#exited.promise;
  }

  /**
   * Stops the current child as `stop()` does (timeout `killTimeout`) and starts a fresh one, at
   * once; resolves when it is ready. Emits 'restart' (`delay` 0) and counts in `restarts`, but is
   * never a quick end: the doubling delay starts over. During a pending restart: starts it now.
   */
  restart() {
    if (this.#state === 'idle') return Promise.reject(errors.notStarted('restart()'));
    if (this.#stopping || this.#state === 'exited') return Promise.reject(this.#closedError('restart()'));
    if (this.#restartWaiter !== null) return this.#restartWaiter.promise;
    const waiter = deferred();
    this.#restartWaiter = waiter;
    if (this.#state === 'waiting') {
      this.#policy.reset();
      clearTimeout(this.#restartTimer);
      this.#restartNow();
    } else {
      this.#restartAsked = true;
      // Peer messages sent from now on are for the next child: they wait for it in the router
      // (the one stopping would drop them).
      this.#session.leavePeers();
      this.#askToStop(this.#options.killTimeout);
    }
    return waiter.promise;
  }

  /** Lets the parent exit while the child runs or a restart is pending (the child ends with it). */
  unref() {
    this.#referenced = false;
    if (this.#session) this.#session.setRef(false);
    if (this.#restartTimer) this.#restartTimer.unref();
    return this;
  }

  /** Undoes `unref()`: the running child (or a pending restart) keeps the parent's event loop alive. */
  ref() {
    this.#referenced = true;
    if (this.#session) this.#session.setRef(true);
    if (this.#restartTimer) this.#restartTimer.ref();
    return this;
  }

  /** The INIT payload of the next child: the handlers it is about to receive, the run() arguments. */
  #init() {
    const script = this.#worker.script === undefined ? '' : `"script":${JSON.stringify(this.#worker.script)},`;
    return `{"caller":${JSON.stringify(this.#caller)},${script}"options":${JSON.stringify({
      wildcard: this.#options.wildcard,
      delimiter: this.#options.delimiter,
      serialization: this.#options.serialization,
    })},"id":${this.#peers.id},"size":${this.#peers.size},"concurrency":${this.#peers.concurrency || 0},"worker":${JSON.stringify({ prelude: this.#worker.prelude, at: this.#worker.at })},"handlers":${this.#handlers.length},"args":${this.#argsJson}}`;
  }

  /** Starts a child: INIT, the handlers, what was sent meanwhile. Throws ERR_PROCLET_SPAWN / CACHE. */
  #spawn() {
    const { execArgv, args, cwd, stdio } = this.#options;
    const options = {
      execPath: process.execPath,
      execArgv: execArgv === undefined ? childExecArgv() : [...execArgv],
      source: this.#worker.source,
      method: this.#worker.method === true,
      args: [...args],
      env: childEnv(this.#options),
      cwd,
      stdio,
      peers: this.#peerRoute(),
    };
    const child = { pid: undefined, startedAt: now(), ready: false, timedOut: false, failedStart: false, startTimer: null, waiter: this.#restartWaiter };
    const session = new Session(options, this.#init(), this.#sessionHost(child));
    child.pid = session.pid;
    this.#session = session;
    this.#current = child;
    this.#pid = session.pid;
    this.#queuedCallsFrom = Infinity;
    this.#stdio.attach(session, session.stdinFd);
    if (!this.#referenced) session.setRef(false);
    if (this.#behind.size > 0) session.setPaused(true);
    // The run() arguments, when they do not travel inside INIT (binary data, long strings, 'advanced').
    if (this.#argsPacked !== null) session.send(FrameKind.Packed, this.#argsPacked, 'run()');
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
    // A send while no child ran returned false: 'drain' is owed once what it queued is written.
    if (drainOwed) session.flushed('parent.send(message)').then(() => this.#drained(), () => {});
    const ms = this.#options.startTimeout;
    if (ms > 0) {
      child.startTimer = setTimeout(() => {
        child.timedOut = true;
        child.failedStart = true;
        const error = errors.startTimeout(child.pid, ms);
        this.#ready.reject(error);
        if (child.waiter !== null) child.waiter.reject(error);
        session.kill(SIGNALS.SIGKILL);
      }, ms);
      child.startTimer.unref();
    }
    const pid = session.pid;
    // After run() returns (as child_process does), before anything the child sends.
    process.nextTick(() => this.#emit('spawn', pid));
  }

  /** The timer of a pending restart fired (or restart() cut it short): the next child starts. */
  #restartNow() {
    this.#restartTimer = null;
    this.#state = 'running';
    try {
      this.#spawn();
    } catch (cause) {
      // Could not spawn (file descriptors or memory ran out, the cache directory is gone): a
      // quick failed end, so the policy retries with growing delays, then gives up.
      const error = errors.fromNative('a restart', cause);
      const child = { pid: this.#pid, startedAt: now(), ready: false, timedOut: false, failedStart: true, startTimer: null, waiter: this.#restartWaiter };
      this.#current = child;
      // Nothing was sent to it: the calls waiting for a child wait for the next one.
      this.#queuedCallsFrom = 0;
      this.#childEnded(child, { code: null, signal: null }, [() => this.#emit('error', error)]);
    }
  }

  /** The current child is asked to stop gracefully; SIGKILL after `timeout` ms. */
  #askToStop(timeout) {
    const child = this.#current;
    const session = this.#session;
    // The stop replaces the start timeout: its own timeout bounds the rest.
    clearTimeout(child.startTimer);
    clearTimeout(this.#killTimer);
    this.#killTimer = null;
    if (timeout === 0) {
      session.kill(SIGNALS.SIGKILL);
      return;
    }
    session.requestStop();
    if (timeout !== Infinity) {
      this.#killTimer = setTimeout(() => session.kill(SIGNALS.SIGKILL), timeout);
      this.#killTimer.unref();
    }
  }

  /** The router this worker's children join: its pool's, or (a lone Proclet) one of its own. */
  #peerRoute() {
    if (this.#peers.router === null) this.#peers.router = new PeerRouter(1);
    return { router: this.#peers.router, id: this.#peers.id };
  }

  /** What a session reports, turned into the Proclet's events. */
  #sessionHost(child) {
    return {
      ready: () => {
        clearTimeout(child.startTimer);
        child.ready = true;
        this.#ready.resolve();
        if (child.waiter !== null) {
          child.waiter.resolve();
          if (this.#restartWaiter === child.waiter) this.#restartWaiter = null;
        }
      },
      message: (message) => this.parent.fromChildMessage(message),
      event: (event, args) => this.parent.fromChild(event, args),
      call: (array) => this.#calls.onCall(array),
      result: (array) => this.#calls.onResult(array),
      cancel: (array) => this.#calls.onCancel(array),
      error: (thrown) => this.#emit('error', sourceBoundary.explainChildError(reviveThrown(thrown, `child process ${child.pid}`), this.#shipped)),
      coverage: (report) => {
        try {
          require('./source/coverage').mergeChildCoverage(report);
        } catch (error) {
          rethrowLater(error);
        }
      },
      drain: () => this.#drained(),
      output: (index, chunk) => this.#stdio.output(index, chunk),
      protocolError: (detail) => this.#emit('error', errors.protocol(child.pid, detail)),
      cutOff: (detail, code) => this.#emit('error', errors.cutOff(child.pid, detail, code)),
      exit: (code, signal, unexpected) => {
        const steps = unexpected ? [() => this.#emit('error', errors.killed(child.pid, signal))] : [];
        this.#childEnded(child, { code, signal }, steps);
      },
    };
  }

  // A child is gone: nothing more can reach it, and nothing waits for it. `steps` report why
  // ('error' events); then either another child follows, or this was the final exit.
  #childEnded(child, exit, steps) {
    clearTimeout(child.startTimer);
    clearTimeout(this.#killTimer);
    this.#killTimer = null;
    this.#session = null;
    this.#stdio.detach();
    this.#current = null;
    this.#lastExit = exit;
    const closed = (operation) => errors.channelClosed(operation, child.pid, exit);
    // Only the first child's counts: for the others `ready` has settled already.
    this.#ready.reject(errors.exitedBeforeReady(child.pid, exit));
    if (!child.ready && child.waiter !== null) {
      child.waiter.reject(errors.exitedBeforeReady(child.pid, exit, 'restart()'));
      if (this.#restartWaiter === child.waiter) this.#restartWaiter = null;
    }
    this.#calls.interrupt(closed, this.#queuedCallsFrom);
    if (this.#stopping) {
      this.#final(exit, steps);
      return;
    }
    let next;
    if (this.#restartAsked) {
      this.#restartAsked = false;
      next = { action: 'restart', ...this.#policy.manualRestart() };
    } else {
      next = this.#policy.afterExit({ code: exit.code, signal: exit.signal, uptime: now() - child.startedAt, failedStart: child.failedStart });
    }
    if (next.action === 'restart') {
      this.#state = 'waiting';
      this.#restartTimer = setTimeout(() => this.#restartNow(), next.delay);
      if (!this.#referenced) this.#restartTimer.unref();
      const event = { code: exit.code, signal: exit.signal, restarts: next.restarts, delay: next.delay };
      steps.push(() => this.#emit('restart', event));
      // What the ended child's queue held is gone with it: senders waiting for 'drain' may go on.
      if (this.#drainOwed && this.#pendingBytes < HIGH_WATER_MARK) steps.push(() => this.#drained());
      inOrder(steps);
      return;
    }
    if (next.action === 'give-up') {
      steps.push(() => this.#emit('error', errors.restartLimit(child.pid, next.quickEnds, this.#options, exit)));
    } else if (child.timedOut) {
      // Its READY may have been on its way when the timer fired: it was killed for the timeout all the same.
      steps.push(() => this.#emit('error', errors.startTimeout(child.pid, this.#options.startTimeout)));
    }
    this.#final(exit, steps);
  }

  // Nothing follows: what waits for a child learns it never comes, then 'exit' (always last, on
  // the next tick with `later`, for a Proclet that ends inside run() or stop()).
  #final(exit, steps, later = false) {
    clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    this.#state = 'exited';
    this.#exit = exit;
    const closed = (operation) => this.#closedError(operation);
    this.#calls.close(closed);
    for (const flush of this.#pendingFlushes.splice(0)) flush.reject(closed('parent.flush()'));
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#restartWaiter !== null) {
      this.#restartWaiter.reject(errors.restartCancelled(this.#pid, this.#stopping ? 'stop() was called' : 'supervision ended'));
      this.#restartWaiter = null;
    }
    steps.push(() => this.#finish(exit.code, exit.signal));
    if (later) for (const step of steps) process.nextTick(step);
    else inOrder(steps);
  }

  #finish(code, signal) {
    this.#finished = true;
    this.#stdio.end();
    try {
      this.#emit('exit', code, signal);
    } finally {
      this.#exited.resolve({ code, signal });
    }
  }

  /** Why nothing reaches a child any more (the final exit, or stop() before run()). */
  #closedError(operation) {
    if (this.#stoppedBeforeRun) return errors.stoppedBeforeRun(operation);
    return errors.channelClosed(operation, this.#pid, this.#exit);
  }

  #drained() {
    this.#drainOwed = false;
    // (A listener may have stopped the Proclet meanwhile: nothing comes after 'exit'.)
    if (!this.#finished) this.#emit('drain');
  }

  #send(message) {
    if (codec.isText(message)) return this.#write(FrameKind.Text, message, SEND);
    const payload = this.#codec.message(message, SEND);
    return this.#write(codec.kindOf(FrameKind.Message, payload), payload, SEND);
  }

  // To the running child; while none runs (a restart is pending), queued for the next one, in
  // order. A child whose channel has closed is on its way out: what it refuses goes to the next
  // one when one may follow (else it is dropped, false, as nobody will receive it). So does
  // what is sent after restart() asked the current child to stop: its 'stop' is the last thing
  // it receives (it closes after its handlers and would drop the rest). A RESULT answers the
  // child that called (its 'stop' handler may await it): never queued for another child.
  #write(kind, payload, operation) {
    if (this.#state === 'exited') throw this.#closedError(operation);
    const bytes = codec.checkSize(payload, kind, operation);
    if (this.#session !== null && !this.#heldForNext(kind, payload)) {
      const belowHighWater = this.#session.send(kind, payload, operation);
      // `open` is read after the send: the send is what finds the channel closed.
      if (this.#session.open || !this.#mayRestart() || kind === FrameKind.Result) return this.#owe(belowHighWater);
    }
    // The caller is gone with its child: nobody waits for this result.
    if (kind === FrameKind.Result) return true;
    // Calls from this id on wait for the next child: the current one's end must not reject them.
    if (this.#session !== null && this.#queuedCallsFrom === Infinity) {
      this.#queuedCallsFrom = kind === FrameKind.Call ? this.#calls.nextId - 1 : this.#calls.nextId;
    }
    // Kept for the next child: a packed frame is copied now (the values sent may change after).
    if (typeof payload !== 'string') void payload.frame;
    this.#pending.push(kind, payload);
    this.#pendingBytes += HEADER_LEN + (bytes || Buffer.byteLength(payload));
    return this.#owe(this.#pendingBytes < HIGH_WATER_MARK);
  }

  /**
   * Whether a frame for the current child goes to the next one instead: after restart() asked
   * the current one to stop, everything but the answers to its own calls, and the cancellation
   * of calls it received.
   */
  #heldForNext(kind, payload) {
    if (!this.#restartAsked || kind === FrameKind.Result) return false;
    if (kind === FrameKind.Cancel) return JSON.parse(payload)[0] >= this.#queuedCallsFrom;
    return true;
  }

  /** A send's result: false (past the high-water mark) owes the sender a 'drain'. */
  #owe(belowHighWater) {
    if (!belowHighWater) this.#drainOwed = true;
    return belowHighWater;
  }

  /** Whether another child may follow the current one (only stop() or the policy rule it out). */
  #mayRestart() {
    return !this.#stopping && (this.#restartAsked || this.#options.restart !== 'never');
  }

  #flush() {
    if (this.#state === 'exited') return Promise.reject(this.#closedError('parent.flush()'));
    if (this.#session && !this.#restartAsked) return this.#session.flushed('parent.flush()');
    const flush = deferred();
    this.#pendingFlushes.push(flush);
    return flush.promise;
  }

  /** Ships `fn` to run in the child as `spec` ({ type, event?, name? }). */
  #ship(spec, fn, operation) {
    if (this.#state === 'exited') throw this.#closedError(operation);
    this.#shipPrepared(spec, shippedSource(fn, operation), operation);
  }

  #shipPrepared(spec, { source, method, original, prelude, at }, operation) {
    const shipped = JSON.stringify({ ...spec, source, method, prelude, at });
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
    if (this.#state === 'exited') throw this.#closedError(operation);
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
