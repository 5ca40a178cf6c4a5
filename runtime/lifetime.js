'use strict';
// How the child ends, and what keeps it alive.
//
// The channel keeps this process alive only while handlers are registered, as Node's own IPC
// channel does while 'message' listeners exist, and through the first turn of the event loop
// (so that handlers the parent attached right after run() are read before deciding). A worker
// with no handlers exits when its own work is done. End-of-file on fd 3 means the parent is
// gone: the child exits at once rather than linger as an orphan.
//
// Uncaught errors are reported to the parent (an ERROR frame), then the child exits with code 1,
// as Node does, once its output has drained as with this.close(). A user's own
// 'uncaughtException' / 'unhandledRejection' listener takes precedence.

const { FrameKind } = require('../lib/shared/protocol');

function createLifetime(socket, writer, coverage) {
  let closing = false;
  let reportingFatal = false;
  let firstTurnDone = false;
  let handlerCount = 0;
  let holds = 0;

  /**
   * Delivers everything queued so far, lets stdout and stderr drain, then exits with `code`.
   *
   * Node writes stdout and stderr to a pipe asynchronously: process.exit() while libuv still
   * holds output cuts it, where a worker that simply returns keeps it all (the event loop waits
   * for pending writes). So this waits for three things: the channel (every frame written, fd 3
   * half-closed), stdout and stderr. No time limit, as for that natural end: a slow reader that
   * is alive (a pager) loses nothing, and one that is gone fails the write (EPIPE), which ends
   * the wait. The parent going away ends the child at once ('end' below).
   */
  function shutdown(code) {
    if (closing) return;
    closing = true;
    process.exitCode = code;
    coverage.queue();
    let waiting = 3;
    const ready = () => {
      if (--waiting === 0) process.exit(code);
    };
    let channelDone = false;
    const channelEnded = () => {
      if (channelDone) return;
      channelDone = true;
      ready();
    };
    writer.end(channelEnded);
    socket.once('close', channelEnded);
    whenDrained(process.stdout, ready);
    whenDrained(process.stderr, ready);
  }

  function fatal(error, event) {
    if (process.listenerCount(event) > 1 || reportingFatal || closing) return;
    reportingFatal = true;
    let text;
    try {
      // Loaded here, not at start-up: most children never need it.
      text = JSON.stringify(require('../lib/shared/thrown').serializeThrown(error));
    } catch {
      text = JSON.stringify({ value: String(error) });
    }
    writer.queue(FrameKind.Error, text, 'an uncaught error');
    shutdown(1);
  }

  /** A handler threw: an uncaught exception, without unwinding through the reader. */
  function handlerThrew(error) {
    if (process.listenerCount('uncaughtException') > 1) {
      process.nextTick(() => {
        throw error;
      });
    } else {
      fatal(error, 'uncaughtException');
    }
  }

  function updateRef() {
    if (!firstTurnDone || handlerCount > 0 || holds > 0) socket.ref();
    else socket.unref();
  }

  /** Handlers and exposed methods: while there are some, the child waits for more. */
  function setHandlerCount(count) {
    handlerCount = count;
    updateRef();
  }

  /** Something awaits the parent (a call's result): +1 while it waits, -1 after. */
  function hold(delta) {
    holds += delta;
    updateRef();
  }

  /** From the worker's start: stay referenced through the first turn, then decide. */
  function started() {
    updateRef();
    setImmediate(() => {
      firstTurnDone = true;
      updateRef();
    });
  }

  socket.on('end', () => process.exit());
  socket.on('error', () => process.exit());
  process.on('uncaughtException', (error) => fatal(error, 'uncaughtException'));
  process.on('unhandledRejection', (reason) => fatal(reason, 'unhandledRejection'));
  // A worker that calls process.exit() itself still gets its messages out, a frame the stream
  // was in the middle of writing included: written synchronously, for as long as the parent
  // takes bytes (writer.js, EXIT_PATIENCE_MS).
  process.on('exit', () => {
    coverage.queue();
    writer.flushSync();
  });

  return {
    get closing() {
      return closing;
    },
    shutdown,
    fatal,
    handlerThrew,
    setHandlerCount,
    hold,
    started,
  };
}

/** Calls `callback` once everything written to `stream` so far has left the process. */
function whenDrained(stream, callback) {
  if (stream.writableLength === 0 || stream.destroyed || stream.writableFinished) {
    callback();
    return;
  }
  // Writable streams complete writes in order: the callback of an empty write comes after every
  // earlier write is done (or failed).
  stream.write('', () => callback());
}

module.exports = { createLifetime };
