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
// as Node does. A user's own 'uncaughtException' / 'unhandledRejection' listener takes precedence.

const { FrameKind } = require('../lib/shared/protocol');
const { serializeThrown } = require('../lib/shared/thrown');

function createLifetime(socket, writer, coverage) {
  let closing = false;
  let reportingFatal = false;
  let firstTurnDone = false;
  let handlerCount = 0;

  /** Delivers everything queued so far, then exits with `code`. */
  function shutdown(code) {
    if (closing) return;
    closing = true;
    process.exitCode = code;
    coverage.queue();
    writer.end(() => process.exit(code));
    socket.once('close', () => process.exit(code));
  }

  function fatal(error, event) {
    if (process.listenerCount(event) > 1 || reportingFatal || closing) return;
    reportingFatal = true;
    let text;
    try {
      text = JSON.stringify(serializeThrown(error));
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
    if (!firstTurnDone || handlerCount > 0) socket.ref();
    else socket.unref();
  }

  function setHandlerCount(count) {
    handlerCount = count;
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
    started,
  };
}

module.exports = { createLifetime };
