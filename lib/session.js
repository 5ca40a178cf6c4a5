'use strict';
// One child process, from spawn to exit: the native session (src/napi/session.rs), the
// end-of-tick flush, and the dispatch of what the child sends. Everything that outlives one
// process (queued messages, handlers, listeners) belongs to the Proclet (lib/proclet.js), which
// receives the session's events through `host`.

const { NativeSession, SendState } = require('./binding');
const { FrameKind, ChannelEvent } = require('./shared/protocol');
const codec = require('./shared/codec');
const errors = require('./shared/errors');
const { SIGNALS, signalName } = require('./options');
const { RESERVED_FROM_CHILD } = require('./shared/emitter');
const { warm } = require('./warm');

/** The EVENT payload of a graceful stop request (docs/protocol.md). */
const STOP_REQUEST = JSON.stringify(['stop']);

class Session {
  #native;
  #host;
  #flushScheduled = false;
  #flush = () => {
    this.#flushScheduled = false;
    this.#native.flush();
  };
  /** The runtime said READY (the handshake's first half; docs/protocol.md). */
  #ready = false;
  /** After a protocol violation nothing more from the child is believed. */
  #failed = false;
  /** A signal this side sent (then a death by a signal is no surprise). */
  #signalled = false;
  /** The stream ended inside a frame: reported with the exit, once it says how the child ended. */
  #cutOff = null;
  #exited = false;
  /** The channel refused a frame: the child is going, its exit is on its way. */
  #closed = false;
  /** `[resolve, reject]` of `flushed()` promises waiting for the queue to empty. */
  #flushWaiters = [];

  /**
   * Spawns the child, or adopts a spare whose launch matches (lib/warm.js), and sends INIT (JSON
   * text) first. `options.peers` (`{ router, id }`) makes the child worker `id` of a pool.
   * `host` receives: ready(), message(value),
   * event(name, args), call(array), result(array), cancel(array), error(thrown data),
   * coverage(report), drain(), protocolError(detail), cutOff(detail, code),
   * output(index, chunk) (0 stdout, 1 stderr; Buffers, with `stdio: 'pipe'`),
   * exit(code, signal, unexpected). `stdinFd`: the descriptor of the child's stdin pipe, owned by
   * the caller (null without one).
   * Throws the addon's ERR_PROCLET_CACHE / ERR_PROCLET_SPAWN.
   */
  constructor(options, init, host) {
    this.#host = host;
    const dispatch = (kinds, payloads, ints) => this.#dispatch(kinds, payloads, ints);
    const spare = warm.take(options);
    if (spare !== null) {
      // The spare booted without its worker: a function worker's source travels in INIT (a
      // script worker's INIT names its file anyway).
      if (typeof options.source === 'string') {
        init = `${init.slice(0, -1)},"source":${JSON.stringify({ text: options.source, method: options.method })}}`;
        codec.checkSize(init, FrameKind.Init, 'run()');
      }
      this.#native = spare.adopt(dispatch);
      this.#native.setRef(true);
      this.adopted = true;
      if (spare.ready) {
        // READY came before anyone listened; the Proclet hears of it once run() has returned.
        this.#ready = true;
        process.nextTick(() => {
          if (!this.#exited) host.ready();
        });
      }
    } else {
      this.#native = new NativeSession(options, dispatch);
      this.adopted = false;
    }
    this.pid = this.#native.pid;
    this.stdinFd = this.#native.takeStdin();
    if (options.peers) this.#native.joinPeers(options.peers.router, options.peers.id);
    this.send(FrameKind.Init, init, 'run()');
  }

  /**
   * Queues one frame; false past the high-water mark. The first frame of a tick is written at
   * once, the rest of the tick's burst at its end (or sooner: src/io/outbox.rs). A tick that
   * runs inside one of the addon's deliveries ends with it (src/napi/loop_channel.rs). After the
   * child's channel closed and before its exit is delivered (a listener running in the final
   * batch) there is no one to receive it: false, discarded.
   */
  send(kind, payload, operation) {
    let state;
    try {
      if (typeof payload === 'string') state = this.#native.sendFrame(kind, payload);
      // A packed frame's parts are copied by the addon now, straight from the values sent.
      else if (payload.parts !== null) state = this.#native.sendParts(kind, payload.parts);
      else state = this.#native.sendFrame(kind, payload.payload);
    } catch (cause) {
      if (cause && cause.code === 'ERR_PROCLET_CHANNEL_CLOSED' && !this.#exited) {
        this.#closed = true;
        return false;
      }
      throw errors.fromNative(operation, cause);
    }
    // Sent from a listener or a promise reaction of the addon's own delivery, the addon ends the
    // tick when the delivery returns; otherwise this side does.
    if ((state & SendState.FlushOwed) !== 0 && !this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flush);
    }
    return (state & SendState.BelowHighWater) !== 0;
  }

  /** False once a frame was refused (the child's channel closed) or the child exited: nothing sent reaches it. */
  get open() {
    return !this.#closed && !this.#exited;
  }

  /**
   * Asks the child to stop gracefully, at once: an EVENT frame named 'stop' (a name
   * `child.emit` refuses, so only this sends it). The runtime runs its 'stop' handlers, awaits
   * what they return, then closes (runtime/handlers.js).
   */
  requestStop() {
    if (!this.open) return;
    this.send(FrameKind.Event, STOP_REQUEST, 'stop()');
    this.#native.flush();
  }

  /** A restart follows this child: what peers send its worker id waits for the next child. */
  leavePeers() {
    if (!this.#exited) this.#native.leavePeers();
  }

  /** Writes what is queued now, without waiting for the end of the tick (which it ends). */
  flushNow() {
    this.#native.flush();
  }

  /** Resolves once everything queued so far is written; rejects if the child ends first. */
  flushed(operation) {
    if (this.#exited) return Promise.reject(errors.channelClosed(operation, this.pid, null));
    this.#native.flush();
    if (this.#native.queuedBytes === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#flushWaiters.push([resolve, () => reject(errors.channelClosed(operation, this.pid, null))]);
      this.#native.wantWritten();
    });
  }

  /** Stops (true) or resumes (false) reading from the child: backpressure for a slow consumer. */
  setPaused(paused) {
    if (!this.#exited) this.#native.setPaused(paused);
  }

  kill(number) {
    if (this.#exited) return false;
    const sent = this.#native.kill(number);
    if (sent && number !== 0) this.#signalled = true;
    return sent;
  }

  /** Stops (true) or resumes (false) reading the child's stdout (0) or stderr (1) pipe. */
  setOutputPaused(index, paused) {
    if (!this.#exited) this.#native.setOutputPaused(index, paused);
  }

  setRef(referenced) {
    if (!this.#exited) this.#native.setRef(referenced);
  }

  // Every kind has an arm; kinds the parent never receives (the addon refuses them first) and
  // numbers this build does not know are protocol errors.
  //
  // A listener that throws is the user's uncaught exception, thrown from the user's own line:
  // it propagates out of this call unchanged (Node reports it where it was thrown), and what
  // remains of the batch is delivered on the next tick, after it.
  //
  // A batch of one event comes as `(kind, payload, undefined)` (src/napi/batch.rs).
  #dispatch(kinds, payloads, ints, from = 0) {
    if (typeof kinds === 'number') {
      this.#deliver(kinds, payloads, ints);
      return;
    }
    let i = from;
    try {
      for (; i < kinds.length; i++) this.#deliver(kinds[i], payloads[i], ints);
    } finally {
      if (i < kinds.length - 1) process.nextTick(() => this.#dispatch(kinds, payloads, ints, i + 1));
    }
  }

  #deliver(kind, payload, ints) {
    switch (kind) {
      case FrameKind.Ready:
        if (this.#ready) this.#fail('READY was sent twice');
        this.#ready = true;
        this.#host.ready();
        break;
      case FrameKind.Message:
      case FrameKind.Text: {
        if (!this.#believe(kind)) break;
        let message;
        try {
          message = codec.decode(kind, payload);
        } catch (e) {
          this.#fail(`a message is not valid JSON: ${e.message}`);
          break;
        }
        this.#host.message(message);
        break;
      }
      case FrameKind.Error: {
        const thrown = this.#believe(kind) && this.#parse(payload, 'an error report');
        if (thrown === undefined || thrown === false) break;
        if (isThrown(thrown)) this.#host.error(thrown);
        else this.#fail('an error report has the wrong shape');
        break;
      }
      case FrameKind.Coverage: {
        const report = this.#believe(kind) && this.#parse(payload, 'a coverage report');
        if (report) this.#host.coverage(report);
        break;
      }
      case FrameKind.Event: {
        const array = this.#believe(kind) && this.#array(payload, 'an event', isEvent);
        if (array) this.#host.event(array[0], array.slice(1));
        break;
      }
      case FrameKind.Call: {
        const array = this.#believe(kind) && this.#array(payload, 'a call', isCall);
        if (array) this.#host.call(array);
        break;
      }
      case FrameKind.Result: {
        if (!this.#believe(kind)) break;
        let array;
        try {
          array = codec.parseResult(payload);
        } catch (e) {
          this.#fail(`a call result is not valid JSON: ${e.message}`);
          break;
        }
        if (array !== undefined && isResult(array)) this.#host.result(array);
        else this.#fail('a call result has the wrong shape');
        break;
      }
      case FrameKind.Cancel: {
        const array = this.#believe(kind) && this.#array(payload, 'a call cancellation', isCancel);
        if (array) this.#host.cancel(array);
        break;
      }
      case FrameKind.Packed:
        if (this.#believe(kind)) this.#packed(payload);
        break;
      case ChannelEvent.Drain:
        this.#host.drain();
        break;
      case ChannelEvent.Written: {
        const waiters = this.#flushWaiters;
        this.#flushWaiters = [];
        for (const [resolve] of waiters) resolve();
        break;
      }
      case ChannelEvent.ProtocolError:
        this.#fail(payload);
        break;
      // The child's own output, not the protocol: delivered even after a violation.
      case ChannelEvent.Stdout:
        this.#host.output(0, payload);
        break;
      case ChannelEvent.Stderr:
        this.#host.output(1, payload);
        break;
      case ChannelEvent.CutOff:
        if (!this.#failed) this.#cutOff = payload;
        break;
      case ChannelEvent.Exit: {
        // A batch holds at most one exit, and it comes last: its numbers are the last two.
        const code = ints[ints.length - 2] === -1 ? null : ints[ints.length - 2];
        const number = ints[ints.length - 1];
        const signal = number === 0 ? null : signalName(number);
        this.#native.dispose();
        this.#exited = true;
        for (const [, reject] of this.#flushWaiters.splice(0)) reject();
        // A frame cut off by a death by signal is part of that death (reported as a kill when
        // proclet did not send it); one cut off by an exit with a code is a message lost.
        if (this.#cutOff !== null && signal === null) this.#host.cutOff(this.#cutOff, code);
        this.#host.exit(code, signal, signal !== null && !this.#signalled && !this.#failed);
        break;
      }
      case FrameKind.Handler:
      case FrameKind.Init:
      default:
        this.#fail(`unexpected event kind ${kind}`);
        break;
    }
  }

  /** False for what arrives after a violation, or before the handshake. */
  #believe(kind) {
    if (this.#failed) return false;
    if (this.#ready) return true;
    this.#fail(`frame kind ${kind} arrived before READY`);
    return false;
  }

  // A PACKED frame: what it stands for, checked as that kind's JSON would be. Its data comes
  // from the child, so every length, text and shape in it is checked (lib/shared/packed.js).
  #packed(payload) {
    let decoded;
    try {
      decoded = codec.decodePacked(payload, true);
    } catch (e) {
      this.#fail(typeof e === 'string' ? e : `a packed payload is malformed (${e && e.message})`);
      return;
    }
    const { kind, value } = decoded;
    switch (kind) {
      case FrameKind.Message:
        this.#host.message(value);
        break;
      case FrameKind.Event:
        if (this.#shaped(value, 'an event', isEvent)) this.#host.event(value[0], value.slice(1));
        break;
      case FrameKind.Call:
        if (this.#shaped(value, 'a call', isCall)) this.#host.call(value);
        break;
      case FrameKind.Result:
        if (this.#shaped(value, 'a call result', isResult)) this.#host.result(value);
        break;
      case FrameKind.Init:
      default:
        this.#fail(`a packed payload stands for frame kind ${kind}, which the child does not send`);
        break;
    }
  }

  #shaped(value, what, check) {
    if (Array.isArray(value) && check(value)) return true;
    this.#fail(`${what} has the wrong shape`);
    return false;
  }

  // JSON from the child: a payload that does not parse breaks the protocol.
  #parse(text, what) {
    try {
      return JSON.parse(text);
    } catch (e) {
      this.#fail(`${what} is not valid JSON: ${e.message}`);
      return undefined;
    }
  }

  // A JSON array of the shape `check` accepts, or a protocol violation (the child is not trusted).
  #array(text, what, check) {
    const value = this.#parse(text, what);
    if (value === undefined) return undefined;
    if (Array.isArray(value) && check(value)) return value;
    this.#fail(`${what} has the wrong shape`);
    return undefined;
  }

  #fail(detail) {
    if (this.#failed) return;
    this.#failed = true;
    this.#native.kill(SIGNALS.SIGKILL);
    this.#host.protocolError(detail);
  }
}

const isId = (id) => Number.isSafeInteger(id) && id > 0;
// The child runtime refuses to emit reserved names; one that arrives anyway breaks the protocol.
const isEvent = (a) => a.length >= 1 && typeof a[0] === 'string' && a[0].length > 0 && !RESERVED_FROM_CHILD.has(a[0]);
const isCall = (a) => a.length >= 2 && isId(a[0]) && typeof a[1] === 'string';
const isResult = (a) => (a.length === 2 || a.length === 3) && isId(a[0]) && (a[1] === 1 || (a[1] === 0 && isThrown(a[2])));
const isCancel = (a) => a.length === 2 && isId(a[0]) && isThrown(a[1]);
const isThrown = (t) => t !== null && typeof t === 'object' && !Array.isArray(t);

module.exports = { Session };
