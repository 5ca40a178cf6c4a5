'use strict';
// The child runtime's entry: the cached script (src/script/runtime.rs) ends with
// `__proclet_runtime.start(factory, method)`, the worker's factory.
//
// Start-up is a handshake on fd 3 (docs/protocol.md): the runtime says READY, then reads the
// parent's INIT frame (the caller's file, the handlers registered before run(), the run()
// arguments) before anything else, synchronously: the parent wrote INIT right after spawning,
// so a cold start waits for nothing, and the worker still starts in the script's first tick.
// process.argv stays [node, script]: nothing of proclet's travels there.

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

function handshake() {
  if (!writeAllSync(encodeFrame(FrameKind.Ready, ''))) process.exit();
  const header = readExactlySync(HEADER_LEN);
  if (header[4] !== FrameKind.Init) throw errors.protocolFromParent(`the first frame has kind ${header[4]}, not Init`);
  return JSON.parse(readExactlySync(header.readUInt32BE(0)).toString('utf8'));
}

function start(factory, method) {
  const init = handshake();
  // The reader's callbacks reach the handlers, made below, only when frames arrive.
  const reader = createReader({ onFrame, onMessages, stopped: () => lifetime.closing });
  const socket = new net.Socket({
    fd: 3,
    readable: true,
    writable: true,
    onread: { buffer: () => reader.buffer(), callback: (n, buffer) => reader.onRead(n, buffer) },
  });
  const writer = createWriter(socket);
  const coverage = createCoverage(writer);
  const lifetime = createLifetime(socket, writer, coverage);
  const context = createContext(writer, lifetime);
  const handlers = createHandlers({ caller: init.caller, context, lifetime, coverage });

  // Every kind has an arm: what only the child sends, or a number this build does not know,
  // is the parent breaking the protocol.
  function onFrame(kind, payload) {
    switch (kind) {
      case FrameKind.Message:
      case FrameKind.Text:
        handlers.deliver(codec.decode(kind, payload));
        break;
      case FrameKind.Handler:
        handlers.add(JSON.parse(payload));
        break;
      case FrameKind.Init:
      case FrameKind.Ready:
      case FrameKind.Error:
      case FrameKind.Coverage:
      default:
        throw errors.protocolFromParent(`unexpected frame kind 0x${kind.toString(16)}`);
    }
  }

  function onMessages(messages) {
    for (const message of messages) {
      handlers.deliver(message);
      if (lifetime.closing) return;
    }
  }

  for (const handler of init.handlers) handlers.add(handler);
  handlers.runWorker(factory, method, init.args);
}

module.exports = { start };
