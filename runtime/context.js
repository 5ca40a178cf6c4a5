'use strict';
// The context: `this` in the worker, in every handler and in every exposed method (arrow
// functions get it lexically, because their source is evaluated inside a function called with
// it). API.md section 5.

const { FrameKind } = require('../lib/shared/protocol');
const codec = require('../lib/shared/codec');
const errors = require('../lib/shared/errors');
const { RESERVED_FROM_CHILD, RESERVED_TO_CHILD, checkEventName, checkListener } = require('../lib/shared/emitter');

const SEND = 'this.send(message)';

/**
 * `writer`, `lifetime`: runtime/; `useCalls()`: lib/shared/calls.js's Calls; `signal()`: the
 * served call's AbortSignal; `registry`: the handler registry of runtime/handlers.js; `id`: this
 * worker's id; `size`: how many workers its pool has (1 for a lone Proclet); `codec`:
 * lib/shared/codec.js's Codec for the Proclet's `serialization`.
 */
function createContext({ writer, lifetime, useCalls, signal, registry, id, size, codec: encoder }) {
  /** Sends a message to the parent; false once the outgoing queue is past its high-water mark. */
  function send(message) {
    if (codec.isText(message)) return lifetime.closing ? false : writer.queue(FrameKind.Text, message, SEND);
    const payload = encoder.message(message, SEND);
    if (lifetime.closing) return false;
    return writer.queue(codec.kindOf(FrameKind.Message, payload), payload, SEND);
  }

  /** Fires `event` in the parent with `args`; false past the high-water mark. */
  function emit(event, ...args) {
    const operation = 'this.emit(event, ...args)';
    checkEventName(event, operation);
    if (RESERVED_FROM_CHILD.has(event)) throw errors.reservedEvent(operation, event, 'child');
    const payload = encoder.event(event, args, operation);
    if (lifetime.closing) return false;
    return writer.queue(codec.kindOf(FrameKind.Event, payload), payload, operation);
  }

  /** Calls a method the parent exposed; resolves with its result. */
  function call(name, ...args) {
    return awaiting(useCalls().call('this.call(name, ...args)', name, args));
  }

  /** `call` with `{ timeout (ms), signal }`. */
  function callWith(options, name, ...args) {
    return awaiting(useCalls().call('this.callWith(options, name, ...args)', name, args, options));
  }

  // The child stays alive while it waits for a result.
  function awaiting(promise) {
    lifetime.hold(1);
    const release = () => lifetime.hold(-1);
    promise.then(release, release);
    return promise;
  }

  function on(event, handler) {
    checkEventName(event, 'this.on(event, handler)');
    checkListener(handler, 'this.on(event, handler)');
    registry.on(event, handler);
    return context;
  }

  function off(event, handler) {
    checkEventName(event, 'this.off(event, handler)');
    registry.off(event, handler);
    return context;
  }

  function onAny(handler) {
    checkListener(handler, 'this.onAny(handler)');
    registry.onAny(handler);
    return context;
  }

  function expose(methods) {
    registry.expose('this.expose(methods)', methods);
    return context;
  }

  /** Resolves once everything sent so far is written to the channel. */
  function flush() {
    return writer.flushed();
  }

  /** Delivers everything sent so far, then exits with `code` (default 0). */
  function close(code = 0) {
    if (!Number.isInteger(code)) throw errors.invalidExitCode('this.close(code)', code);
    lifetime.shutdown(code);
  }

  // Peers: a TO frame naming the target, then the frame itself; the parent's addon routes the
  // pair to the target's channel behind a FROM frame naming this worker (docs/protocol.md, Peers).
  // Both frames are queued together, so nothing comes between them on the wire.
  function toPeer(route, kind, payload, operation) {
    codec.checkSize(payload, kind, operation);
    if (lifetime.closing) return false;
    writer.queue(FrameKind.To, route, operation);
    return writer.queue(kind, payload, operation);
  }

  const peers = new Map();
  /** `{ send, emit }` to worker `target` of this pool, or to every worker (this one included) with 'all'. */
  function to(target) {
    const route = target === 'all' ? '*' : Number.isInteger(target) && target >= 1 && target <= size ? String(target) : null;
    if (route === null) throw errors.invalidPeer('this.to(id)', target, size);
    let peer = peers.get(route);
    if (peer !== undefined) return peer;
    const name = target === 'all' ? "this.to('all')" : `this.to(${target})`;
    const sendOperation = `${name}.send(message)`;
    const emitOperation = `${name}.emit(event, ...args)`;
    peer = Object.freeze({
      send(message) {
        if (codec.isText(message)) return toPeer(route, FrameKind.Text, message, sendOperation);
        const payload = encoder.message(message, sendOperation);
        return toPeer(route, codec.kindOf(FrameKind.Message, payload), payload, sendOperation);
      },
      emit(event, ...args) {
        checkEventName(event, emitOperation);
        if (RESERVED_TO_CHILD.has(event)) throw errors.reservedEvent(emitOperation, event, 'parent');
        const payload = encoder.event(event, args, emitOperation);
        return toPeer(route, codec.kindOf(FrameKind.Event, payload), payload, emitOperation);
      },
    });
    peers.set(route, peer);
    return peer;
  }

  const context = {};
  const value = (fn) => ({ value: fn, enumerable: true });
  Object.defineProperties(context, {
    send: value(send),
    emit: value(emit),
    call: value(call),
    callWith: value(callWith),
    on: value(on),
    off: value(off),
    onAny: value(onAny),
    expose: value(expose),
    flush: value(flush),
    close: value(close),
    signal: { get: signal, enumerable: true },
    id: { value: id, enumerable: true },
    to: value(to),
  });
  return context;
}

module.exports = { createContext };
