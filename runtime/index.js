'use strict';
// The child runtime's entry: the cached script (src/script/runtime.rs) ends with
// `__proclet_runtime.start(factory, method)`, the worker's factory.
//
// Start-up is a handshake on fd 3 (docs/protocol.md): the runtime says READY, then reads the
// parent's INIT frame (the caller's file, the run() arguments, the options, how many handlers
// follow) and the HANDLER frames of what was registered before run(), synchronously: the parent
// wrote them right after spawning, so a cold start waits for nothing, the handlers are installed
// before the worker runs, and the worker still starts in the script's first tick. Nothing of
// proclet's travels in argv or the environment: process.argv.slice(2) is the user's `args`.

const net = require('net');
const { FrameKind, HEADER_LEN } = require('../lib/shared/protocol');
const codec = require('../lib/shared/codec');
const errors = require('../lib/shared/errors');
const { createWriter, writeAllSync, encodeFrame } = require('./writer');
const { createReader, readExactlySync } = require('./reader');
const { createLifetime } = require('./lifetime');
const { createCoverage } = require('./coverage');
const { createHandlers } = require('./handlers');
const { createContext } = require('./context');

/**
 * READY out, then INIT in, the PACKED frame of the run() arguments when INIT has none (binary
 * data, long strings, 'advanced'), and the `init.handlers` HANDLER frames.
 */
function handshake() {
  if (!writeAllSync(encodeFrame(FrameKind.Ready, ''))) process.exit();
  const init = JSON.parse(readFrameSync(FrameKind.Init));
  if (init.args === null) {
    const { kind, value } = codec.decodePacked(readFrameSync(FrameKind.Packed, true), false);
    if (kind !== FrameKind.Init || !Array.isArray(value)) throw errors.protocolFromParent('the run() arguments are not an array');
    init.args = value;
  }
  const handlers = [];
  for (let i = 0; i < init.handlers; i++) handlers.push(JSON.parse(readFrameSync(FrameKind.Handler)));
  return { init, handlers };
}

function readFrameSync(kind, bytes = false) {
  const header = readExactlySync(HEADER_LEN);
  if (header[4] !== kind) throw errors.protocolFromParent(`the handshake expected frame kind ${kind}, got ${header[4]}`);
  const payload = readExactlySync(header.readUInt32BE(0));
  return bytes ? payload : payload.toString('utf8');
}

/** `factory`: the function worker's, or null for a script worker (INIT names its file). */
function start(factory, method) {
  const { init, handlers: shipped } = handshake();
  // The reader's callbacks reach the handlers, made below, only when frames arrive.
  const reader = createReader({ onFrame, onMessages, stopped: () => lifetime.closing });
  const encoder = new codec.Codec(init.options.serialization);
  const socket = new net.Socket({
    fd: 3,
    readable: true,
    writable: true,
    onread: { buffer: () => reader.buffer(), callback: (n, buffer) => reader.onRead(n, buffer) },
  });
  const writer = createWriter(socket);
  const coverage = createCoverage(writer);
  const lifetime = createLifetime(socket, writer, coverage);
  // Calls (lib/shared/calls.js) are loaded when first used: most children make or serve none,
  // and start-up pays for every module it compiles.
  let calls = null;
  const useCalls = () => {
    if (calls === null) {
      const { Calls } = require('../lib/shared/calls');
      calls = new Calls({ send: (kind, payload) => writer.queue(kind, payload, 'a call'), codec: encoder, peer: () => 'the parent process', thisArg: context });
    }
    return calls;
  };
  const handlers = createHandlers({ caller: init.caller, options: init.options, useCalls, lifetime, coverage });
  const context = createContext({
    writer,
    lifetime,
    useCalls,
    signal: () => (calls === null ? undefined : calls.signal),
    registry: handlers.registry,
    id: init.id,
    codec: encoder,
  });
  handlers.bind(context);
  socket.on('close', () => calls !== null && calls.close(errors.parentGone));

  // While an ES module worker is being imported (asynchronously), what the parent sends waits
  // here, in order, as `[kind, payload]` pairs (kind -1: a run of messages): the module's default
  // export registers its own handlers and methods when it runs, and a 'stop', an event or a call
  // that arrived before must find them, as with a CommonJS worker (loaded before any read).
  let loading = null;

  function onFrame(kind, payload) {
    if (loading !== null) loading.push(kind, payload);
    else deliver(kind, payload);
  }

  /** The ES module worker has run (or failed to load): what waited is delivered, in order. */
  function loaded() {
    const waiting = loading;
    loading = null;
    for (let i = 0; i < waiting.length && !lifetime.closing; i += 2) {
      if (waiting[i] === -1) onMessages(waiting[i + 1]);
      else deliver(waiting[i], waiting[i + 1]);
    }
  }

  // Every kind has an arm: what only the child sends, or a number this build does not know,
  // is the parent breaking the protocol.
  function deliver(kind, payload) {
    switch (kind) {
      case FrameKind.Message:
      case FrameKind.Text:
        handlers.dispatchMessage(codec.decode(kind, payload));
        break;
      case FrameKind.Event: {
        const [event, ...args] = JSON.parse(payload);
        // 'stop' is reserved: only the parent's stop() and restart() send it (lib/session.js).
        if (event === 'stop') handlers.stop();
        else handlers.dispatch(event, args);
        break;
      }
      case FrameKind.Call:
        useCalls().onCall(JSON.parse(payload));
        break;
      case FrameKind.Result:
        useCalls().onResult(JSON.parse(payload));
        break;
      case FrameKind.Cancel:
        useCalls().onCancel(JSON.parse(payload));
        break;
      case FrameKind.Handler:
        handlers.add(JSON.parse(payload));
        break;
      case FrameKind.Packed: {
        let decoded;
        try {
          decoded = codec.decodePacked(payload, false);
        } catch (e) {
          throw errors.protocolFromParent(typeof e === 'string' ? e : `a packed payload is malformed (${e && e.message})`);
        }
        const { kind: carried, value } = decoded;
        if (carried === FrameKind.Message) handlers.dispatchMessage(value);
        else if (carried === FrameKind.Event) handlers.dispatch(value[0], value.slice(1));
        else if (carried === FrameKind.Call) useCalls().onCall(value);
        else if (carried === FrameKind.Result) useCalls().onResult(value);
        else throw errors.protocolFromParent(`a packed payload stands for frame kind ${carried} after the handshake`);
        break;
      }
      case FrameKind.Init:
      case FrameKind.Ready:
      case FrameKind.Error:
      case FrameKind.Coverage:
      default:
        throw errors.protocolFromParent(`unexpected frame kind 0x${kind.toString(16)}`);
    }
  }

  function onMessages(messages) {
    if (loading !== null) {
      loading.push(-1, messages.slice());
      return;
    }
    for (const message of messages) {
      handlers.dispatchMessage(message);
      if (lifetime.closing) return;
    }
  }

  for (const handler of shipped) handlers.add(handler);
  if (factory === null) {
    handlers.runScript(init.script, init.args, {
      loading: () => (loading = []),
      loaded,
    });
  } else handlers.runWorker(factory, method, init.args, init.worker);
}

module.exports = { start };
