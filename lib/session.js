'use strict';
// One child process, from spawn to exit: the native session (src/napi/session.rs), the
// end-of-tick flush, and the dispatch of what the child sends. Everything that outlives one
// process (queued messages, handlers, listeners) belongs to the Proclet (lib/proclet.js), which
// receives the session's events through `host`.

const { NativeSession } = require('./binding');
const { FrameKind, ChannelEvent } = require('./shared/protocol');
const codec = require('./shared/codec');
const errors = require('./shared/errors');
const { SIGNALS, signalName } = require('./options');

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

  /**
   * Spawns the child and sends INIT first. `host` receives: message(value), error(thrown data),
   * coverage(report), drain(), protocolError(detail), cutOff(detail, code),
   * exit(code, signal, unexpected).
   * Throws the addon's ERR_PROCLET_CACHE / ERR_PROCLET_SPAWN.
   */
  constructor(options, init, host) {
    this.#host = host;
    this.#native = new NativeSession(options, (kinds, payloads, ints) => this.#dispatch(kinds, payloads, ints));
    this.pid = this.#native.pid;
    this.send(FrameKind.Init, JSON.stringify(init), 'run()');
  }

  /**
   * Queues one frame; false past the high-water mark. The first frame of a tick is written at
   * once, the rest of the tick's burst at its end (or sooner: src/io/outbox.rs). After the
   * child's channel closed and before its exit is delivered (a listener running in the final
   * batch) there is no one to receive it: false, discarded.
   */
  send(kind, payload, operation) {
    let belowHighWater;
    try {
      belowHighWater = this.#native.sendFrame(kind, payload);
    } catch (cause) {
      if (cause && cause.code === 'ERR_PROCLET_CHANNEL_CLOSED' && !this.#exited) return false;
      throw errors.fromNative(operation, cause);
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flush);
    }
    return belowHighWater;
  }

  /** Writes what is queued now, without waiting for the end of the tick (which it ends). */
  flushNow() {
    this.#native.flush();
  }

  kill(number) {
    if (this.#exited) return false;
    const sent = this.#native.kill(number);
    if (sent && number !== 0) this.#signalled = true;
    return sent;
  }

  setRef(referenced) {
    if (!this.#exited) this.#native.setRef(referenced);
  }

  // Every kind has an arm; kinds the parent never receives (the addon refuses them first) and
  // numbers this build does not know are protocol errors.
  #dispatch(kinds, payloads, ints) {
    let n = 0;
    for (let i = 0; i < kinds.length; i++) {
      const kind = kinds[i];
      switch (kind) {
        case FrameKind.Ready:
          if (this.#ready) this.#fail('READY was sent twice');
          this.#ready = true;
          break;
        case FrameKind.Message:
        case FrameKind.Text: {
          if (!this.#believe(kind)) break;
          let message;
          try {
            message = codec.decode(kind, payloads[i]);
          } catch (e) {
            this.#fail(`a message is not valid JSON: ${e.message}`);
            break;
          }
          this.#host.message(message);
          break;
        }
        case FrameKind.Error: {
          const thrown = this.#believe(kind) && this.#parse(payloads[i], 'an error report');
          if (thrown) this.#host.error(thrown);
          break;
        }
        case FrameKind.Coverage: {
          const report = this.#believe(kind) && this.#parse(payloads[i], 'a coverage report');
          if (report) this.#host.coverage(report);
          break;
        }
        case ChannelEvent.Drain:
          this.#host.drain();
          break;
        case ChannelEvent.ProtocolError:
          this.#fail(payloads[i]);
          break;
        case ChannelEvent.CutOff:
          if (!this.#failed) this.#cutOff = payloads[i];
          break;
        case ChannelEvent.Exit: {
          const code = ints[n] === -1 ? null : ints[n];
          const signal = ints[n + 1] === 0 ? null : signalName(ints[n + 1]);
          n += 2;
          this.#native.dispose();
          this.#exited = true;
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
  }

  /** False for what arrives after a violation, or before the handshake. */
  #believe(kind) {
    if (this.#failed) return false;
    if (this.#ready) return true;
    this.#fail(`frame kind ${kind} arrived before READY`);
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

  #fail(detail) {
    if (this.#failed) return;
    this.#failed = true;
    this.#native.kill(SIGNALS.SIGKILL);
    this.#host.protocolError(detail);
  }
}

module.exports = { Session };
