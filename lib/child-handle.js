'use strict';
// `proclet.child`: the child's side seen from the parent. Handlers and methods registered here
// are shipped as source and run inside the child process; `emit` and `call` reach them there.

const util = require('util');
const errors = require('./shared/errors');
const { RESERVED_TO_CHILD, checkEventName, checkListener } = require('./shared/emitter');

class ChildHandle {
  #proclet;

  /**
   * `proclet` provides: ship(spec, fn, operation), emit(event, args, operation),
   * call(operation, name, args, options), exposeInChild(methods).
   */
  constructor(proclet) {
    this.#proclet = proclet;
  }

  /**
   * Runs `handler` in the child for `event`: 'message' for messages, any other name for the
   * events the parent emits into the child ('stop' when a graceful stop is asked).
   */
  on(event, handler) {
    const operation = `child.on(${util.inspect(event)}, handler)`;
    checkEventName(event, operation);
    checkListener(handler, operation);
    this.#proclet.ship({ type: 'on', event }, handler, operation);
    return this;
  }

  /** Runs `handler(event, ...args)` in the child for every message and event that arrives there. */
  onAny(handler) {
    checkListener(handler, 'child.onAny(handler)');
    this.#proclet.ship({ type: 'onAny' }, handler, 'child.onAny(handler)');
    return this;
  }

  /** Fires `event` in the child: its handlers get `...args`. False past the high-water mark. */
  emit(event, ...args) {
    const operation = 'child.emit(event, ...args)';
    checkEventName(event, operation);
    if (RESERVED_TO_CHILD.has(event)) throw errors.reservedEvent(operation, event, 'parent');
    return this.#proclet.emit(event, args, operation);
  }

  /** Methods that run in the child (shipped as source, `this` = the child context). */
  expose(methods) {
    this.#proclet.exposeInChild(methods);
    return this;
  }

  /** Calls a method the child exposed; resolves with its result. */
  call(name, ...args) {
    return this.#proclet.call('child.call(name, ...args)', name, args);
  }

  /** `call` with `{ timeout (ms), signal }`. */
  callWith(options, name, ...args) {
    return this.#proclet.call('child.callWith(options, name, ...args)', name, args, options);
  }
}

module.exports = { ChildHandle };
