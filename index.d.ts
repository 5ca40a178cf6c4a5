/// <reference types="node" />
import { EventEmitter } from 'events';
import { Readable, Writable } from 'stream';

// ---- values ---------------------------------------------------------------------------------------

/**
 * Any value that survives `JSON.stringify` / `JSON.parse`: what `send`, `emit`, `call` and
 * `run` accept and what the other side receives (a `Date` arrives as its ISO string, `undefined`
 * properties are dropped).
 *
 * @example
 * ```ts
 * const job: JsonValue = { id: 7, tags: ['a', 'b'], done: false, parent: null };
 * ```
 */
export type JsonValue = string | number | boolean | null | BinaryValue | JsonValue[] | { [key: string]: JsonValue | undefined };

/**
 * The stable `code` of every error proclet throws, rejects with or reports on `'error'`.
 *
 * - `ERR_PROCLET_INVALID_FUNCTION` (TypeError): a worker, handler, listener or method that is not a
 *   function that can be shipped as source (native, bound, class, Proxy, generator), or `expose()` given
 *   something other than an object of functions.
 * - `ERR_PROCLET_INVALID_OPTION` (TypeError): a bad or unknown constructor option, or a bad
 *   `callWith` option.
 * - `ERR_PROCLET_INVALID_MESSAGE` (TypeError): a message, event argument, call argument or `run`
 *   argument with no JSON form (circular, BigInt, function, symbol, `undefined`).
 * - `ERR_PROCLET_MESSAGE_TOO_LARGE` (RangeError): one message over 2^29 - 24 bytes.
 * - `ERR_PROCLET_INVALID_EVENT` (TypeError): an event name that is not a non-empty string.
 * - `ERR_PROCLET_RESERVED_EVENT` (TypeError): emitting a reserved event name.
 * - `ERR_PROCLET_INVALID_METHOD` (TypeError): a method name that is not a non-empty string.
 * - `ERR_PROCLET_DUPLICATE_METHOD` (TypeError): a method name exposed twice on the same side.
 * - `ERR_PROCLET_UNKNOWN_METHOD` (Error): the other side exposes no method of that name.
 * - `ERR_PROCLET_CALL_TIMEOUT` (Error): a `callWith({ timeout })` got no answer in time.
 * - `ERR_PROCLET_CHANNEL_CLOSED` (Error): the other side has ended (or never started).
 * - `ERR_PROCLET_WORKER_NOT_FOUND` (TypeError): a script worker that cannot be found from the
 *   calling file.
 * - `ERR_PROCLET_ALREADY_STARTED` (Error): `run()` called twice (or after `stop()`).
 * - `ERR_PROCLET_NOT_STARTED` (Error): `restart()` before `run()`.
 * - `ERR_PROCLET_START_TIMEOUT` (Error): the child was not ready within `startTimeout` ms.
 * - `ERR_PROCLET_RESTART_LIMIT` (Error, on `'error'`): supervision gave up after `maxRestarts`
 *   quick ends in a row (then `'exit'`).
 * - `ERR_PROCLET_INVALID_SIGNAL` (TypeError): `kill()` with an unknown signal.
 * - `ERR_PROCLET_INVALID_EXIT_CODE` (TypeError): `this.close(code)` with a non-integer code.
 * - `ERR_PROCLET_SPAWN`, `ERR_PROCLET_CACHE` (Error, on `'error'`): the child could not be started.
 * - `ERR_PROCLET_PROTOCOL` (Error, on `'error'`): the child broke the message protocol (it is killed).
 * - `ERR_PROCLET_CHILD_KILLED` (Error, on `'error'`): the child died of a signal proclet did not send.
 * - `ERR_PROCLET_CLOSURE` (ReferenceError, on `'error'`): shipped code used a variable of the
 *   parent's scope, which does not exist in the child.
 * - `ERR_PROCLET_BINARY_MISSING` (Error, thrown by `require('proclet')`): no native addon for
 *   this platform.
 * - `ERR_PROCLET_QUEUE_FULL` (Error, rejects `pool.child.call`): `maxQueue` calls already wait.
 * - `ERR_PROCLET_INVALID_PEER` (TypeError, thrown by `to(id)`): no worker with that id.
 * - `ERR_PROCLET_INTERNAL` (Error): a bug in proclet; please report it.
 */
export type ProcletErrorCode =
  | 'ERR_PROCLET_INVALID_FUNCTION'
  | 'ERR_PROCLET_INVALID_OPTION'
  | 'ERR_PROCLET_INVALID_MESSAGE'
  | 'ERR_PROCLET_MESSAGE_TOO_LARGE'
  | 'ERR_PROCLET_INVALID_EVENT'
  | 'ERR_PROCLET_RESERVED_EVENT'
  | 'ERR_PROCLET_INVALID_METHOD'
  | 'ERR_PROCLET_DUPLICATE_METHOD'
  | 'ERR_PROCLET_UNKNOWN_METHOD'
  | 'ERR_PROCLET_CALL_TIMEOUT'
  | 'ERR_PROCLET_CHANNEL_CLOSED'
  | 'ERR_PROCLET_WORKER_NOT_FOUND'
  | 'ERR_PROCLET_ALREADY_STARTED'
  | 'ERR_PROCLET_NOT_STARTED'
  | 'ERR_PROCLET_START_TIMEOUT'
  | 'ERR_PROCLET_RESTART_LIMIT'
  | 'ERR_PROCLET_INVALID_SIGNAL'
  | 'ERR_PROCLET_INVALID_EXIT_CODE'
  | 'ERR_PROCLET_SPAWN'
  | 'ERR_PROCLET_CACHE'
  | 'ERR_PROCLET_PROTOCOL'
  | 'ERR_PROCLET_CHILD_KILLED'
  | 'ERR_PROCLET_CLOSURE'
  | 'ERR_PROCLET_BINARY_MISSING'
  | 'ERR_PROCLET_QUEUE_FULL'
  | 'ERR_PROCLET_INVALID_PEER'
  | 'ERR_PROCLET_INTERNAL';

/**
 * An error proclet throws or reports. Errors thrown in the child (uncaught, or by a method the
 * parent called) arrive revived as real errors with the child's `name`, `message`, `stack`,
 * `cause`, `code` and own properties, so `code` may also be the child's own.
 *
 * @example
 * ```ts
 * p.parent.on('error', (error: ProcletError) => {
 *   if (error.code === 'ERR_PROCLET_START_TIMEOUT') console.error('child hung at start');
 * });
 * ```
 */
export interface ProcletError extends Error {
  /** An {@link ProcletErrorCode} for proclet's own errors; whatever the child set for its errors. */
  code?: ProcletErrorCode | (string & {});
}

/**
 * How the child ended: `code` is null when it was killed by `signal` (its name; a number for a
 * signal without one, e.g. a real-time signal); both are null when it never started.
 */
export interface ProcletExit {
  /** The exit code, or null when the child was killed by a signal or never started. */
  code: number | null;
  /** The signal that killed the child (name, or number when it has none), else null. */
  signal: NodeJS.Signals | number | null;
}

/**
 * What `new Proclet(worker, options)` accepts: any other key is refused at runtime (TypeError
 * `ERR_PROCLET_INVALID_OPTION`, naming the option and what it must be) and at compile time.
 * Options are checked and copied at construction. Times are milliseconds.
 *
 * @example
 * ```ts
 * new Proclet('./server.js', {
 *   args: ['--port', '0'], env: { ...process.env, NODE_ENV: 'production' }, cwd: dataDir,
 *   stdio: 'pipe', wildcard: true, delimiter: ':', startTimeout: 5_000,
 * });
 * new Proclet(worker, { restart: 'on-failure', minUptime: 2_000, maxRestarts: 5, killTimeout: 3_000 });
 * ```
 */
export interface ProcletOptions {
  /**
   * Pattern event names on both sides, as EventEmitter2 does: with `wildcard: true`,
   * `on('job.*', fn)` matches `job.done` (`*` is one segment, `**` any number of segments).
   * Default false: `*` is an ordinary character.
   */
  wildcard?: boolean;
  /** The segment separator of patterns: a non-empty string without `*`. Default `'.'`. */
  delimiter?: string;
  /**
   * Milliseconds for each child to become ready after it was spawned; past it the child is killed
   * (SIGKILL) and counts as a quick end: restarted by the policy, or else `'error'`
   * `ERR_PROCLET_START_TIMEOUT` then `'exit'`. `ready` rejects with it for the first child.
   * Default 30000; 0 = no limit.
   */
  startTimeout?: number;
  /**
   * How messages, event arguments, call arguments and results, and `run()` arguments travel
   * (API.md section 4). Default `'json'`.
   *
   * - `'json'`: JSON semantics (`toJSON`, Dates as strings, `undefined` properties dropped), except
   *   that binary values ({@link BinaryValue}: Buffer, every TypedArray, DataView, ArrayBuffer),
   *   anywhere in a value, travel as raw bytes and arrive as the same type with the same bytes,
   *   and that a function, a symbol, a BigInt or a circular reference is an error.
   * - `'advanced'`: the structured clone ({@link StructuredValue}): Map, Set, Date, RegExp, BigInt,
   *   Error (built-in class, name, message, stack, cause, own properties), `undefined`, NaN, -0,
   *   Infinity, sparse arrays, shared and circular references, binary values. An instance of a
   *   class (it would lose its class and private fields), a function or a symbol is an error;
   *   so are an Error inside its own `cause` (V8 cannot read it back) and a value nested more
   *   than 1000 levels deep (deeper than V8's reader takes).
   *
   * A value that cannot travel throws a `TypeError` `ERR_PROCLET_INVALID_MESSAGE` synchronously
   * in the sending process, naming where it is (`message.items[3].fn is a function`); a value
   * nested deeper than the sender's stack allows is one too (`message.a.a.a.a.a.a.a.a… is nested
   * too deeply`).
   *
   * @example
   * const p = new Proclet(function () {
   *   this.on('message', (m) => this.send(m.seen.has('a')));
   * }, { serialization: 'advanced' });
   * p.run();
   * p.parent.send({ seen: new Set(['a']), when: new Date(), image: Buffer.alloc(1024) });
   */
  serialization?: 'json' | 'advanced';
  /**
   * When a child that ended is followed by another (README, Supervision): `'never'` (default),
   * `'on-failure'` (after a non-zero code or a signal, `kill()` included), `'always'` (after any
   * exit; only `stop()` ends it).
   */
  restart?: RestartPolicy;
  /**
   * Quick ends in a row (each within `minUptime` of its start, or not ready within
   * `startTimeout`) that are restarted; the next one gives up (`'error'`
   * `ERR_PROCLET_RESTART_LIMIT`, then `'exit'`). A child that fails at once runs at most
   * `maxRestarts + 1` times. An integer >= 0 or Infinity; default 16.
   */
  maxRestarts?: number;
  /** A child that ran less than this ended quickly (ms, default 1000). A longer run resets the delay. */
  minUptime?: number;
  /**
   * The delay before a restart (ms, default 100), doubled for each consecutive quick end: the
   * n-th waits `restartDelay * 2^(n-1)`, at most `maxRestartDelay`.
   */
  restartDelay?: number;
  /** The cap of the doubling delay (ms, default 15000). */
  maxRestartDelay?: number;
  /**
   * How long `stop()` and `restart()` wait for the child to close before SIGKILL (ms, default
   * 5000; 0: SIGKILL at once; Infinity: never).
   */
  killTimeout?: number;
  /**
   * The child's arguments: `process.argv.slice(2)` in the child is exactly this (strings without
   * NUL characters). `process.argv[1]` is the script worker's file (for a function worker, proclet's
   * cached script). Default `[]`.
   */
  args?: readonly string[];
  /**
   * The child's Node flags (`process.execArgv` in the child). Default: the parent's, minus the
   * flags that would make the child debug, evaluate code, watch files or run tests.
   */
  execArgv?: readonly string[];
  /**
   * The child's whole environment: `process.env` in the child equals it (variables whose value is
   * `undefined` are left out; values must be strings). Nothing of proclet's is added. Default:
   * the parent's `process.env` when the child starts.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The child's working directory: a path (a relative one is resolved from `process.cwd()`) or a
   * `file:` URL, of a directory that exists. Default: the parent's.
   */
  cwd?: string | URL;
  /**
   * The child's stdin, stdout and stderr. `'inherit'` (default): the parent's. `'ignore'`:
   * /dev/null. `'pipe'`: `proclet.stdin` (Writable), `proclet.stdout` / `proclet.stderr`
   * (Readables) and the `'stdout'` / `'stderr'` events, with every byte the child wrote
   * delivered before `'exit'`.
   */
  stdio?: 'inherit' | 'pipe' | 'ignore';
}

/** The restart policies of {@link ProcletOptions.restart}. */
export type RestartPolicy = 'never' | 'on-failure' | 'always';

/** What the `'restart'` event reports: how the child ended, and when the next one starts. */
export interface RestartInfo {
  /** The ended child's exit code, or null when a signal killed it (or it could not be spawned). */
  code: number | null;
  /** The signal that killed it (name, or number when it has none), else null. */
  signal: NodeJS.Signals | number | null;
  /** Restarts so far, this one included (by the policy and by `restart()`). */
  restarts: number;
  /** Milliseconds before the next child starts (0 for `restart()`). */
  delay: number;
}

/** Options of `stop()`. */
export interface StopOptions {
  /**
   * Milliseconds the child has to run its `'stop'` handlers and close before SIGKILL (default
   * the Proclet's `killTimeout`; 0: SIGKILL at once; Infinity: never).
   */
  timeout?: number;
}

/** Options of `callWith`: a time limit and/or a way to give up. */
export interface CallOptions {
  /**
   * Milliseconds to wait for the result (0 or absent: no limit). Past it the promise rejects with
   * `ERR_PROCLET_CALL_TIMEOUT` and the method's `this.signal` aborts on the other side.
   */
  timeout?: number;
  /**
   * Aborting it rejects the promise with `signal.reason` (at once if already aborted) and aborts
   * the method's `this.signal` on the other side.
   */
  signal?: AbortSignal;
}

// ---- method maps ------------------------------------------------------------------------------

/**
 * A map of method names to their signatures: the shape of `ChildMethods` / `ParentMethods`.
 * The default, `Record<string, (...args: any[]) => any>`, lets any name be called with anything.
 * Declare yours as a type or an interface; results may be declared as Promises (callers get them
 * unwrapped, implementations may return either).
 *
 * @example
 * ```ts
 * interface ChildApi { resize(image: string, width: number): Promise<string> }
 * interface ParentApi { lookup(key: string): number | undefined }
 * const p = new Proclet<any, any, ChildApi, ParentApi>(function () {});
 * ```
 */
export type MethodMap = Record<string, (...args: any[]) => any>;

/** The names of the methods in `M` that can be called (its string keys). */
export type MethodName<M> = Extract<keyof M, string>;

/** The arguments of the method `K` of `M` (its `this` parameter left out). */
export type MethodParameters<M, K extends keyof M> = M[K] extends (...args: infer A) => any ? A : never;

/** What a call to the method `K` of `M` resolves with: its return type, unwrapped from a Promise. */
export type MethodResult<M, K extends keyof M> = M[K] extends (...args: any[]) => infer R ? Awaited<R> : never;

/**
 * Implementations of some of the methods of `M`, for `expose()`: each runs with `this` = `This` and
 * may return its result or a Promise of it.
 */
export type MethodImplementations<M, This> = {
  [K in keyof M]?: M[K] extends (...args: infer A) => infer R
    ? (this: This, ...args: A) => Awaited<R> | PromiseLike<Awaited<R>>
    : never;
};

/**
 * `this` inside a method the parent exposes (`proclet.parent.expose`).
 */
export interface ParentMethodContext {
  /**
   * The `AbortSignal` of the call being served (also after `await`): it aborts when the caller
   * times out or aborts, or when the child exits. A method that ignores it runs on; its late
   * result is dropped.
   */
  readonly signal: AbortSignal | undefined;
}

/** `E`, unless it is one of the `Reserved` names (then `never`, a compile error at the call site). */
export type UnreservedEvent<E, Reserved> = E extends Reserved ? never : E;

/** Event names the child cannot emit (`this.emit`): the parent's own events use them. */
export type ReservedFromChild = 'message' | 'error' | 'exit' | 'drain' | 'spawn' | 'restart' | 'stdout' | 'stderr';

/** Event names the parent cannot emit into the child (`proclet.child.emit`). */
export type ReservedToChild = 'message' | 'stop';

// ---- the child's side ---------------------------------------------------------------------------

/**
 * `this` inside the worker function and inside every child handler and exposed child method
 * (arrow functions get it lexically, so `() => this.send(1)` works too).
 *
 * @typeParam ToParent - what the child sends to the parent (`this.send`).
 * @typeParam ParentMethods - the methods the parent exposes (`this.call`).
 * @typeParam ToChild - what the parent sends to the child (`this.on('message')`).
 * @typeParam ChildMethods - the methods the child exposes (`this.expose`).
 *
 * @example
 * ```ts
 * function worker(this: ChildContext<string, { lookup(key: string): number }>) {
 *   this.on('job', async (key: string) => this.send(`value ${await this.call('lookup', key)}`));
 * }
 * ```
 */
export interface ChildContext<ToParent = any, ParentMethods extends object = MethodMap, ToChild = any, ChildMethods extends object = MethodMap> {
  /**
   * Sends a message to the parent's `'message'` listeners, written at once (what follows in the
   * same tick is batched into one write). Returns false once more than about 1 MiB waits to be
   * written (the message is still queued and will be delivered), and after `close()` (the
   * message is dropped).
   * @throws TypeError (`ERR_PROCLET_INVALID_MESSAGE`) for values with no JSON form; RangeError
   *   (`ERR_PROCLET_MESSAGE_TOO_LARGE`) over 2^29 - 24 bytes.
   * @example
   * ```ts
   * this.send({ progress: 0.5 });
   * ```
   */
  send(message: ToParent): boolean;
  /**
   * Fires `event` in the parent: its listeners get `...args` (JSON values). Returns false past the
   * high-water mark, like `send`. The parent's own event names are reserved (a compile error here).
   * @throws TypeError (`ERR_PROCLET_RESERVED_EVENT`) for `'message'`, `'error'`, `'exit'`, `'drain'`,
   *   `'spawn'`, `'restart'`, `'stdout'`, `'stderr'`; TypeError (`ERR_PROCLET_INVALID_EVENT`) for
   *   an empty name; TypeError (`ERR_PROCLET_INVALID_MESSAGE`) for arguments with no JSON form.
   * @example
   * ```ts
   * this.emit('progress', 42, 'resizing');
   * ```
   */
  emit<E extends string>(event: UnreservedEvent<E, ReservedFromChild>, ...args: any[]): boolean;
  /**
   * Calls a method the parent exposed (`proclet.parent.expose`) with `args` (JSON values);
   * resolves with its result (awaited if it returned a Promise). The child stays alive meanwhile.
   * @throws TypeError (`ERR_PROCLET_INVALID_METHOD`) for an empty name, TypeError
   *   (`ERR_PROCLET_INVALID_MESSAGE`) for arguments with no JSON form (both synchronously).
   * @returns a promise that rejects with the method's error revived, `ERR_PROCLET_UNKNOWN_METHOD`,
   *   or `ERR_PROCLET_CHANNEL_CLOSED` when the parent goes away first.
   * @example
   * ```ts
   * const price = await this.call('lookup', 'apples');
   * ```
   */
  call<K extends MethodName<ParentMethods>>(name: K, ...args: MethodParameters<ParentMethods, K>): Promise<MethodResult<ParentMethods, K>>;
  /**
   * `call` with a time limit (`timeout`, in ms) and/or an `AbortSignal`.
   * @throws TypeError (`ERR_PROCLET_INVALID_OPTION`) for a bad `timeout` or `signal`, and what
   *   `call` throws.
   * @returns a promise that also rejects with `ERR_PROCLET_CALL_TIMEOUT`, or the signal's reason.
   * @example
   * ```ts
   * const price = await this.callWith({ timeout: 1000 }, 'lookup', 'apples');
   * ```
   */
  callWith<K extends MethodName<ParentMethods>>(
    options: CallOptions,
    name: K,
    ...args: MethodParameters<ParentMethods, K>
  ): Promise<MethodResult<ParentMethods, K>>;
  /**
   * Registers a handler from inside the child: `'message'` for the parent's messages, any other
   * name (or pattern, with `wildcard`) for the events of `proclet.child.emit`. Handlers get the
   * sender's id after the event's arguments: `0` for the parent. While it has handlers the child
   * stays alive: end it with `this.close()`.
   * @throws TypeError (`ERR_PROCLET_INVALID_EVENT`) for an empty name, TypeError
   *   (`ERR_PROCLET_INVALID_FUNCTION`) for a non-function.
   * @example
   * ```ts
   * this.on('message', (job) => this.send(work(job)));
   * this.on('shutdown', () => this.close(0));
   * ```
   */
  on(event: 'message', handler: ChildHandler<ToChild, ToParent, ParentMethods, ChildMethods>): this;
  on<E extends string>(
    event: UnreservedEvent<E, 'message'>,
    handler: (this: ChildContext<ToParent, ParentMethods, ToChild, ChildMethods>, ...args: any[]) => unknown,
  ): this;
  /**
   * Removes a handler added with `this.on` (the last one added, if it was added several times).
   * @throws TypeError (`ERR_PROCLET_INVALID_EVENT`) for an empty name.
   * @example
   * ```ts
   * this.off('message', onMessage);
   * ```
   */
  off(event: string, handler: (...args: any[]) => unknown): this;
  /**
   * Registers a handler for every message (as the event `'message'`) and event that reaches the
   * child, in order: `handler(event, ...args, from)`, before the event's own handlers.
   * @throws TypeError (`ERR_PROCLET_INVALID_FUNCTION`) for a non-function.
   * @example
   * ```ts
   * this.onAny((event, ...args) => console.log('got', event, args));
   * ```
   */
  onAny(handler: (this: ChildContext<ToParent, ParentMethods, ToChild, ChildMethods>, event: string, ...args: any[]) => unknown): this;
  /**
   * Exposes methods from inside the child, for the parent's `proclet.child.call`; `this` in them
   * is this context (`this.signal` is the call's AbortSignal).
   * @throws TypeError (`ERR_PROCLET_INVALID_FUNCTION`) for a non-object or a non-function value,
   *   TypeError (`ERR_PROCLET_DUPLICATE_METHOD`) for a name already exposed.
   * @example
   * ```ts
   * this.expose({ add: (a: number, b: number) => a + b });
   * ```
   */
  expose(methods: MethodImplementations<ChildMethods, ChildContext<ToParent, ParentMethods, ToChild, ChildMethods>>): this;
  /**
   * Resolves once everything sent so far (messages, events, calls) is written to the channel.
   * @example
   * ```ts
   * this.send(bigResult);
   * await this.flush();
   * ```
   */
  flush(): Promise<void>;
  /**
   * Delivers every message sent before this call, lets stdout/stderr drain, then exits the child
   * with `code`. Messages sent afterwards are dropped.
   * @param code - exit code, an integer (default 0).
   * @throws TypeError (`ERR_PROCLET_INVALID_EXIT_CODE`) for a non-integer code.
   * @example
   * ```ts
   * this.close(1);
   * ```
   */
  close(code?: number): void;
  /**
   * Inside an exposed method: the `AbortSignal` of the call being served (also after `await`); it
   * aborts when the parent times out, aborts, or goes away. Elsewhere undefined.
   * @example
   * ```ts
   * this.expose({ async slow() { while (!this.signal?.aborted) await step(); } });
   * ```
   */
  readonly signal: AbortSignal | undefined;
  /** This worker's id: `1` for a lone Proclet, `1..size` in a pool (kept by replacements). */
  readonly id: number;
  /**
   * Messages and events to another worker of the same pool, or to every worker (`'all'`, this
   * one included). The receiving handlers get this worker's id after the event's own arguments.
   * The parent's addon forwards them without running any JavaScript; a worker that is starting
   * or restarting gets them, in order, once it runs.
   * @throws TypeError (`ERR_PROCLET_INVALID_PEER`) for an id that is not `1..size` or `'all'`.
   * @example
   * ```ts
   * this.to(2).emit('shard', 'key', 'value');
   * this.to('all').send({ from: this.id });
   * this.on('shard', (key, value, from) => console.log(`${key} from worker ${from}`));
   * ```
   */
  to(target: number | 'all'): PeerChannel;
}

/** What `this.to(id | 'all')` returns in a worker. */
export interface PeerChannel {
  /**
   * Sends a message to the peer's `'message'` handlers (`handler(message, from)`). False past the
   * high-water mark of this worker's channel (still delivered).
   * @throws TypeError (`ERR_PROCLET_INVALID_MESSAGE`) for values with no JSON form.
   * @example
   * ```ts
   * this.to(1).send({ done: true });
   * ```
   */
  send(message: unknown): boolean;
  /**
   * Fires `event` in the peer: its handlers get `...args, from`.
   * @throws TypeError (`ERR_PROCLET_RESERVED_EVENT`) for `'message'` and `'stop'`.
   * @example
   * ```ts
   * this.to('all').emit('config', { level: 2 });
   * ```
   */
  emit(event: string, ...args: any[]): boolean;
}

/**
 * The worker function: runs once, in the child, with `this` bound to the context and the
 * arguments of `run(...args)`. Its return value is ignored; a returned Promise that rejects is an
 * unhandled rejection (reported to `'error'`, the child exits 1).
 *
 * @typeParam Args - the worker's parameters, which `run(...args)` must match.
 * @example
 * ```ts
 * const worker: WorkerFunction<string, MethodMap, any, MethodMap, [name: string]> = function (name) {
 *   this.send(`hello ${name}`);
 * };
 * ```
 */
export type WorkerFunction<
  ToParent = any,
  ParentMethods extends object = MethodMap,
  ToChild = any,
  ChildMethods extends object = MethodMap,
  Args extends unknown[] = any[],
> = (this: ChildContext<ToParent, ParentMethods, ToChild, ChildMethods>, ...args: Args) => unknown;

/**
 * A child-side `'message'` handler: runs in the child for each message from the parent, with the
 * sender's id (`0`, the parent) after the message.
 *
 * @example
 * ```ts
 * const double: ChildHandler<number, number> = function (n) { this.send(n * 2); };
 * ```
 */
export type ChildHandler<ToChild = any, ToParent = any, ParentMethods extends object = MethodMap, ChildMethods extends object = MethodMap> = (
  this: ChildContext<ToParent, ParentMethods, ToChild, ChildMethods>,
  message: ToChild,
  from: number,
) => unknown;

// ---- the parent's side --------------------------------------------------------------------------

/** Listeners of the parent-side events proclet itself emits (plus `'message'`). */
export interface ParentEvents<ToParent = any> {
  /** A message from the child (`this.send`). */
  message: (message: ToParent) => void;
  /**
   * An uncaught exception or unhandled rejection in the child, revived as a real `Error` with the
   * child's `name`, `message`, `stack`, `cause` and own properties; also spawn failures
   * (`ERR_PROCLET_SPAWN`, `ERR_PROCLET_CACHE`), `ERR_PROCLET_START_TIMEOUT`, protocol violations
   * and a message cut off by the child exiting in the middle of sending it
   * (`ERR_PROCLET_PROTOCOL`), and deaths by a signal proclet did not send
   * (`ERR_PROCLET_CHILD_KILLED`), and supervision giving up (`ERR_PROCLET_RESTART_LIMIT`, then
   * `'exit'`). Under a restart policy each child's failures are reported as they happen; a start
   * timeout only when no restart follows it. Without a listener the error is written to stderr
   * and the parent carries on.
   */
  error: (error: ProcletError) => void;
  /**
   * The last child exited and no restart follows, after every message it sent was delivered;
   * once per Proclet, always the last event. `code` is null when it was killed by `signal` (its
   * name; a number for a signal without one); both are null when it never started.
   */
  exit: (code: number | null, signal: NodeJS.Signals | number | null) => void;
  /** A child process has started (the first one and every restart), with its pid. */
  spawn: (pid: number) => void;
  /** A child ended and another starts after `info.delay` ms (the restart policy, or `restart()`). */
  restart: (info: RestartInfo) => void;
  /** The outgoing queue emptied after `send` (or `child.emit`) returned false. */
  drain: () => void;
  /**
   * With `stdio: 'pipe'`: bytes the child wrote to its stdout, in order, as they arrive (chunk
   * boundaries are not the child's writes). Every byte comes before `'exit'`.
   */
  stdout: (chunk: Buffer) => void;
  /** With `stdio: 'pipe'`: bytes the child wrote to its stderr, like `'stdout'`. */
  stderr: (chunk: Buffer) => void;
}

/** The names of the events in {@link ParentEvents}: other listeners use them at their peril. */
export type ParentEventName = keyof ParentEvents;

/** A listener for an event the child emits (`this.emit(event, ...args)`). */
export type ChildEventListener = (...args: any[]) => void;

/**
 * The parent's side of the channel, `proclet.parent`: an EventEmitter with the child's messages
 * (`'message'`), the lifecycle events (`'error'`, `'exit'`, `'drain'`, `'stdout'`, `'stderr'`) and every event the child
 * emits (any other name, or a pattern with `wildcard: true`), plus `send`, `flush`, `expose`,
 * `onAny` and `messages`.
 *
 * @typeParam ToChild - what the parent sends (`send`).
 * @typeParam ToParent - what the child sends (`'message'`, `messages()`).
 * @typeParam ParentMethods - the methods the parent exposes to the child (`expose`).
 *
 * @example
 * ```ts
 * p.parent.on('message', (m) => console.log(m));
 * p.parent.on('progress', (percent: number) => bar.update(percent));
 * p.parent.on('exit', (code, signal) => console.log('child exited', code, signal));
 * ```
 */
export interface ParentChannel<ToChild = any, ToParent = any, ParentMethods extends object = MethodMap> extends EventEmitter {
  /**
   * Adds a listener: `'message'`, `'error'`, `'exit'`, `'drain'` with their own signatures; any
   * other name for the child's events (`this.emit(name, ...args)`), patterns with `wildcard`.
   * @throws TypeError (`ERR_PROCLET_INVALID_EVENT`) for an empty name.
   * @example
   * ```ts
   * p.parent.on('job.*', (id: number) => console.log('job event', id)); // with wildcard: true
   * ```
   */
  on<E extends ParentEventName>(event: E, listener: ParentEvents<ToParent>[E]): this;
  on<E extends string | symbol>(event: UnreservedEvent<E, ParentEventName>, listener: ChildEventListener): this;
  /**
   * `on`, removed after its first call.
   * @example
   * ```ts
   * p.parent.once('exit', (code) => console.log(code));
   * ```
   */
  once<E extends ParentEventName>(event: E, listener: ParentEvents<ToParent>[E]): this;
  once<E extends string | symbol>(event: UnreservedEvent<E, ParentEventName>, listener: ChildEventListener): this;
  /**
   * Removes a listener added with `on` or `once`.
   * @example
   * ```ts
   * p.parent.off('message', onMessage);
   * ```
   */
  off<E extends ParentEventName>(event: E, listener: ParentEvents<ToParent>[E]): this;
  off<E extends string | symbol>(event: UnreservedEvent<E, ParentEventName>, listener: ChildEventListener): this;
  /** Same as `on`. */
  addListener<E extends ParentEventName>(event: E, listener: ParentEvents<ToParent>[E]): this;
  addListener<E extends string | symbol>(event: UnreservedEvent<E, ParentEventName>, listener: ChildEventListener): this;
  /** Same as `off`. */
  removeListener<E extends ParentEventName>(event: E, listener: ParentEvents<ToParent>[E]): this;
  removeListener<E extends string | symbol>(event: UnreservedEvent<E, ParentEventName>, listener: ChildEventListener): this;
  /** `on`, but the listener runs before those already added (exact names only, not patterns). */
  prependListener<E extends ParentEventName>(event: E, listener: ParentEvents<ToParent>[E]): this;
  prependListener<E extends string | symbol>(event: UnreservedEvent<E, ParentEventName>, listener: ChildEventListener): this;
  /** `once`, but the listener runs before those already added (exact names only, not patterns). */
  prependOnceListener<E extends ParentEventName>(event: E, listener: ParentEvents<ToParent>[E]): this;
  prependOnceListener<E extends string | symbol>(event: UnreservedEvent<E, ParentEventName>, listener: ChildEventListener): this;
  /**
   * Sends a message to the child's `'message'` handlers, written at once (what follows in the
   * same tick is batched into one write). Messages sent before `run()` are queued and delivered
   * once the child runs. Never blocks: returns false once more than 1 MiB waits to
   * be written (the message is still queued); wait for `'drain'` before sending more.
   * @throws TypeError (`ERR_PROCLET_INVALID_MESSAGE`) for values with no JSON form (circular,
   *   BigInt, functions, symbols, `undefined`); Error (`ERR_PROCLET_CHANNEL_CLOSED`) once the
   *   child has exited; RangeError (`ERR_PROCLET_MESSAGE_TOO_LARGE`) over 2^29 - 24 bytes.
   * @example
   * ```ts
   * if (!p.parent.send({ job: 1 })) await once(p.parent, 'drain');
   * ```
   */
  send(message: ToChild): boolean;
  /**
   * Resolves when everything sent so far (before `run()` included) has been written to the
   * channel.
   * @returns a promise that rejects with `ERR_PROCLET_CHANNEL_CLOSED` if the child ends first.
   * @example
   * ```ts
   * p.parent.send(bigPayload);
   * await p.parent.flush();
   * ```
   */
  flush(): Promise<void>;
  /**
   * Methods that run **in the parent**, callable from the child with `this.call(name, ...args)`.
   * `this` in them is `{ signal }`, the call's AbortSignal. Can be called several times (before
   * or after `run()`), each name once.
   * @throws TypeError (`ERR_PROCLET_INVALID_FUNCTION`) for a non-object or a non-function value,
   *   TypeError (`ERR_PROCLET_DUPLICATE_METHOD`) for a name already exposed.
   * @example
   * ```ts
   * p.parent.expose({ lookup: (key: string) => cache.get(key) });
   * ```
   */
  expose(methods: MethodImplementations<ParentMethods, ParentMethodContext>): this;
  /**
   * Runs `listener(event, ...args)` for every message (as the event `'message'`) and every event
   * from the child, in order, before their own listeners. Lifecycle events (`'error'`, `'exit'`,
   * `'drain'`) are not included.
   * @throws TypeError (`ERR_PROCLET_INVALID_FUNCTION`) for a non-function.
   * @example
   * ```ts
   * p.parent.onAny((event, ...args) => log(event, args));
   * ```
   */
  onAny(listener: (event: string, ...args: any[]) => void): this;
  /**
   * Removes a listener added with `onAny`.
   * @example
   * ```ts
   * p.parent.offAny(log);
   * ```
   */
  offAny(listener: (event: string, ...args: any[]) => void): this;
  /**
   * The child's messages from now on, in order; ends after the final `'exit'`. While the consumer
   * is more than 1,000 messages behind, the channel is not read (the child's `send` returns false
   * and its writes wait), so memory stays bounded. `break` ends the iteration.
   * @example
   * ```ts
   * for await (const message of p.parent.messages()) console.log(message);
   * ```
   */
  messages(): AsyncIterableIterator<ToParent>;
}

/**
 * The child's side, seen from the parent: `proclet.child`. Handlers and methods registered here
 * are shipped as source and run **inside the child** (they see none of the parent's variables);
 * `emit` and `call` reach them there.
 *
 * @example
 * ```ts
 * p.child.on('resize', function (width: number) { this.send(width * 2); });
 * p.child.emit('resize', 640);
 * ```
 */
export interface ChildHandlers<ToChild = any, ToParent = any, ChildMethods extends object = MethodMap, ParentMethods extends object = MethodMap> {
  /**
   * Runs `handler` in the child for `event`: `'message'` for the parent's messages, any other
   * name (or pattern, with `wildcard`) for the events of `child.emit`. The handler gets the
   * event's arguments, then the sender's id (`0`, the parent); `this` is the child context. A
   * handler registered before `run()` also sees everything sent before `run()`, and a message or
   * event that arrives while the child has no handler waits for the first one. Several handlers
   * run in the order they were added.
   *
   * `'stop'` handlers run when `proclet.stop()` or `proclet.restart()` asks the child to stop:
   * what they return is awaited, then the child closes with code 0 (or the code a handler gave
   * `this.close(code)`), delivering what it sent; past the kill timeout it gets SIGKILL.
   *
   * While it has handlers the child stays alive waiting for messages, and keeps the parent's
   * event loop alive: end it with `this.close(code)` in a handler, `proclet.stop()`,
   * `proclet.kill()`, or `proclet.unref()`.
   * @throws TypeError (`ERR_PROCLET_INVALID_EVENT`) for an empty name; TypeError
   *   (`ERR_PROCLET_INVALID_FUNCTION`) for handlers that cannot run elsewhere; Error
   *   (`ERR_PROCLET_CHANNEL_CLOSED`) once the child has exited.
   * @example
   * ```ts
   * p.child.on('message', function (m, from) { this.send(`got ${m} from ${from}`); });
   * ```
   */
  on(event: 'message', handler: ChildHandler<ToChild, ToParent, ParentMethods, ChildMethods>): this;
  on<E extends string>(
    event: UnreservedEvent<E, 'message'>,
    handler: (this: ChildContext<ToParent, ParentMethods, ToChild, ChildMethods>, ...args: any[]) => unknown,
  ): this;
  /**
   * Runs `handler(event, ...args, from)` in the child for every message (as `'message'`) and
   * event that arrives there, before the event's own handlers.
   * @throws TypeError (`ERR_PROCLET_INVALID_FUNCTION`); Error (`ERR_PROCLET_CHANNEL_CLOSED`) once
   *   the child has exited.
   * @example
   * ```ts
   * p.child.onAny(function (event, ...args) { this.emit('seen', event, args.length); });
   * ```
   */
  onAny(handler: (this: ChildContext<ToParent, ParentMethods, ToChild, ChildMethods>, event: string, ...args: any[]) => unknown): this;
  /**
   * Fires `event` in the child: its handlers get `...args` (JSON values) and the sender id `0`.
   * Queued before `run()`, ordered with messages and calls. Returns false past the high-water
   * mark, like `send`. `'message'` and `'stop'` are reserved (a compile error here).
   * @throws TypeError (`ERR_PROCLET_RESERVED_EVENT`) for `'message'` or `'stop'`; TypeError
   *   (`ERR_PROCLET_INVALID_EVENT`) for an empty name; TypeError (`ERR_PROCLET_INVALID_MESSAGE`)
   *   for arguments with no JSON form; Error (`ERR_PROCLET_CHANNEL_CLOSED`) once the child has
   *   exited.
   * @example
   * ```ts
   * p.child.emit('config', { verbose: true });
   * ```
   */
  emit<E extends string>(event: UnreservedEvent<E, ReservedToChild>, ...args: any[]): boolean;
  /**
   * Methods that run **in the child** (shipped as source, like handlers), callable with
   * `child.call`; `this` in them is the child context (`this.signal` is the call's AbortSignal).
   * Each name can be exposed once; several calls add up.
   * @throws TypeError (`ERR_PROCLET_INVALID_FUNCTION`) for a non-object or a method that cannot
   *   run elsewhere (nothing is exposed then); TypeError (`ERR_PROCLET_DUPLICATE_METHOD`) for a
   *   name already exposed; Error (`ERR_PROCLET_CHANNEL_CLOSED`) once the child has exited.
   * @example
   * ```ts
   * p.child.expose({ async resize(image: string, width: number) { return `${image}@${width}`; } });
   * ```
   */
  expose(methods: MethodImplementations<ChildMethods, ChildContext<ToParent, ParentMethods, ToChild, ChildMethods>>): this;
  /**
   * Calls a method the child exposed with `args` (JSON values); resolves with its result
   * (awaited in the child if it returned a Promise). Calls made before `run()` wait for the child.
   * @throws TypeError (`ERR_PROCLET_INVALID_METHOD`) for an empty name, TypeError
   *   (`ERR_PROCLET_INVALID_MESSAGE`) for arguments with no JSON form (both synchronously).
   * @returns a promise that rejects with the method's error revived faithfully,
   *   `ERR_PROCLET_UNKNOWN_METHOD`, or `ERR_PROCLET_CHANNEL_CLOSED` when the child ends first.
   * @example
   * ```ts
   * const thumbnail = await p.child.call('resize', image, 640);
   * ```
   */
  call<K extends MethodName<ChildMethods>>(name: K, ...args: MethodParameters<ChildMethods, K>): Promise<MethodResult<ChildMethods, K>>;
  /**
   * `call` with a time limit (`timeout`, in ms) and/or an `AbortSignal`; either one aborts the
   * method's `this.signal` in the child.
   * @throws TypeError (`ERR_PROCLET_INVALID_OPTION`) for a bad `timeout` or `signal`, and what
   *   `call` throws.
   * @returns a promise that also rejects with `ERR_PROCLET_CALL_TIMEOUT`, or the signal's reason.
   * @example
   * ```ts
   * await p.child.callWith({ timeout: 5_000, signal: AbortSignal.timeout(10_000) }, 'resize', image, 640);
   * ```
   */
  callWith<K extends MethodName<ChildMethods>>(
    options: CallOptions,
    name: K,
    ...args: MethodParameters<ChildMethods, K>
  ): Promise<MethodResult<ChildMethods, K>>;
}

// ---- the Proclet ------------------------------------------------------------------------------

/**
 * Runs one function as a separate Node.js process, with messages, named events and calls both
 * ways.
 *
 * Without type arguments everything is permissive (`any` messages, any method name) and the
 * worker's parameters are inferred, so `run(...args)` is checked against them. With type
 * arguments, `Args` is not inferred (TypeScript infers all or none): pass it as the fifth one to
 * keep `run` checked.
 *
 * @typeParam ToChild - messages the parent sends (checked by `parent.send` and `'message'` handlers).
 * @typeParam ToParent - messages the child sends (checked by `this.send`, `'message'`, `messages()`).
 * @typeParam ChildMethods - methods the child exposes (`child.expose`, `child.call`).
 * @typeParam ParentMethods - methods the parent exposes (`parent.expose`, `this.call`).
 * @typeParam Args - the worker's parameters (`run(...args)`).
 *
 * @example
 * ```ts
 * import { Proclet, ChildContext } from 'proclet';
 *
 * interface ChildApi { resize(image: string, width: number): Promise<string> }
 * interface ParentApi { lookup(key: string): number }
 *
 * const p = new Proclet<string, string, ChildApi, ParentApi, [prefix: string]>(
 *   async function (prefix) {
 *     this.send(`${prefix}: ${await this.call('lookup', 'width')}`);
 *   },
 *   { startTimeout: 10_000 },
 * );
 * p.child.expose({ async resize(image, width) { return `${image}@${width}`; } });
 * p.parent.expose({ lookup: (key) => key.length });
 * p.parent.on('message', (m) => console.log(m));
 * p.run('worker');
 * await p.ready;
 * console.log(await p.child.call('resize', 'cat.png', 640));
 * p.kill();
 * console.log(await p.exited);
 * ```
 */
export declare class Proclet<
  ToChild = any,
  ToParent = any,
  ChildMethods extends object = MethodMap,
  ParentMethods extends object = MethodMap,
  Args extends unknown[] = any[],
> {
  /**
   * @param worker - the worker function, or a script worker (a module file).
   *
   *   A **function**: its source runs in a fresh process: it sees none of the parent's variables;
   *   `require()` and `import()` resolve from the file that created the Proclet.
   *
   *   A **script worker**: a path or `file:` URL, resolved as `require.resolve()` would resolve
   *   it from the file that calls `new Proclet()` (`'./worker.js'` sits next to that file, not in
   *   the working directory). CommonJS or ES module (`.cjs`, `.mjs`, or `.js` by the package's
   *   `"type"`); the child loads the file itself, so stack traces and coverage are the file's
   *   own. If the module exports a function (`module.exports = fn`, `export default fn`), it is
   *   called like a function worker: `this` is the {@link ChildContext}, the arguments are
   *   `run()`'s. Otherwise the module simply runs. `child.on`, `child.expose` and calls work as
   *   with a function worker.
   * @param options - see {@link ProcletOptions}.
   * @throws TypeError (`ERR_PROCLET_INVALID_FUNCTION`) for a missing argument, a non-function, a
   *   native or bound function, a Proxy, a class, a generator function (`function*`,
   *   `async function*`, also compiled), source that cannot be turned back into a function, or a
   *   URL that is not `file:`; TypeError (`ERR_PROCLET_WORKER_NOT_FOUND`) for a script worker
   *   that cannot be found; TypeError (`ERR_PROCLET_INVALID_OPTION`) for a bad or unknown option.
   * @example
   * ```ts
   * const p = new Proclet(function (this: ChildContext, config: { name: string }) {
   *   this.send(`hello ${config.name}`);
   * });
   * p.run({ name: 'proclet' });
   *
   * // worker.js: module.exports = function (greeting) { this.send(`${greeting} from ${process.pid}`); };
   * const script = new Proclet('./worker.js', { args: ['--verbose'], stdio: 'pipe' });
   * script.parent.on('message', (m) => console.log(m));
   * script.parent.on('stdout', (chunk) => process.stdout.write(chunk));
   * script.run('hello');
   * ```
   */
  constructor(worker: WorkerFunction<ToParent, ParentMethods, ToChild, ChildMethods, Args> | string | URL, options?: ProcletOptions);
  /** The parent's side: the child's messages and events, lifecycle events, `send`, `expose`. */
  readonly parent: ParentChannel<ToChild, ToParent, ParentMethods>;
  /** The child's side: handlers and methods that run inside the child, `emit` and `call` to them. */
  readonly child: ChildHandlers<ToChild, ToParent, ChildMethods, ParentMethods>;
  /**
   * The current child's process id (the last one's while a restart is pending), once `run()` was
   * called (undefined before, or if spawning failed).
   */
  readonly pid: number | undefined;
  /**
   * With `stdio: 'pipe'`: a Writable to the child's stdin (else null). Writes made before the
   * child runs wait for it; `end()` gives the child end-of-file. Bytes the child does not read
   * before it exits are dropped (no error). Destroyed after the final `'exit'`.
   * @example
   * ```ts
   * p.stdin?.end('input for the child\n');
   * ```
   */
  readonly stdin: Writable | null;
  /**
   * With `stdio: 'pipe'`: a Readable of the child's stdout (else null), for the Proclet's whole
   * life; it ends after the final `'exit'`. It buffers from the moment this property is first
   * read; while it is not consumed and its buffer is full, the child's pipe is not read, and the
   * child's writes wait, as with `child_process` (`'stdout'` events then wait too). Output before
   * the first read of the property goes to the `'stdout'` events only.
   * @example
   * ```ts
   * p.stdout?.pipe(process.stdout);
   * ```
   */
  readonly stdout: Readable | null;
  /** With `stdio: 'pipe'`: a Readable of the child's stderr (else null), like `stdout`. */
  readonly stderr: Readable | null;
  /**
   * Resolves when the first child has started and its runtime is connected (later children do
   * not change it: `restart()` resolves when its child is ready). Rejects on spawn failure
   * (`ERR_PROCLET_SPAWN`, `ERR_PROCLET_CACHE`), `ERR_PROCLET_START_TIMEOUT`, or
   * `ERR_PROCLET_CHANNEL_CLOSED` when the child exits before it was ready. Never an unhandled
   * rejection by itself. Stays pending until `run()`.
   * @example
   * ```ts
   * p.run();
   * await p.ready;
   * ```
   */
  readonly ready: Promise<void>;
  /**
   * Resolves with how the last child ended, right after the final `'exit'` event (no restart
   * follows). Never rejects.
   * @example
   * ```ts
   * const { code, signal } = await p.exited;
   * ```
   */
  readonly exited: Promise<ProcletExit>;
  /**
   * Starts the child and calls the worker with `args` (JSON values). Spawn failures arrive as
   * `'error'` then `'exit'` (and reject `ready`).
   * @throws Error (`ERR_PROCLET_ALREADY_STARTED`) when called twice; TypeError
   *   (`ERR_PROCLET_INVALID_MESSAGE`) for arguments with no JSON form.
   * @example
   * ```ts
   * new Proclet(function (a: number, b: number) { this.send(a + b); }).run(1, 2);
   * ```
   */
  run(...args: Args): this;
  /**
   * Sends a signal to the current child (default `'SIGTERM'`); only a signal: under
   * `restart: 'on-failure'` or `'always'` the child it kills is restarted (`stop()` ends
   * supervision). Returns false if no child is running.
   * @throws TypeError (`ERR_PROCLET_INVALID_SIGNAL`) for unknown signals.
   * @example
   * ```ts
   * p.kill('SIGKILL');
   * ```
   */
  kill(signal?: NodeJS.Signals | number): boolean;
  /**
   * Ends supervision and the child, gracefully: the child's `'stop'` handlers run (what they
   * return is awaited; without one the child closes at once), then the child closes, delivering
   * everything it sent; past `timeout` ms (default `killTimeout`) it gets SIGKILL. No restart
   * follows. Resolves with the final exit, as `exited` does. Before `run()`: the Proclet ends
   * without a child (`{ code: null, signal: null }`, `'exit'` is emitted, `run()` then throws).
   * While a restart is pending: it is cancelled, the last exit is final. Twice, or after the
   * exit: the same final exit.
   * @throws TypeError (`ERR_PROCLET_INVALID_OPTION`) for a bad `timeout`.
   * @example
   * ```ts
   * p.child.on('stop', async function () { await flushToDisk(); });
   * process.on('SIGTERM', async () => console.log(await p.stop({ timeout: 3_000 })));
   * ```
   */
  stop(options?: StopOptions): Promise<ProcletExit>;
  /**
   * Stops the current child as `stop()` does (timeout `killTimeout`) and starts a fresh one at
   * once, whatever the policy; resolves when the new child is ready. Emits `'restart'` with delay
   * 0 and counts in `restarts`, but is never a quick end (the doubling delay starts over). While a
   * restart is pending: the next child starts now. Twice at once: the same promise. Messages,
   * events and calls sent after `restart()` go to the new child (the old one's `'stop'` is the
   * last thing it receives).
   * @returns rejects with `ERR_PROCLET_NOT_STARTED` before `run()`, `ERR_PROCLET_CHANNEL_CLOSED`
   *   after `stop()` or the final exit (or if one of them comes first), and with the new child's
   *   failure if it ends before it is ready.
   * @example
   * ```ts
   * fs.watch(configFile, () => p.restart());
   * ```
   */
  restart(): Promise<void>;
  /**
   * Lets the parent's event loop exit while the child runs or a restart is pending (the child
   * then ends with it).
   * @example
   * ```ts
   * new Proclet(function () { setInterval(() => this.send('tick'), 1000); }).unref().run();
   * ```
   */
  unref(): this;
  /**
   * Undoes `unref()`: the running child, or a pending restart, keeps the parent's event loop
   * alive (the default).
   * @example
   * ```ts
   * p.unref().ref();
   * ```
   */
  ref(): this;
}

/** A binary value: travels as raw bytes in both serializations and arrives as the same type. */
export type BinaryValue = Buffer | ArrayBuffer | DataView | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** What a message may hold with `serialization: 'advanced'` (plain objects and arrays may be circular). */
export type StructuredValue =
  | JsonValue
  | undefined
  | bigint
  | Date
  | RegExp
  | Error
  | Map<StructuredValue, StructuredValue>
  | Set<StructuredValue>
  | StructuredValue[]
  | { [key: string]: StructuredValue };

// ---- pools, peers and warm start --------------------------------------------------------------

/**
 * Options of `new ProcletPool(worker, options)`: the pool's own, and every {@link ProcletOptions},
 * applied to each worker.
 * @example
 * ```ts
 * new ProcletPool(worker, { size: 4, concurrency: 2, maxQueue: 10_000 });
 * ```
 */
export interface ProcletPoolOptions extends ProcletOptions {
  /** How many workers (ids `1..size`). Default `os.availableParallelism()`. */
  size?: number;
  /** Calls one worker runs at once. Default 1. */
  concurrency?: number;
  /**
   * Calls that may wait (in the pool, or ahead of time in a worker) before `child.call` rejects
   * with `ERR_PROCLET_QUEUE_FULL`. Default `Infinity`.
   */
  maxQueue?: number;
  /**
   * While every worker runs `concurrency` calls, up to `concurrency * prefetch` more per worker
   * are handed over ahead of time and wait inside it, so that it goes from one call to the next
   * without a round trip to the parent. A call waiting in a worker that dies goes to another
   * worker. `0` keeps every waiting call in the pool, for whichever worker is free first (best
   * for long calls of uneven length). Default 4.
   */
  prefetch?: number;
}

/**
 * `pool.parent`: the events of every worker, each listener getting the worker's id last.
 * @example
 * ```ts
 * pool.parent.on('message', (message, id) => console.log(`worker ${id}:`, message));
 * pool.parent.on('exit', (code, signal, id) => console.log(`worker ${id} ended`));
 * ```
 */
export interface PoolParentChannel<ToChild = any, ToParent = any, ParentMethods extends object = MethodMap> extends EventEmitter {
  on(event: 'message', listener: (message: ToParent, id: number) => void): this;
  on(event: 'error', listener: (error: ProcletError, id: number) => void): this;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | number | null, id: number) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  off(event: string | symbol, listener: (...args: any[]) => void): this;
  /** Sends a message to every worker. */
  send(message: ToChild): boolean;
  /** Resolves when everything sent to every worker is written. */
  flush(): Promise<void>;
  /** Methods that run in the parent, callable from every worker with `this.call`. */
  expose(methods: MethodImplementations<ParentMethods, ParentMethodContext>): this;
  /** `listener(event, ...args, id)` for every message and event from any worker. */
  onAny(listener: (event: string, ...args: any[]) => void): this;
  offAny(listener: (event: string, ...args: any[]) => void): this;
  /** Every worker's messages, in the order they arrive; ends once every worker has ended. */
  messages(): AsyncIterableIterator<ToParent>;
}

/** `{ send, emit, call, callWith }` to one worker of a pool (`pool.to(id)`). */
export interface PoolWorkerChannel<ChildMethods extends object = MethodMap> {
  /** Sends a message to that worker's `'message'` handlers (sender id 0). */
  send(message: unknown): boolean;
  /** Fires `event` in that worker. */
  emit(event: string, ...args: any[]): boolean;
  /** Calls a method of that worker (not queued in the pool). */
  call<K extends MethodName<ChildMethods>>(name: K, ...args: MethodParameters<ChildMethods, K>): Promise<MethodResult<ChildMethods, K>>;
  /** `call` with a timeout and/or an AbortSignal. */
  callWith<K extends MethodName<ChildMethods>>(
    options: CallOptions,
    name: K,
    ...args: MethodParameters<ChildMethods, K>
  ): Promise<MethodResult<ChildMethods, K>>;
}

/** `{ send, emit }` to every worker of a pool (`pool.to('all')`). */
export interface PoolBroadcast {
  /** Sends a message to every worker; false if any channel is past its high-water mark. */
  send(message: unknown): boolean;
  /** Fires `event` in every worker. */
  emit(event: string, ...args: any[]): boolean;
}

/** How one worker of a pool ended for good. */
export interface PoolWorkerExit extends ProcletExit {
  /** The worker's id. */
  id: number;
}

/**
 * `size` Proclets running the same worker. Calls go to the least busy worker; handlers and
 * methods registered on `pool.child` are installed in every worker (replacements included);
 * `pool.parent` hears every worker, each listener getting the worker's id after the event's own
 * arguments. Workers have stable ids `1..size` and reach each other with `this.to(id | 'all')`.
 *
 * @example
 * ```ts
 * const pool = new ProcletPool(function () {
 *   this.expose({ hash: (s: string) => require('crypto').createHash('sha256').update(s).digest('hex') });
 *   this.on('shard', (key: string, value: string, from: number) => {});
 *   if (this.id === 1) this.to('all').emit('hello', this.id);
 * }, { size: 4 });
 * pool.parent.on('progress', (pct: number, id: number) => console.log(`worker ${id}: ${pct}%`));
 * pool.run();
 * const digests = await Promise.all(['a', 'b'].map((f) => pool.child.call('hash', f)));
 * pool.to(2).emit('shard', 'k', 'v');
 * await pool.stop();
 * ```
 */
export declare class ProcletPool<ToChild = any, ToParent = any, ChildMethods extends object = MethodMap, ParentMethods extends object = MethodMap, Args extends unknown[] = any[]> {
  /**
   * @param worker - runs in every worker process, as for a {@link Proclet}.
   * @param options - see {@link ProcletPoolOptions}.
   * @throws TypeError (`ERR_PROCLET_INVALID_OPTION`, `ERR_PROCLET_INVALID_FUNCTION`) as `new Proclet()` does.
   */
  constructor(worker: WorkerFunction<ToParent, ParentMethods, ToChild, ChildMethods, Args>, options?: ProcletPoolOptions);
  /** The workers' Proclets, by id (`pool.workers[1]`). */
  readonly workers: Readonly<Record<number, Proclet<ToChild, ToParent, ChildMethods, ParentMethods, Args>>>;
  /** How many workers the pool has. */
  readonly size: number;
  /** Calls not started yet: waiting in the pool, or inside a busy worker. */
  readonly queued: number;
  /**
   * Every worker's messages and events; listeners get the worker's id after the event's own
   * arguments (`on('message', (message, id) => ...)`, `on('exit', (code, signal, id) => ...)`).
   * `send` reaches every worker; `expose` exposes parent methods to every worker.
   */
  readonly parent: PoolParentChannel<ToChild, ToParent, ParentMethods>;
  /**
   * `on`, `onAny`, `expose` install in every worker; `call` and `callWith` go to the least busy
   * worker, queued FIFO while every worker is busy; `ERR_PROCLET_QUEUE_FULL` past `maxQueue`;
   * a worker that dies mid-call rejects that call with `ERR_PROCLET_CHANNEL_CLOSED`.
   */
  readonly child: Pick<ChildHandlers<ToChild, ToParent, ChildMethods, ParentMethods>, 'on' | 'onAny' | 'expose' | 'call' | 'callWith'>;
  /** Resolves when every worker is ready; rejects as the first worker's `ready` that rejects. */
  readonly ready: Promise<void>;
  /** Resolves with every worker's final exit, by id, once all have ended. Never rejects. */
  readonly exited: Promise<PoolWorkerExit[]>;
  /** Starts every worker with `args`. */
  run(...args: Args): this;
  /** Stops every worker gracefully; resolves with their final exits, by id. */
  stop(options?: { timeout?: number }): Promise<PoolWorkerExit[]>;
  /**
   * `{ send, emit, call, callWith }` to worker `id`, or `{ send, emit }` to every worker.
   * @throws TypeError (`ERR_PROCLET_INVALID_PEER`) for an id that is not `1..size`.
   */
  to(target: 'all'): PoolBroadcast;
  to(target: number): PoolWorkerChannel<ChildMethods>;
  /** Lets the parent exit while the workers run. */
  unref(): this;
  /** Undoes `unref()`. */
  ref(): this;
}

/** Where spares from `warmup()` are started: a `run()` with the same options adopts one. */
export interface WarmupOptions {
  /** Node flags. Default: the parent's, minus debugger/eval/watch/test flags. */
  execArgv?: string[];
  /** The environment. Default `process.env` at the time of `run()`. */
  env?: Record<string, string | undefined>;
  /** The working directory. Default `process.cwd()`. */
  cwd?: string | URL;
}

/**
 * Keeps `count` Node runtimes booted, waiting for a worker: a `run()` whose launch options match
 * adopts one, so its first message arrives in a few milliseconds instead of a Node start-up, and
 * a replacement boots in the background. Spares never keep the parent's event loop alive, die
 * with the parent, and `warmup(0)` ends them. A `run()` with other options starts cold.
 * @param count - how many spares to keep (default 1).
 * @throws TypeError (`ERR_PROCLET_INVALID_OPTION`) for a bad count or option.
 * @example
 * ```ts
 * warmup(2);                                   // at start-up
 * const p = new Proclet(fn).run();             // later: adopts a spare
 * ```
 */
export declare function warmup(count?: number, options?: WarmupOptions): void;
