'use strict';
// Outgoing frames. Frames sent during one tick are encoded into one buffer and written with one
// write(); with nothing queued in the stream, straight to fd 3 with write(2) (one syscall, no
// stream machinery); whatever the socket does not take goes through the stream, which waits for
// writability.

const fs = require('fs');
const { HEADER_LEN, HIGH_WATER_MARK } = require('../lib/shared/protocol');
const codec = require('../lib/shared/codec');
const errors = require('../lib/shared/errors');

const FD = 3;

function createWriter(socket) {
  let kinds = [];
  let texts = [];
  let lengths = [];
  let chars = 0;
  let flushScheduled = false;

  /** Queues one frame; false once `HIGH_WATER_MARK` characters wait (send's return value). */
  function queue(kind, text, operation) {
    const length = codec.checkSize(text, kind, operation) || Buffer.byteLength(text);
    kinds.push(kind);
    texts.push(text);
    lengths.push(length);
    chars += text.length;
    if (!flushScheduled) {
      flushScheduled = true;
      process.nextTick(flush);
    }
    return chars + socket.writableLength < HIGH_WATER_MARK;
  }

  function encodePending() {
    let total = 0;
    for (let i = 0; i < lengths.length; i++) total += HEADER_LEN + lengths[i];
    const buffer = Buffer.allocUnsafe(total);
    let offset = 0;
    for (let i = 0; i < kinds.length; i++) {
      buffer.writeUInt32BE(lengths[i], offset);
      buffer[offset + 4] = kinds[i];
      offset += HEADER_LEN;
      offset += buffer.write(texts[i], offset, lengths[i], 'utf8');
    }
    kinds = [];
    texts = [];
    lengths = [];
    chars = 0;
    return buffer;
  }

  function flush() {
    flushScheduled = false;
    if (kinds.length === 0 || socket.destroyed) return;
    const buffer = encodePending();
    let written = 0;
    if (socket.writableLength === 0) {
      try {
        written = fs.writeSync(FD, buffer);
      } catch {
        // EAGAIN: the stream waits for writability. Any other error, the stream reports too.
      }
    }
    if (written < buffer.length) socket.write(written === 0 ? buffer : buffer.subarray(written));
  }

  // A worker that calls process.exit() itself still gets its last messages out: write what is
  // pending synchronously, unless libuv already holds earlier writes (order would break, and
  // how much of them libuv wrote is unknown: that tail is lost, as with child_process; README).
  function flushSync() {
    if (kinds.length === 0 || socket.destroyed || socket.writableLength > 0) return;
    writeAllSync(encodePending());
  }

  /** Resolves once everything queued so far is written to fd 3 (an empty write's callback). */
  function flushed() {
    flush();
    if (socket.writableLength === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      socket.write(Buffer.alloc(0), (error) => (error ? reject(errors.parentGone('this.flush()')) : resolve()));
    });
  }

  return { queue, flush, flushSync, flushed };
}

/** Writes `buffer` to fd 3 completely, waiting out EAGAIN. False if the channel is gone. */
function writeAllSync(buffer) {
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(FD, buffer, offset);
    } catch (error) {
      if (error.code !== 'EAGAIN') return false;
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
