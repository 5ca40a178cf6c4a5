'use strict';
// The child runtime's entry: the cached script (src/script/runtime.rs) ends with
// `__proclet_runtime.start(factory, method)`, the worker's factory.
//
// Start-up is a handshake on fd 3 (docs/protocol.md): the runtime says READY, then reads the
// parent's INIT frame (the caller's file, the run() arguments, the options, how many handlers
// follow) and the HANDLER frames of what was registered before run(), synchronously: the parent
// wrote them right after spawning, so a cold start waits for nothing, the handlers are installed
// before the worker runs, and the worker still starts in the script's first tick. process.argv stays [node, script]: nothing of proclet's travels there.

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

/** READY out, then INIT and the `init.handlers` HANDLER frames that follow it in. */
function handshake() {
  if (!writeAllSync(encodeFrame(FrameKind.Ready, ''))) process.exit();
  const init = JSON.parse(readFrameSync(FrameKind.Init));
  const handlers = [];
  for (let i = 0; i < init.handlers; i++) handlers.push(JSON.parse(readFrameSync(FrameKind.Handler)));
  return { init, handlers };
}

function readFrameSync(kind) {
  const header = readExactlySync(HEADER_LEN);
  if (header[4] !== kind) throw errors.protocolFromParent(`the handshake expected frame kind ${kind}, got ${header[4]}`);
  return readExactlySync(header.readUInt32BE(0)).toString('utf8');
}

/**
 * Starts the worker `factory` (the cached script's), or, for a spare (warm start, `factory`
 * null), boots everything that does not depend on the worker and waits for INIT on the event
 * loop: a spare idles in epoll like any Node process, and an adopting run() finds the channel
 * open, the reader and writer made and their code compiled.
 */
function start(factory, method) {
  const spare = factory === null;
  let init = null;
  let shipped = null;
  if (spare) {
    if (!writeAllSync(encodeFrame(FrameKind.Ready, ''))) process.exit();
  } else {
    ({ init, handlers: shipped } = handshake());
  }
  // Until the worker starts (a spare waiting for INIT), frames go to the handshake below.
  let onFrame = spare ? handshakeFrame : null;
  let onMessages = null;
  const reader = createReader({
    onFrame: (kind, payload) => onFrame(kind, payload),
    onMessages: (messages) => onMessages(messages),
    stopped: () => lifetime.closing,
  });
  const socket = new net.Socket({
    fd: 3,
    readable: true,
    writable: true,
    onread: { buffer: () => reader.buffer(), callback: (n, buffer) => reader.onRead(n, buffer) },
  });
  const writer = createWriter(socket);
  const coverage = createCoverage(writer);
  const lifetime = createLifetime(socket, writer, coverage);
  if (!spare) {
    begin(init, shipped, (handlers) => handlers.runWorker(factory, method, init.args));
    return;
  }

  // What an adopting run() will need first, run once now so that Node compiles it while the
  // spare waits (V8 compiles functions on their first call): compiling a worker from source and
  // a require() rooted at the caller's file.
  require('vm').compileFunction('return 1', ['require', '__filename', '__dirname'], { filename: __filename })();
  require('module').createRequire(__filename);

  // A spare's handshake, read asynchronously: INIT (with the worker's source), then the HANDLER
  // frames it announces.
  const received = [];
  function handshakeFrame(kind, payload) {
    if (init === null) {
      if (kind !== FrameKind.Init) throw errors.protocolFromParent(`the handshake expected frame kind ${FrameKind.Init}, got ${kind}`);
      init = JSON.parse(payload);
    } else if (kind === FrameKind.Handler) {
      received.push(JSON.parse(payload));
    } else {
      throw errors.protocolFromParent(`the handshake expected frame kind ${FrameKind.Handler}, got ${kind}`);
    }
    if (received.length === init.handlers) {
      begin(init, received, (handlers) => handlers.runWorkerSource(init.worker.source, init.worker.method, init.args));
    }
  }

  /** Everything that depends on INIT, then the worker. */
  function begin(init, shipped, runWorker) {
    // Calls (lib/shared/calls.js) are loaded when first used: most children make or serve none,
    // and start-up pays for every module it compiles.
    let calls = null;
    const useCalls = () => {
      if (calls === null) {
        const { Calls } = require('../lib/shared/calls');
        calls = new Calls({
          send: (kind, payload) => writer.queue(kind, payload, 'a call'),
          peer: () => 'the parent process',
          thisArg: context,
          // A pool's worker runs `concurrency` calls at once; the pool may send a few more ahead.
          limit: init.concurrency || 0,
        });
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
      size: init.size,
    });
    handlers.bind(context);
    socket.on('close', () => calls !== null && calls.close(errors.parentGone));

    // The sender of the next message or event: a peer's id after a FROM frame, else 0 (the parent).
    let from = 0;
    function takeFrom() {
      const sender = from;
      from = 0;
      return sender;
    }

    // Every kind has an arm: what only the child sends, or a number this build does not know,
    // is the parent breaking the protocol.
    onFrame = (kind, payload) => {
      switch (kind) {
        case FrameKind.Message:
        case FrameKind.Text:
          handlers.dispatchMessage(codec.decode(kind, payload), takeFrom());
          break;
        case FrameKind.Event: {
          const [event, ...args] = JSON.parse(payload);
          const sender = takeFrom();
          // 'stop' is reserved: only the parent's stop() and restart() send it (lib/session.js).
          if (event === 'stop' && sender === 0) handlers.stop();
          else handlers.dispatch(event, args, sender);
          break;
        }
        case FrameKind.From:
          from = Number(payload);
          break;
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
        case FrameKind.Init:
        case FrameKind.Ready:
        case FrameKind.Error:
        case FrameKind.To:
        case FrameKind.Coverage:
        default:
          throw errors.protocolFromParent(`unexpected frame kind 0x${kind.toString(16)}`);
      }
    };

    onMessages = (messages) => {
      for (const message of messages) {
        handlers.dispatchMessage(message, takeFrom());
        if (lifetime.closing) return;
      }
    };

    for (const handler of shipped) handlers.add(handler);
    runWorker(handlers);
  }
}

module.exports = { start };
