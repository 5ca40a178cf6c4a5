'use strict';
// `stdio: 'pipe'`: the Proclet's `stdin`, `stdout` and `stderr` streams and its 'stdout' /
// 'stderr' events (API.md section 3).
//
// The child's stdout and stderr are read by the addon on the JS thread's loop and delivered in
// the same batches as its frames (ChannelEvent.Stdout / Stderr, src/napi/loop_channel.rs), so
// every byte the child wrote comes before its exit. The streams belong to the Proclet, not to
// one child: each child's output goes into them in turn, and they end after the final exit.
//
// `stdout`/`stderr` are made when first read, and buffer from then on: output that arrives while
// nobody has asked for the stream goes to the events only, so a Proclet whose output is consumed
// through 'stdout' events keeps nothing. A stream that is read applies backpressure as Node's
// child.stdout does: while its buffer is full the pipe is not read, and the child's writes wait.
//
// `stdin` writes to the current child's stdin pipe (a net.Socket over the descriptor the addon
// hands over); a write while no child runs waits for the next one. Nothing here holds the
// parent's event loop: the sockets are unreferenced, and the read side is the addon's (its poll
// handles never hold the loop).

const net = require('net');
const { Readable, Writable } = require('stream');

const NAMES = ['stdout', 'stderr'];

class ProcletStdio {
  #piped;
  #emit;
  #session = null;
  /** The current child's stdin socket. */
  #socket = null;
  /** `[stdout, stderr]` Readables, once asked for. */
  #readables = [null, null];
  /** Reading of each pipe is paused because its stream is full. */
  #paused = [false, false];
  #stdin = null;
  /** A write to stdin made while no child runs: `[chunk, callback]`. */
  #waiting = null;
  #stdinEnded = false;
  #ended = false;

  /** `mode`: the stdio option; `emit(event, chunk)`: the Proclet's parent channel. */
  constructor(mode, emit) {
    this.#piped = mode === 'pipe';
    this.#emit = emit;
  }

  get stdout() {
    return this.#readable(0);
  }

  get stderr() {
    return this.#readable(1);
  }

  get stdin() {
    if (!this.#piped) return null;
    if (this.#stdin === null) {
      this.#stdin = new Writable({
        write: (chunk, encoding, callback) => this.#write(chunk, callback),
        final: (callback) => {
          this.#stdinEnded = true;
          if (this.#socket !== null) this.#socket.end();
          callback();
        },
        destroy: (error, callback) => {
          this.#stdinEnded = true;
          this.#flushWaiting();
          callback(error);
        },
      });
      if (this.#ended) this.#stdin.destroy();
    }
    return this.#stdin;
  }

  /** A child started: its session, and the descriptor of its stdin pipe (or null). */
  attach(session, stdinFd) {
    if (!this.#piped) return;
    this.#session = session;
    for (let i = 0; i < 2; i++) if (this.#paused[i]) session.setOutputPaused(i, true);
    if (stdinFd === null || stdinFd === undefined) return;
    const socket = new net.Socket({ fd: stdinFd, readable: false, writable: true });
    // The child may close its stdin, or exit, with writes pending: those bytes have no reader
    // left (EPIPE), which is no error of the parent's.
    socket.on('error', () => {});
    socket.unref();
    this.#socket = socket;
    if (this.#stdinEnded) socket.end();
    else if (this.#waiting !== null) {
      const [chunk, callback] = this.#waiting;
      this.#waiting = null;
      this.#write(chunk, callback);
    }
  }

  /** `index` 0 (stdout) or 1 (stderr): a chunk the child wrote. */
  output(index, chunk) {
    const readable = this.#readables[index];
    if (readable !== null && !readable.push(chunk) && !this.#paused[index]) {
      this.#paused[index] = true;
      if (this.#session !== null) this.#session.setOutputPaused(index, true);
    }
    this.#emit(NAMES[index], chunk);
  }

  /** The child exited (everything it wrote was delivered). */
  detach() {
    this.#session = null;
    if (this.#socket !== null) {
      this.#socket.destroy();
      this.#socket = null;
    }
  }

  /** The final exit: the streams end. */
  end() {
    this.detach();
    this.#ended = true;
    for (const readable of this.#readables) if (readable !== null) readable.push(null);
    if (this.#stdin !== null) this.#stdin.destroy();
  }

  #readable(index) {
    if (!this.#piped) return null;
    let readable = this.#readables[index];
    if (readable === null) {
      readable = new Readable({
        read: () => {
          if (!this.#paused[index]) return;
          this.#paused[index] = false;
          if (this.#session !== null) this.#session.setOutputPaused(index, false);
        },
      });
      this.#readables[index] = readable;
      if (this.#ended) readable.push(null);
    }
    return readable;
  }

  #write(chunk, callback) {
    if (this.#socket === null) {
      // No child now: the next one gets it (a write after the final exit fails in the stream).
      this.#waiting = [chunk, callback];
      return;
    }
    // Done once the pipe took it, or the pipe is gone (the callback then has an error, which
    // is the child's doing: the write counts as done).
    this.#socket.write(chunk, () => callback());
  }

  #flushWaiting() {
    if (this.#waiting === null) return;
    const [, callback] = this.#waiting;
    this.#waiting = null;
    callback();
  }
}

module.exports = { ProcletStdio };
