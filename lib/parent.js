'use strict';
// `proclet.parent`: the parent's side of the conversation, an EventEmitter with 'message',
// 'error', 'exit' and 'drain'. It belongs to the Proclet, not to one child process.

const { EventEmitter } = require('events');
const util = require('util');
const errors = require('./shared/errors');

class ParentChannel extends EventEmitter {
  #send;
  #pid;

  /** `send(message)` and `pid()` come from the Proclet. */
  constructor(send, pid) {
    super();
    this.#send = send;
    this.#pid = pid;
  }

  /** Sends a JSON value to the child; false once the outgoing queue is past its high-water mark. */
  send(message) {
    return this.#send(message);
  }

  // An 'error' with no listener is written to stderr instead of being thrown: the parent
  // survives whatever its child does.
  emit(event, ...args) {
    if (event === 'error' && this.listenerCount('error') === 0) {
      process.stderr.write(`${errors.unhandledChildError(this.#pid())}${util.inspect(args[0])}\n`);
      return false;
    }
    return super.emit(event, ...args);
  }
}

module.exports = { ParentChannel };
