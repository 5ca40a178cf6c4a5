'use strict';
// The context: `this` in the worker and in every handler (arrow functions get it lexically,
// because their source is evaluated inside a function called with it).

const { FrameKind } = require('../lib/shared/protocol');
const codec = require('../lib/shared/codec');
const errors = require('../lib/shared/errors');

const SEND = 'this.send(message)';

function createContext(writer, lifetime) {
  /** Sends a message to the parent; false once the outgoing queue is past its high-water mark. */
  function send(message) {
    if (codec.isText(message)) return lifetime.closing ? false : writer.queue(FrameKind.Text, message, SEND);
    const text = codec.toJson(message, SEND);
    if (lifetime.closing) return false;
    return writer.queue(FrameKind.Message, text, SEND);
  }

  /** Delivers everything sent so far, then exits with `code` (default 0). */
  function close(code = 0) {
    if (!Number.isInteger(code)) throw errors.invalidExitCode('this.close(code)', code);
    lifetime.shutdown(code);
  }

  const context = {};
  Object.defineProperties(context, {
    send: { value: send, enumerable: true },
    close: { value: close, enumerable: true },
  });
  return context;
}

module.exports = { createContext };
