'use strict';
// The PACKED frame (docs/protocol.md): a message, event, call, result or the run() arguments
// carried as sections of bytes instead of one UTF-8 text, so that binary values travel as raw
// bytes and long strings as their own UTF-8, beside the JSON that holds the rest; or as V8's
// structured clone ('advanced'). This module is the layout only; what goes in the sections is
// lib/shared/binary.js (format JSON) and lib/shared/structured.js (format V8).
//
//   offset  size  field
//   0       1     kind     the frame kind this payload stands for (MESSAGE, EVENT, CALL, RESULT, INIT)
//   1       1     format   1 = JSON with sections, 2 = V8 serializer
//   2       1     flags    format 2: bit 0 = the value is wrapped with an error table; else 0
//   3       1     0
//   4       4     count    N >= 1 sections, unsigned big-endian
//   8       4N    lengths  each section's byte length, unsigned big-endian
//   ...           sections each starting at the next multiple of 8 (from the payload's start),
//                          zero padding between; the payload ends with the last section.
//
// Sections start 8-aligned so that a TypedArray can be a view of the received bytes. A sender
// copies each binary value or long string once: the parent's addon straight from the value
// (sendParts), the child into the frame it writes (its header first, so nothing is copied again).

const { FrameKind, HEADER_LEN, MAX_PAYLOAD } = require('./protocol');
const errors = require('./errors');

const FORMAT_JSON = 1;
const FORMAT_V8 = 2;
const FLAG_ERRORS = 1;

/** The kinds a PACKED frame may stand for. */
const CARRIED = new Set([FrameKind.Message, FrameKind.Event, FrameKind.Call, FrameKind.Result, FrameKind.Init]);

const align8 = (n) => (n + 7) & ~7;

const ZEROS = Buffer.alloc(8);

/** A string section sent as Latin-1 (one byte per character: every character is below U+0100). */
class Latin1 {
  constructor(text) {
    this.text = text;
  }
}

/**
 * A PACKED frame ready to be queued, as parts: Buffers (views of the values sent: nothing is
 * copied yet) and Latin-1 strings. The parent's addon copies the parts once, straight from the
 * values, while `send` runs (`sendParts`); a frame that must outlive the call (queued before
 * run(), or in the child until the end of the tick) is copied into one buffer first (`frame`),
 * so that changing a value after sending it never changes what was sent.
 */
class Packed {
  constructor(parts, size) {
    this.parts = parts;
    this.size = size;
    this.whole = null;
  }

  /** Payload bytes. */
  get length() {
    return this.size;
  }

  /** The whole frame in one buffer, header included (made once). */
  get frame() {
    if (this.whole !== null) return this.whole;
    const frame = Buffer.allocUnsafe(HEADER_LEN + this.size);
    frame.writeUInt32BE(this.size, 0);
    frame[4] = FrameKind.Packed;
    let at = HEADER_LEN;
    for (const part of this.parts) {
      if (typeof part === 'string') at += frame.latin1Write(part, at, part.length);
      else at += part.copy(frame, at);
    }
    this.whole = frame;
    this.parts = null;
    return frame;
  }

  /** The payload in one buffer (a view of `frame`). */
  get payload() {
    return this.frame.subarray(HEADER_LEN);
  }
}

/** The bytes of a binary section, as a Buffer view (no copy). */
function bytesOf(section) {
  if (Buffer.isBuffer(section)) return section;
  if (ArrayBuffer.isView(section)) return Buffer.from(section.buffer, section.byteOffset, section.byteLength);
  return Buffer.from(section);
}

/**
 * Builds a PACKED frame. `sections` are strings (UTF-8), Latin1 strings, ArrayBufferViews or
 * ArrayBuffers; `lengths[i]` is the byte length of `sections[i]`.
 */
function pack(kind, format, flags, sections, lengths, operation) {
  const count = sections.length;
  const tableEnd = align8(8 + 4 * count);
  let size = tableEnd;
  for (let i = 0; i < count; i++) size = align8(size) + lengths[i];
  if (size > MAX_PAYLOAD) throw errors.tooLarge(operation, size, 'packed data', MAX_PAYLOAD);
  const table = Buffer.alloc(tableEnd);
  table[0] = kind;
  table[1] = format;
  table[2] = flags;
  table.writeUInt32BE(count, 4);
  const parts = [table];
  let at = tableEnd;
  for (let i = 0; i < count; i++) {
    table.writeUInt32BE(lengths[i], 8 + 4 * i);
    const start = align8(at);
    if (start > at) parts.push(ZEROS.subarray(0, start - at));
    const section = sections[i];
    if (typeof section === 'string') parts.push(Buffer.from(section, 'utf8'));
    else if (section instanceof Latin1) parts.push(section.text);
    else parts.push(bytesOf(section));
    at = start + lengths[i];
  }
  return new Packed(parts, size);
}

/**
 * Reads a PACKED payload's layout: `{ kind, format, flags, sections }` with `sections[i]` a
 * Buffer view of the payload, or throws a string saying what is wrong (the receiver turns it
 * into a protocol error). Never allocates more than the section table.
 */
function unpack(payload) {
  if (payload.length < 8) throw 'a packed payload is shorter than its header';
  const kind = payload[0];
  const format = payload[1];
  const flags = payload[2];
  if (!CARRIED.has(kind)) throw `a packed payload carries frame kind 0x${kind.toString(16)}`;
  if (format !== FORMAT_JSON && format !== FORMAT_V8) throw `a packed payload has unknown format ${format}`;
  if (payload[3] !== 0 || (format === FORMAT_JSON && flags !== 0) || (flags & ~FLAG_ERRORS) !== 0) throw 'a packed payload has reserved bits set';
  const count = payload.readUInt32BE(4);
  if (count < 1 || 8 + 4 * count > payload.length) throw `a packed payload announces ${count} sections`;
  const sections = new Array(count);
  let at = align8(8 + 4 * count);
  for (let i = 0; i < count; i++) {
    const length = payload.readUInt32BE(8 + 4 * i);
    const start = align8(at);
    if (start + length > payload.length) throw `section ${i} of a packed payload ends past the payload`;
    sections[i] = payload.subarray(start, start + length);
    at = start + length;
  }
  if (at !== payload.length) throw 'a packed payload has bytes after its last section';
  return { kind, format, flags, sections };
}

module.exports = { Packed, Latin1, pack, unpack, FORMAT_JSON, FORMAT_V8, FLAG_ERRORS };
