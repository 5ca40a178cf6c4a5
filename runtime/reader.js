'use strict';
// Incoming frames: reads go straight to onRead through a reused buffer (no Readable-stream
// machinery per chunk); a large frame is read in place into a buffer of its own. The parent is
// trusted (it spawned us, and its frames come from the same build), so a header is believed.

const fs = require('fs');
const { HEADER_LEN, MAX_PAYLOAD, FrameKind } = require('../lib/shared/protocol');
const errors = require('../lib/shared/errors');
const { pause } = require('./writer');

const LARGE = 64 * 1024;

/**
 * `onFrame(kind, payload)` gets each frame (a string, a Buffer for PACKED); `onMessages(messages)` gets runs of small MESSAGE
 * frames already parsed; both stop being called once `stopped()` is true.
 */
function createReader({ onFrame, onMessages, stopped }) {
  let carry = null; // the start of a frame that continues in the next read (a copy)
  let large = null; // a large frame's payload, being filled in place
  let largeFilled = 0;
  let largeKind = 0;
  const scratch = Buffer.allocUnsafe(256 * 1024);

  function buffer() {
    return large ? large.subarray(largeFilled) : scratch;
  }

  function onRead(n, chunk) {
    if (stopped()) return;
    if (large) {
      largeFilled += n;
      if (largeFilled === large.length) {
        const payload = large;
        large = null;
        onFrame(largeKind, largeKind === FrameKind.Packed ? payload : payload.toString('utf8'));
      }
      return;
    }
    // `data` holds the bytes from 0 to `limit`: the read chunk itself (no Buffer made per read),
    // or what was carried followed by it.
    const data = carry ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk;
    const limit = carry ? data.length : n;
    carry = null;
    let offset = 0;
    while (limit - offset >= HEADER_LEN && !stopped()) {
      const length = data.readUInt32BE(offset);
      if (length > MAX_PAYLOAD) throw errors.protocolFromParent(`a frame of ${length} bytes`);
      const end = offset + HEADER_LEN + length;
      if (end > limit) {
        if (length >= LARGE) {
          large = Buffer.allocUnsafe(length);
          largeFilled = data.copy(large, 0, offset + HEADER_LEN, limit);
          largeKind = data[offset + 4];
          offset = limit;
        }
        break;
      }
      if (
        HEADER_LEN + length <= LARGE &&
        data[offset + 4] === FrameKind.Message &&
        end + HEADER_LEN <= limit &&
        data[end + 4] === FrameKind.Message
      ) {
        offset = readRun(data, offset, limit);
        continue;
      }
      const kind = data[offset + 4];
      // A PACKED payload stays bytes: a copy, since the scratch buffer is reused.
      onFrame(kind, kind === FrameKind.Packed ? Buffer.from(data.subarray(offset + HEADER_LEN, end)) : data.toString('utf8', offset + HEADER_LEN, end));
      offset = end;
    }
    // The scratch buffer is reused by the next read: keep a copy of what is left.
    if (offset < limit && !stopped()) carry = Buffer.from(data.subarray(offset, limit));
  }

  // A run of consecutive complete MESSAGE frames costs one toString and one JSON.parse: each
  // 5-byte header is overwritten in place with "[" or "," and four spaces (JSON whitespace),
  // and the byte after the run with "]" (put back afterwards). Safe because the parent is
  // trusted: every payload is one JSON.stringify output. Returns the offset after the run.
  function readRun(data, start, limit) {
    let offset = start;
    let count = 0;
    while (limit - offset >= HEADER_LEN && data[offset + 4] === FrameKind.Message) {
      const end = offset + HEADER_LEN + data.readUInt32BE(offset);
      // Same bound as the caller's, so the first frame always joins the run.
      if (end >= limit || end - offset > LARGE) break;
      data[offset] = count === 0 ? 0x5b : 0x2c;
      data.fill(0x20, offset + 1, offset + HEADER_LEN);
      offset = end;
      count++;
    }
    const after = data[offset];
    data[offset] = 0x5d;
    const messages = JSON.parse(data.toString('utf8', start, offset + 1));
    data[offset] = after;
    onMessages(messages);
    return offset;
  }

  return { buffer, onRead };
}

/** Reads exactly `length` bytes of fd 3 synchronously (the handshake); end of file exits. */
function readExactlySync(length) {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    let n;
    try {
      n = fs.readSync(3, buffer, filled, length - filled);
    } catch (error) {
      if (error.code === 'EAGAIN') {
        pause();
        continue;
      }
      process.exit();
    }
    if (n === 0) process.exit();
    filled += n;
  }
  return buffer;
}

module.exports = { createReader, readExactlySync };
