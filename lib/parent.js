'use strict';
// `proclet.parent`: the parent's side of the conversation. An EventEmitter with the child's
// messages and events, the lifecycle events ('error', 'exit', 'drain'), `onAny`, patterns (with
// `wildcard: true`), methods the child can call, `flush()` and `messages()`. It belongs to the
// Proclet, not to one child process.

const { EventEmitter } = require('events');
const util = require('util');
const errors = require('./shared/errors');
const { HandlerTable, isPattern, checkEventName, checkListener } = require('./shared/emitter');

const NO_PATTERNS = Object.freeze([]);

/** `messages()` stops reading the channel while its consumer is this many messages behind. */
const MESSAGES_BEHIND = 1000;

class ParentChannel extends EventEmitter {
  #proclet;
  #options;
  /** Patterns and `onAny` listeners; exact names are the EventEmitter's. */
  #table;

  /**
   * `proclet` provides: send(message), pid(), expose(methods), flush(), setBehind(iterator,
   * behind), ended() (the final 'exit' was emitted).
   * `options`: `{ wildcard, delimiter }`.
   */
  constructor(proclet, options) {
    super();
    this.#proclet = proclet;
    this.#options = options;
    this.#table = new HandlerTable(options);
  }

  /** Sends a JSON value to the child; false once the outgoing queue is past its high-water mark. */
  send(message) {
    return this.#proclet.send(message);
  }

  /** Methods that run in the parent, for the child's `this.call(name, ...args)`. */
  expose(methods) {
    this.#proclet.expose(methods);
    return this;
  }

  /** Resolves when everything sent so far is written to the channel. */
  flush() {
    return this.#proclet.flush();
  }

  on(event, listener) {
    return this.#pattern(event) ? this.#addPattern(event, listener) : super.on(event, listener);
  }

  addListener(event, listener) {
    return this.on(event, listener);
  }

  once(event, listener) {
    if (!this.#pattern(event)) return super.once(event, listener);
    checkListener(listener, 'parent.once(event, listener)');
    const wrapper = (...args) => {
      this.#table.off(event, wrapper);
      listener.apply(this, args);
    };
    wrapper.listener = listener;
    return this.#addPattern(event, wrapper);
  }

  off(event, listener) {
    if (!this.#pattern(event)) return super.off(event, listener);
    this.#table.off(event, listener);
    return this;
  }

  removeListener(event, listener) {
    return this.off(event, listener);
  }

  prependListener(event, listener) {
    if (!this.#pattern(event)) return super.prependListener(event, listener);
    checkListener(listener, 'parent.prependListener(event, listener)');
    this.#table.on(event, listener, true);
    return this;
  }

  prependOnceListener(event, listener) {
    if (!this.#pattern(event)) return super.prependOnceListener(event, listener);
    checkListener(listener, 'parent.prependOnceListener(event, listener)');
    const wrapper = (...args) => {
      this.#table.off(event, wrapper);
      listener.apply(this, args);
    };
    wrapper.listener = listener;
    this.#table.on(event, wrapper, true);
    return this;
  }

  /** With no argument also removes every pattern and `onAny` listener. */
  removeAllListeners(event) {
    if (event === undefined) this.#table.clear();
    else if (this.#pattern(event)) {
      this.#table.removeAll(event);
      return this;
    }
    return event === undefined ? super.removeAllListeners() : super.removeAllListeners(event);
  }

  listeners(event) {
    return this.#pattern(event) ? this.#table.patternListeners(event) : super.listeners(event);
  }

  listenerCount(event, listener) {
    if (!this.#pattern(event)) return super.listenerCount(event, listener);
    return this.#table.patternListeners(event).filter((fn) => listener === undefined || fn === listener).length;
  }

  /** `listener(event, ...args)` for every message ('message') and event from the child, in order. */
  onAny(listener) {
    checkListener(listener, 'parent.onAny(listener)');
    this.#table.onAny(listener);
    return this;
  }

  offAny(listener) {
    this.#table.offAny(listener);
    return this;
  }

  /**
   * The child's messages from now on, in order; ends after the final 'exit'. While the consumer
   * is more than 1,000 messages behind, the channel is not read (the child's writes wait).
   */
  messages() {
    const queue = [];
    const waiting = []; // resolvers of next() calls made before their message arrived
    let ended = this.#proclet.ended();
    const onMessage = (message) => {
      if (waiting.length > 0) {
        waiting.shift()({ value: message, done: false });
        return;
      }
      queue.push(message);
      if (queue.length === MESSAGES_BEHIND + 1) this.#proclet.setBehind(iterator, true);
    };
    const finish = () => {
      if (ended) return;
      ended = true;
      super.off('message', onMessage);
      super.off('exit', onExit);
      this.#proclet.setBehind(iterator, false);
    };
    const endWaiting = () => {
      for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
    };
    // A pool's parent hears each worker's 'exit': the iterator ends with the last.
    const onExit = () => {
      if (!this.#proclet.ended()) return;
      finish();
      endWaiting();
    };
    if (!ended) {
      super.on('message', onMessage);
      super.on('exit', onExit);
    }
    const iterator = {
      next: () => {
        if (queue.length > 0) {
          const value = queue.shift();
          if (queue.length === MESSAGES_BEHIND / 2) this.#proclet.setBehind(iterator, false);
          return Promise.resolve({ value, done: false });
        }
        if (ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiting.push(resolve));
      },
      return: () => {
        finish();
        queue.length = 0;
        endWaiting();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** A message from the child: `onAny` listeners, then 'message' listeners. */
  fromChildMessage(message) {
    const any = this.#table.anyListeners;
    for (let i = 0; i < any.length; i++) any[i].call(this, 'message', message);
    if (this.#options.wildcard) this.emit('message', message);
    else super.emit('message', message);
  }

  /** A named event from the child: `onAny` listeners, then the event's own listeners. */
  fromChild(event, args) {
    const any = this.#table.anyListeners;
    for (let i = 0; i < any.length; i++) any[i].call(this, event, ...args);
    if (this.#options.wildcard || event === 'error') this.emit(event, ...args);
    // The usual event: EventEmitter's own emit, without the layers of the one above.
    else if (args.length === 1) super.emit(event, args[0]);
    else super.emit(event, ...args);
  }

  // An 'error' with no listener is written to stderr instead of being thrown: the parent
  // survives whatever its child does.
  emit(event, ...args) {
    const patterns = this.#options.wildcard ? this.#table.listenersFor(event) : NO_PATTERNS;
    if (event === 'error' && this.listenerCount('error') === 0) {
      if (patterns.length === 0) {
        process.stderr.write(`${errors.unhandledChildError(this.#proclet.pid())}${util.inspect(args[0])}\n`);
        return false;
      }
      // Only patterns listen: they handle it (EventEmitter would throw without an 'error' listener).
      for (const listener of patterns) listener.apply(this, args);
      return true;
    }
    const handled = super.emit(event, ...args);
    for (const listener of patterns) listener.apply(this, args);
    return handled || patterns.length > 0;
  }

  #pattern(event) {
    if (typeof event === 'symbol') return false;
    checkEventName(event, 'parent.on(event, listener)');
    return isPattern(event, this.#options);
  }

  #addPattern(event, listener) {
    checkListener(listener, 'parent.on(event, listener)');
    this.#table.on(event, listener);
    return this;
  }
}

module.exports = { ParentChannel };
