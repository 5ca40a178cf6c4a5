/// <reference types="node" />
import { EventEmitter } from 'events';

/**
 * Any value that survives `JSON.stringify` / `JSON.parse`: what `send` accepts and what
 * `'message'` listeners receive.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * `this` inside the worker function and inside every child handler (arrow functions get it
 * lexically, so `() => this.send(1)` works too).
 *
 * @typeParam ToParent - what the child sends to the parent.
 */
export interface ChildContext<ToParent = any> {
  /**
   * Sends a message to the parent (any JSON value), written at once (what follows in the same
   * tick is batched into one write). Returns false once more than about 1 MiB waits to be
   * written; the message is still queued and will be delivered.
   * @throws TypeError (`ERR_PROCLET_INVALID_MESSAGE`) for values with no JSON form.
   */
  send(message: ToParent): boolean;
  /**
   * Delivers every message sent before this call, lets the child's stdout and stderr drain,
   * then exits the child with `code`.
   * @param code - exit code, an integer (default 0).
   */
  close(code?: number): void;
}

/** The worker function: runs once, in the child, with `this` bound to the context. */
export type WorkerFunction<ToParent = any> = (this: ChildContext<ToParent>) => unknown;

/** A child-side handler: runs in the child for each message from the parent. */
export type ChildHandler<ToChild = any, ToParent = any> = (this: ChildContext<ToParent>, message: ToChild) => unknown;

/** Listeners of the parent-side events. */
export interface ParentEvents<ToParent = any> {
  /** A message from the child. */
  message: (message: ToParent) => void;
  /**
   * An uncaught exception or unhandled rejection in the child, revived as a real `Error` with the
   * child's `name`, `message`, `stack`, `cause` and own properties; also spawn failures
   * (`ERR_PROCLET_SPAWN`, `ERR_PROCLET_CACHE`), protocol violations and a message cut off by the
   * child exiting in the middle of sending it (`ERR_PROCLET_PROTOCOL`), and
   * deaths by a signal proclet did not send (`ERR_PROCLET_CHILD_KILLED`). Without a listener the
   * error is written to stderr and the parent carries on.
   */
  error: (error: Error & { code?: string }) => void;
  /**
   * The child exited, after every message it sent was delivered. `code` is null when it was
   * killed by `signal` (its name; a number for a signal without one, e.g. a real-time signal);
   * both are null when it never started.
   */
  exit: (code: number | null, signal: NodeJS.Signals | number | null) => void;
  /** The outgoing queue emptied after `send` returned false. */
  drain: () => void;
}

/** The parent's side of the channel. An EventEmitter restricted to the events above. */
export interface ParentChannel<ToChild = any, ToParent = any> extends EventEmitter {
  on<E extends keyof ParentEvents<ToParent>>(event: E, listener: ParentEvents<ToParent>[E]): this;
  once<E extends keyof ParentEvents<ToParent>>(event: E, listener: ParentEvents<ToParent>[E]): this;
  off<E extends keyof ParentEvents<ToParent>>(event: E, listener: ParentEvents<ToParent>[E]): this;
  addListener<E extends keyof ParentEvents<ToParent>>(event: E, listener: ParentEvents<ToParent>[E]): this;
  removeListener<E extends keyof ParentEvents<ToParent>>(event: E, listener: ParentEvents<ToParent>[E]): this;
  prependListener<E extends keyof ParentEvents<ToParent>>(event: E, listener: ParentEvents<ToParent>[E]): this;
  /**
   * Sends a message to the child, written at once (what follows in the same tick is batched into
   * one write). Messages sent before `run()` are queued and delivered once the child runs. Never
   * blocks: returns false once more than 1 MiB waits to be written (the message
   * is still queued); wait for `'drain'` before sending more.
   * @throws TypeError (`ERR_PROCLET_INVALID_MESSAGE`) for values with no JSON form (circular,
   *   BigInt, functions, symbols, `undefined`); Error (`ERR_PROCLET_CHANNEL_CLOSED`) once the
   *   child has exited; RangeError (`ERR_PROCLET_MESSAGE_TOO_LARGE`) over 2^29 - 24 bytes.
   */
  send(message: ToChild): boolean;
}

/** Registers handlers that run inside the child. */
export interface ChildHandlers<ToChild = any, ToParent = any> {
  /**
   * Runs `handler` in the child for every message that reaches the child from then on; a
   * handler registered before `run()` also sees every message sent before `run()` (handlers
   * are installed before those are delivered). Several handlers run in the order they were
   * added.
   * @throws TypeError (`ERR_PROCLET_INVALID_EVENT`) for events other than `'message'`;
   *   TypeError (`ERR_PROCLET_INVALID_FUNCTION`) for handlers that cannot run elsewhere.
   */
  on(event: 'message', handler: ChildHandler<ToChild, ToParent>): this;
}

/**
 * Runs one function as a separate Node.js process, with messaging both ways.
 *
 * @typeParam ToChild - messages the parent sends (checked by `parent.send` and child handlers).
 * @typeParam ToParent - messages the child sends (checked by `this.send` and `'message'`).
 *
 * @example
 * ```js
 * const { Proclet } = require('proclet');
 * const p = new Proclet(function () { this.send('ready'); });
 * p.child.on('message', function (m) { this.send(m * 2); this.close(0); });
 * p.parent.on('message', (m) => { if (m === 'ready') p.parent.send(21); else console.log(m); });
 * p.parent.on('exit', (code) => console.log('child exited', code));
 * p.run();
 * ```
 */
export declare class Proclet<ToChild = any, ToParent = any> {
  /**
   * @param fn - the worker. Its source runs in a fresh process: it sees none of the parent's
   *   variables; `require()` resolves from the file that created the Proclet.
   * @throws TypeError (`ERR_PROCLET_INVALID_FUNCTION`) for a missing argument, a non-function, a
   *   native or bound function, or a class.
   */
  constructor(fn: WorkerFunction<ToParent>);
  /** The parent's side: events from the child and `send` to it. */
  readonly parent: ParentChannel<ToChild, ToParent>;
  /** The child's side: handlers that run inside the child. */
  readonly child: ChildHandlers<ToChild, ToParent>;
  /** The child's process id, once `run()` was called (undefined before, or if spawning failed). */
  readonly pid: number | undefined;
  /**
   * Starts the child. Spawn failures arrive as `'error'` then `'exit'`.
   * @throws Error (`ERR_PROCLET_ALREADY_RUNNING`) when called twice.
   */
  run(): this;
  /**
   * Sends a signal to the child (default `'SIGTERM'`). Returns false if it is not running.
   * @throws TypeError (`ERR_PROCLET_INVALID_SIGNAL`) for unknown signals.
   */
  kill(signal?: NodeJS.Signals | number): boolean;
  /** Lets the parent's event loop exit while the child runs (the child then ends with it). */
  unref(): this;
  /** Undoes `unref()`: the running child keeps the parent's event loop alive (the default). */
  ref(): this;
}
