'use strict';
// `proclet.child`: the child's side seen from the parent. Handlers registered here are shipped
// as source and run inside the child process.

const errors = require('./shared/errors');

class ChildHandle {
  #add;

  /** `add(event, handler)` comes from the Proclet. */
  constructor(add) {
    this.#add = add;
  }

  /** Registers `handler` to run in the child for every message that arrives from now on. */
  on(event, handler) {
    if (event !== 'message') throw errors.invalidEvent('child.on(event, handler)', event);
    this.#add(event, handler);
    return this;
  }
}

module.exports = { ChildHandle };
