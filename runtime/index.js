'use strict';
// The child runtime's entry: the cached script (src/script/runtime.rs) ends with
// `__proclet_runtime.start(factory, method)`, the worker's factory (a spare's, for warm start,
// `start(null, false, true)`).
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

/**
 * `factory`: the function worker's, or null for a script worker (INIT names its file). `spare`
 * (warm start, lib/warm.js): nothing is known yet; the runtime boots everything that does not
 * depend on the worker and waits for INIT on the event loop (idle, like any Node process waiting
 * for input), so that an adopting run() finds the channel open and the code compiled.
 */
function start(factory, method, spare = false) {
  let init = null;
  let shipped = null;
  if (spare) {
    if (!writeAllSync(encodeFrame(FrameKind.Ready, ''))) process.exit();
  } else {
    ({ init, handlers: shipped } = handshake());
  }
  // Until the worker starts (a spare waiting for INIT), frames go to the spare's handshake.
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
    onread: { buffer: () => reader.buffer(), callback: onRead },
  });
  const writer = createWriter(socket);
  // What handlers send while a read is dispatched is one tick's burst, ended when it returns.
  function onRead(n, buffer) {
    writer.hold();
    try {
      reader.onRead(n, buffer);
    } finally {
      writer.release();
    }
  }
  const coverage = createCoverage(writer);
  const lifetime = createLifetime(socket, writer, coverage);
  if (!spare) {
    begin(init, shipped, (handlers, scriptHooks) => {
      if (factory === null) handlers.runScript(init.script, init.args, scriptHooks);
      else handlers.runWorker(factory, method, init.args, init.worker);
    });
    return;
  }

  // What an adopting run() will need first, run once now so that Node compiles it while the
  // spare waits (V8 compiles functions on their first call): compiling a worker from source and
  // a require() rooted at the caller's file.
  require('vm').compileFunction('return 1', ['require', '__filename', '__dirname'], { filename: __filename })();
  require('module').createRequire(__filename);
  // The global `performance` loads perf_hooks on first use (the writer's first frame reads the
  // clock): over a millisecond that would otherwise fall between INIT and the first message.
  performance.now();

  // A spare's handshake, read asynchronously: INIT (with the worker's source), the PACKED run()
  // arguments when INIT has none, then the HANDLER frames INIT announces.
  const received = [];
  function handshakeFrame(kind, payload) {
    if (init === null) {
      if (kind !== FrameKind.Init) throw errors.protocolFromParent(`the handshake expected frame kind ${FrameKind.Init}, got ${kind}`);
      init = JSON.parse(payload);
    } else if (init.args === null) {
      if (kind !== FrameKind.Packed) throw errors.protocolFromParent(`the handshake expected frame kind ${FrameKind.Packed}, got ${kind}`);
      const { kind: carried, value } = codec.decodePacked(payload, false);
      if (carried !== FrameKind.Init || !Array.isArray(value)) throw errors.protocolFromParent('the run() arguments are not an array');
      init.args = value;
    } else if (kind === FrameKind.Handler) {
      received.push(JSON.parse(payload));
    } else {
      throw errors.protocolFromParent(`the handshake expected frame kind ${FrameKind.Handler}, got ${kind}`);
    }
    if (init.args !== null && received.length === init.handlers) {
      begin(init, received, (handlers, scriptHooks) => {
        if (init.script !== undefined) handlers.runScript(init.script, init.args, scriptHooks);
        else handlers.runWorkerSource(init.source, init.args, init.worker);
      });
    }
  }

  /** Everything that depends on INIT, then the worker. */
  function begin(init, shipped, runWorker) {
    const encoder = new codec.Codec(init.options.serialization);
    // Calls (lib/shared/calls.js) are loaded when first used: most children make or serve none,
    // and start-up pays for every module it compiles.
    let calls = null;
    const useCalls = () => {
      if (calls === null) {
        const { Calls } = require('../lib/shared/calls');
        calls = new Calls({
          send: (kind, payload, head) => writer.queue(kind, payload, 'a call', head),
          codec: encoder,
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
      size: init.size || 1,
      codec: encoder,
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

    // `array`: `[event, ...args]`, freshly decoded (handlers.dispatchParsed reuses it).
    function dispatchEvent(array, sender) {
      // 'stop' is reserved: only the parent's stop() and restart() send it (lib/session.js).
      if (array[0] === 'stop' && sender === 0) handlers.stop();
      else handlers.dispatchParsed(array, sender);
    }

    // While an ES module worker is being imported (asynchronously), what the parent sends waits
    // here, in order, as `[kind, payload]` pairs (kind -1: a run of messages): the module's
    // default export registers its own handlers and methods when it runs, and a 'stop', an event
    // or a call that arrived before must find them, as with a CommonJS worker (loaded before any
    // read).
    let loading = null;
    onFrame = (kind, payload) => {
      if (loading !== null) loading.push(kind, payload);
      else deliver(kind, payload);
    };
    onMessages = (messages) => {
      if (loading !== null) loading.push(-1, messages.slice());
      else dispatchMessages(messages);
    };
    /** The ES module worker has run (or failed to load): what waited is delivered, in order. */
    function loaded() {
      const waiting = loading;
      loading = null;
      for (let i = 0; i < waiting.length && !lifetime.closing; i += 2) {
        if (waiting[i] === -1) dispatchMessages(waiting[i + 1]);
        else deliver(waiting[i], waiting[i + 1]);
      }
    }

    // Every kind has an arm: what only the child sends, or a number this build does not know,
    // is the parent breaking the protocol.
    function deliver(kind, payload) {
      switch (kind) {
        case FrameKind.Message:
        case FrameKind.Text:
          handlers.dispatchMessage(codec.decode(kind, payload), takeFrom());
          break;
        case FrameKind.Event: {
          dispatchEvent(JSON.parse(payload), takeFrom());
          break;
        }
        case FrameKind.From:
          from = Number(payload);
          break;
        case FrameKind.Call:
          useCalls().onCall(JSON.parse(payload));
          break;
        case FrameKind.Result: {
          const array = codec.parseResult(payload);
          if (array === undefined) throw errors.protocolFromParent('a call result has the wrong shape');
          useCalls().onResult(array);
          break;
        }
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
          const sender = takeFrom();
          if (carried === FrameKind.Message) handlers.dispatchMessage(value, sender);
          else if (carried === FrameKind.Event) dispatchEvent(value, sender);
          else if (sender !== 0) throw errors.protocolFromParent(`a peer's packed payload stands for frame kind ${carried}`);
          else if (carried === FrameKind.Call) useCalls().onCall(value);
          else if (carried === FrameKind.Result) useCalls().onResult(value);
          else throw errors.protocolFromParent(`a packed payload stands for frame kind ${carried} after the handshake`);
          break;
        }
        case FrameKind.Init:
        case FrameKind.Ready:
        case FrameKind.Error:
        case FrameKind.To:
        case FrameKind.Coverage:
        default:
          throw errors.protocolFromParent(`unexpected frame kind 0x${kind.toString(16)}`);
      }
    }

    function dispatchMessages(messages) {
      for (const message of messages) {
        handlers.dispatchMessage(message, takeFrom());
        if (lifetime.closing) return;
      }
    }

    for (const handler of shipped) handlers.add(handler);
    runWorker(handlers, { loading: () => (loading = []), loaded });
  }
}

module.exports = { start };
