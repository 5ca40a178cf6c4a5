'use strict';
// Outgoing frames: written promptly, batched within a tick (the parent's outbox follows the same
// rules, src/io/outbox.rs).
// - The first frame queued in a tick is written at once, straight to fd 3 with write(2), as
//   child_process does (libuv's try_write): the worker may spend the rest of the tick in
//   synchronous work, or blocked, and nothing left for the end of the tick leaves before that.
// - The rest of the tick's burst is encoded into one buffer and written with one write(2) at the
//   end of the tick, so a loop of sends costs one syscall, not one per message; or sooner, once
//   BATCH_WINDOW_MS has passed since the last write (a synchronous loop that sends progress
//   between steps of work).
// - What the socket does not take is handed to the stream, which waits for writability. Until
//   the stream reports it written, new frames wait here: the stream holds one buffer at most, and
//   libuv's count of what it has not written yet says exactly where that buffer stands. The exit
//   hook needs that to finish a frame that is partly written (flushSync).

const fs = require('fs');
// The global `performance`: requiring perf_hooks costs the child's start-up most of a millisecond.
const { HEADER_LEN, HIGH_WATER_MARK } = require('../lib/shared/protocol');
const codec = require('../lib/shared/codec');
const errors = require('../lib/shared/errors');

const FD = 3;
/** Within a tick, a send this long after the last write writes (with what waits). */
const BATCH_WINDOW_MS = 1;
/**
 * At exit, the rest is written synchronously for as long as the parent takes bytes; after this
 * long without progress (the parent's JS thread is blocked, so it does not read) the child gives
 * up and the tail is lost.
 */
const EXIT_PATIENCE_MS = 5000;
/**
 * A tick's burst is encoded here when it fits, and written from here: no Buffer is made per
 * write. What the socket does not take goes to the stream from here too; nothing is encoded
 * until the stream has written it.
 */
const SCRATCH = Buffer.allocUnsafeSlow(64 * 1024);
/** The queue's arrays are made anew after a burst of more frames than this. */
const SHRINK_AFTER = 1024;

function createWriter(socket) {
  // The frames waiting, in parallel arrays of which the first `count` slots are used: kept from
  // write to write (an array made per write, and grown by its first push, is most of what a
  // reply would allocate), unless a burst grew them past SHRINK_AFTER slots.
  let count = 0;
  let kinds = [];
  /** Strings (UTF-8 frames), or Packed frames (lib/shared/packed.js) whose header is made. */
  let texts = [];
  /** ASCII written before a text (a RESULT's `<id>,1,`), or ''. */
  let heads = [];
  /** Payload bytes, heads included. */
  let lengths = [];
  /** What waits, counted in characters for strings and bytes for packed frames. */
  let chars = 0;
  /** A frame was queued in this tick; what ends it (a nextTick, or `release`) is on its way. */
  let inTick = false;
  /** Inside the reader's callback (`hold`): its end ends the tick, no nextTick needed. */
  let holding = false;
  let lastWrite = -Infinity;
  /** The bytes handed to the stream because the socket was full, until it reports them written. */
  let inStream = null;
  /** Called once nothing is queued or in the stream (end()). */
  let onIdle = null;
  /** `[resolve, reject]` of flushed() promises, settled once nothing is queued or in the stream. */
  let flushWaiters = [];

  /**
   * Queues one frame; false once `HIGH_WATER_MARK` characters wait (send's return value). `head`:
   * ASCII that goes before a text payload in the same frame (no string is built for the two).
   */
  function queue(kind, payload, operation, head = '') {
    const length = (codec.checkSize(payload, kind, operation, head.length) || Buffer.byteLength(payload)) + head.length;
    // A packed frame is copied now: it may be written at the end of the tick, and the values
    // sent may change before that.
    if (typeof payload !== 'string') void payload.frame;
    kinds[count] = kind;
    texts[count] = payload;
    heads[count] = head;
    lengths[count] = length;
    count++;
    chars += payload.length;
    if (!inTick) {
      inTick = true;
      if (!holding) process.nextTick(endTick);
      if (inStream === null) flush();
    } else if (inStream === null && performance.now() - lastWrite >= BATCH_WINDOW_MS) {
      flush();
    }
    return chars + (inStream === null ? 0 : inStream.length) < HIGH_WATER_MARK;
  }

  function endTick() {
    inTick = false;
    if (inStream === null) flush();
  }

  // The reader's callback runs handlers synchronously, and most replies are sent there: its
  // return ends their tick, which spares a nextTick per reply. What promise reactions and
  // nextTick callbacks send after it starts a tick of its own (first frame written at once).
  function hold() {
    holding = true;
  }

  function release() {
    holding = false;
    if (inTick) endTick();
  }

  /** How many bytes of the buffer encodePending() returned hold the frames. */
  let encoded = 0;

  /**
   * Encodes what waits, in order, into SCRATCH when it fits (else a buffer of its own); returns
   * that buffer, whose first `encoded` bytes are the frames.
   */
  function encodePending() {
    // A lone packed frame is written from where it was built, without a copy.
    if (count === 1 && typeof texts[0] !== 'string') {
      const { frame } = texts[0];
      clear();
      encoded = frame.length;
      return frame;
    }
    let total = 0;
    for (let i = 0; i < count; i++) total += HEADER_LEN + lengths[i];
    const buffer = total <= SCRATCH.length ? SCRATCH : Buffer.allocUnsafe(total);
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const payload = texts[i];
      if (typeof payload !== 'string') {
        offset += payload.frame.copy(buffer, offset);
        continue;
      }
      buffer.writeUInt32BE(lengths[i], offset);
      buffer[offset + 4] = kinds[i];
      offset += HEADER_LEN;
      // A RESULT's head: a few ASCII characters, cheaper copied here than through a binding.
      const head = heads[i];
      for (let j = 0; j < head.length; j++) buffer[offset++] = head.charCodeAt(j);
      offset += buffer.write(payload, offset, lengths[i] - head.length, 'utf8');
    }
    clear();
    encoded = total;
    return buffer;
  }

  /** Empties the queue (its payloads are let go). */
  function clear() {
    if (count > SHRINK_AFTER) {
      kinds = [];
      texts = [];
      heads = [];
      lengths = [];
    } else {
      for (let i = 0; i < count; i++) texts[i] = null;
    }
    count = 0;
    chars = 0;
  }

  /** Writes what is queued: directly what the socket takes, the rest through the stream. */
  function flush() {
    if (count === 0 || socket.destroyed) return;
    const buffer = encodePending();
    const length = encoded;
    lastWrite = performance.now();
    let written = 0;
    try {
      written = fs.writeSync(FD, buffer, 0, length);
    } catch (error) {
      // EAGAIN: the stream waits for writability. Any other error of the system's, the stream
      // reports too; anything else (an argument out of range) is a bug of ours: loud, not lost.
      if (error.syscall === undefined) throw error;
    }
    if (written < length) {
      // Handed to the stream as it is, SCRATCH included: nothing is encoded again before the
      // stream reports it written (every flush waits for that; flushSync writes it first).
      inStream = written === 0 && length === buffer.length ? buffer : buffer.subarray(written, length);
      socket.write(inStream, streamWrote);
    }
  }

  function streamWrote(error) {
    inStream = null;
    const waiters = flushWaiters;
    // A failed write is the socket's 'error', which ends the child (lifetime.js).
    if (error) {
      flushWaiters = [];
      for (const [, reject] of waiters) reject(errors.parentGone('this.flush()'));
      return;
    }
    flush();
    if (inStream !== null) return;
    flushWaiters = [];
    for (const [resolve] of waiters) resolve();
    if (onIdle !== null) {
      const callback = onIdle;
      onIdle = null;
      callback();
    }
  }

  /** Writes everything queued, then half-closes fd 3 and calls `callback` (this.close()). */
  function end(callback) {
    if (inStream === null) flush();
    const finish = () => socket.end(callback);
    if (inStream === null) finish();
    else onIdle = finish;
  }

  // The process ends right after this ('exit', a SIGTERM that takes its default course): write
  // what remains synchronously, in order. First the part of the stream's buffer that libuv has
  // not written (writeQueueSize, read live from libuv; the stream holds nothing else), then the
  // frames queued behind it. Nothing may run the event loop afterwards: libuv would write its
  // copy of that part a second time.
  function flushSync() {
    if (socket.destroyed) return;
    let unwritten = null;
    if (inStream !== null) {
      const left = socket._handle ? socket._handle.writeQueueSize : undefined;
      // Unknown: writing anything more would corrupt the stream; the parent reports the cut.
      if (typeof left !== 'number' || left > inStream.length || socket.writableLength !== inStream.length) return;
      unwritten = inStream.subarray(inStream.length - left);
      inStream = null;
    }
    // That part may lie in SCRATCH: written before the queue is encoded (into SCRATCH, maybe).
    if (unwritten !== null && !writeAllSync(unwritten, EXIT_PATIENCE_MS)) return;
    if (count > 0) writeAllSync(encodePending().subarray(0, encoded), EXIT_PATIENCE_MS);
  }

  /** Resolves once everything queued so far is written to fd 3 (this.flush()). */
  function flushed() {
    if (inStream === null) flush();
    if (inStream === null && count === 0) return Promise.resolve();
    return new Promise((resolve, reject) => flushWaiters.push([resolve, reject]));
  }

  return { queue, end, flushSync, flushed, hold, release };
}

/**
 * Writes `buffer` to fd 3 completely, waiting out EAGAIN; false if the channel is gone, or after
 * `patienceMs` in which the parent took nothing.
 */
function writeAllSync(buffer, patienceMs = Infinity) {
  let offset = 0;
  let stalledSince = -1;
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(FD, buffer, offset);
      stalledSince = -1;
    } catch (error) {
      if (error.code !== 'EAGAIN') return false;
      const now = performance.now();
      if (stalledSince < 0) stalledSince = now;
      else if (now - stalledSince >= patienceMs) return false;
      pause();
    }
  }
  return true;
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));
function pause() {
  Atomics.wait(PAUSE, 0, 0, 1);
}

/** One frame's bytes (for the handshake, written before the stream exists). */
function encodeFrame(kind, payload) {
  const buffer = Buffer.alloc(HEADER_LEN + Buffer.byteLength(payload));
  buffer.writeUInt32BE(buffer.length - HEADER_LEN, 0);
  buffer[4] = kind;
  buffer.write(payload, HEADER_LEN, 'utf8');
  return buffer;
}

module.exports = { createWriter, writeAllSync, encodeFrame, pause };
