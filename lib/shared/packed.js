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
// builds the whole frame in one buffer (the 5-byte frame header first, so the child writes it
// without another copy): binary values are copied into it once, strings encoded into it once.

const { FrameKind, HEADER_LEN, MAX_PAYLOAD } = require('./protocol');
const errors = require('./errors');

const FORMAT_JSON = 1;
const FORMAT_V8 = 2;
const FLAG_ERRORS = 1;

/** The kinds a PACKED frame may stand for. */
const CARRIED = new Set([FrameKind.Message, FrameKind.Event, FrameKind.Call, FrameKind.Result, FrameKind.Init]);

const align8 = (n) => (n + 7) & ~7;

/**
 * A frame ready to be queued: `frame` is the whole frame (header space included); the payload
 * is `frame.subarray(HEADER_LEN)`.
 */
class Packed {
  constructor(frame) {
    this.frame = frame;
  }

  get length() {
    return this.frame.length - HEADER_LEN;
  }

  get payload() {
    return this.frame.subarray(HEADER_LEN);
  }
}

/** A string section written as Latin-1 (one byte per character: every character is below 256). */
class Latin1 {
  constructor(text) {
    this.text = text;
  }
}

/**
 * Builds a PACKED frame. `sections` are strings (written as UTF-8), Latin1 strings,
 * ArrayBufferViews or ArrayBuffers (copied); `lengths[i]` is the byte length of `sections[i]`.
 */
function pack(kind, format, flags, sections, lengths, operation) {
  const count = sections.length;
  let size = align8(8 + 4 * count);
  for (let i = 0; i < count; i++) size = align8(size) + lengths[i];
  if (size > MAX_PAYLOAD) throw errors.tooLarge(operation, size, 'packed data', MAX_PAYLOAD);
  const frame = Buffer.allocUnsafe(HEADER_LEN + size);
  frame.writeUInt32BE(size, 0);
  frame[4] = FrameKind.Packed;
  const base = HEADER_LEN;
  frame[base] = kind;
  frame[base + 1] = format;
  frame[base + 2] = flags;
  frame[base + 3] = 0;
  frame.writeUInt32BE(count, base + 4);
  let at = align8(8 + 4 * count);
  frame.fill(0, base + 8 + 4 * count, base + at);
  for (let i = 0; i < count; i++) {
    frame.writeUInt32BE(lengths[i], base + 8 + 4 * i);
    const start = align8(at);
    if (start > at) frame.fill(0, base + at, base + start);
    const section = sections[i];
    if (typeof section === 'string') frame.write(section, base + start, lengths[i], 'utf8');
    else if (section instanceof Latin1) frame.latin1Write(section.text, base + start, lengths[i]);
    else if (section instanceof Uint8Array) frame.set(section, base + start);
    else if (ArrayBuffer.isView(section)) frame.set(new Uint8Array(section.buffer, section.byteOffset, section.byteLength), base + start);
    else frame.set(new Uint8Array(section), base + start);
    at = start + lengths[i];
  }
  return new Packed(frame);
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
