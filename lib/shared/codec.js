'use strict';
// How a value becomes a frame's payload and back, the same in both processes (API.md section 4,
// docs/protocol.md). One Codec per conversation, for its `serialization` option:
// - A message that is a string travels as its own UTF-8 (TEXT, no JSON on either side), in both
//   modes. Strings with lone surrogates have no UTF-8 form, so they keep the other paths.
// - 'json' (default): a JSON text (MESSAGE, EVENT, CALL; RESULT's text form puts `<id>,1,` before
//   the value's JSON), or a PACKED frame when the value
//   holds binary data or long strings (lib/shared/binary.js).
// - 'advanced': a PACKED frame of V8's structured clone (lib/shared/structured.js).
// A payload is a string (UTF-8 frame of the given kind) or a Packed (a PACKED frame); `kindOf`
// tells which kind to queue.

const { FrameKind, MAX_PAYLOAD } = require('./protocol');
const errors = require('./errors');
const binary = require('./binary');
const { Packed, unpack, FORMAT_JSON } = require('./packed');

const MESSAGE = { name: 'message' };
const RESULT = { name: 'result', head: 2 };
const argsRoot = (head) => (head === 0 ? ARGS0 : { name: 'args', head });
const ARGS0 = { name: 'args', head: 0 };
const CALL_ARGS = { name: 'args', head: 2 };
const EVENT_ARGS = { name: 'args', head: 1 };

/** True when `message` travels as a TEXT frame. */
function isText(message) {
  return typeof message === 'string' && message.isWellFormed();
}

/** The frame kind for `payload`, made for `kind`: PACKED when it is packed. */
function kindOf(kind, payload) {
  return typeof payload === 'string' ? kind : FrameKind.Packed;
}

class Codec {
  /** `mode`: 'json' | 'advanced'. */
  constructor(mode) {
    this.mode = mode;
    this.advanced = mode === 'advanced';
    this.encodeValue = this.advanced ? require('./structured').encode : binary.encode;
  }

  /** The payload of a message that is not text (check `isText` first). */
  message(message, operation) {
    return this.encodeValue(FrameKind.Message, message, MESSAGE, operation);
  }

  /**
   * The payload of `[...head, ...args]` for `kind` (EVENT `[name]`, CALL `[id, name]`, INIT's
   * arguments `[]`): an argument that cannot travel is refused, naming it (`args[1].fn`).
   */
  list(kind, head, args, operation) {
    return this.encodeValue(kind, head.length === 0 ? args : [...head, ...args], argsRoot(head.length), operation);
  }

  /** The EVENT payload `[name, ...args]`. */
  event(name, args, operation) {
    return this.encodeValue(FrameKind.Event, prepend1(name, args), EVENT_ARGS, operation);
  }

  /** The CALL payload `[id, name, ...args]`. */
  call(id, name, args, operation) {
    return this.encodeValue(FrameKind.Call, prepend2(id, name, args), CALL_ARGS, operation);
  }

  /**
   * The RESULT payload of call `id`, which returned `value`: the JSON of the value alone for the
   * text form (`''` for undefined; `resultHead` goes before it), or a Packed frame of
   * `[id, 1, value]` when the value holds binary data (or, 'advanced', JSON would alter it).
   */
  result(id, value, operation) {
    if (value === undefined) return '';
    // The usual result: JSON carries it as it is, and no array is built around it.
    if (!binary.needsWork(value, 0) && (!this.advanced || binary.jsonExact(value))) return binary.plainJson(value, operation);
    const payload = this.encodeValue(FrameKind.Result, [id, 1, value], RESULT, operation);
    if (typeof payload !== 'string') return payload;
    // JSON after all (a toJSON, a Date): the value's text inside `[id,1,...]`.
    return payload.slice(`[${id},1,`.length, -1);
  }
}

// `[a, ...args]` and `[a, b, ...args]` made at their final size: one or two arguments (most
// events and calls) in a literal, more by concat (one allocation, never grown by push). Not
// `new Array(n)` filled in: V8 keeps such an array's holey elements kind after it is filled, and
// its serializer ('advanced') writes a holey array in the sparse form, every element with its index.
function prepend1(a, args) {
  switch (args.length) {
    case 0:
      return [a];
    case 1:
      return [a, args[0]];
    case 2:
      return [a, args[0], args[1]];
    default:
      return [a].concat(args);
  }
}

function prepend2(a, b, args) {
  switch (args.length) {
    case 0:
      return [a, b];
    case 1:
      return [a, b, args[0]];
    case 2:
      return [a, b, args[0], args[1]];
    default:
      return [a, b].concat(args);
  }
}

/** What goes before a RESULT's JSON in its text form: `<id>,1,` or `<id>,0,` (`<id>,1` alone for undefined). */
function resultHead(id, ok, json) {
  if (json === '') return ok ? `${id},1` : `${id},0`;
  return ok ? `${id},1,` : `${id},0,`;
}

/**
 * A RESULT payload in text form (`<id>,1`, `<id>,1,<JSON>`, `<id>,0,<JSON>`; the id in decimal
 * ASCII without leading zeros) as `[id, 1, value]` / `[id, 0, thrown]`, or undefined when its
 * head is malformed. JSON.parse throws on malformed JSON.
 */
function parseResult(text) {
  let id = 0;
  let i = 0;
  for (; i < text.length && i < 17; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2c) break;
    if (c < 0x30 || c > 0x39 || (i === 0 && c === 0x30)) return undefined;
    id = id * 10 + (c - 0x30);
  }
  if (i === 0 || text.charCodeAt(i) !== 0x2c) return undefined;
  const ok = text.charCodeAt(i + 1) - 0x30;
  if (ok !== 0 && ok !== 1) return undefined;
  if (i + 2 === text.length) return ok === 1 ? [id, 1] : undefined;
  if (text.charCodeAt(i + 2) !== 0x2c) return undefined;
  return [id, ok, JSON.parse(text.slice(i + 3))];
}

/** The JSON text of `message`, or a TypeError (ERR_PROCLET_INVALID_MESSAGE) naming `operation`. */
function toJson(message, operation) {
  const payload = binary.encode(FrameKind.Message, message, MESSAGE, operation);
  if (typeof payload !== 'string') throw errors.invalidMessage(operation, 'binary data cannot be sent here', '');
  return payload;
}

/**
 * Refuses a payload over the protocol's maximum before it is copied anywhere (RangeError,
 * ERR_PROCLET_MESSAGE_TOO_LARGE). UTF-8 takes at most 3 bytes per UTF-16 unit, so only long
 * texts are counted. Returns the payload's byte length when it was counted, else 0. A Packed
 * payload was checked when it was built. `head`: how many ASCII bytes go before the text in the
 * same frame (a RESULT's `<id>,1,`), counted against the maximum too.
 */
function checkSize(payload, kind, operation, head = 0) {
  if (typeof payload !== 'string') return payload.length;
  if (payload.length + head <= MAX_PAYLOAD / 3) return 0;
  const bytes = Buffer.byteLength(payload);
  if (bytes + head > MAX_PAYLOAD) {
    throw errors.tooLarge(operation, bytes + head, kind === FrameKind.Text ? 'UTF-8 text' : 'JSON', MAX_PAYLOAD);
  }
  return bytes;
}

/** The message a MESSAGE or TEXT payload carries (JSON.parse throws on malformed JSON). */
function decode(kind, payload) {
  switch (kind) {
    case FrameKind.Text:
      return payload;
    case FrameKind.Message:
      return JSON.parse(payload);
    default:
      throw new Error(`frame kind ${kind} carries no message`);
  }
}

/**
 * A PACKED payload (a Buffer) as `{ kind, value }`: the kind it stands for and its value (for
 * EVENT, CALL, RESULT and INIT, the array the JSON form would carry). Throws a string saying
 * what is malformed. `untrusted`: check texts for valid UTF-8 (the parent, reading its child).
 */
function decodePacked(payload, untrusted) {
  const { kind, format, flags, sections } = unpack(payload);
  const value = format === FORMAT_JSON ? binary.decode(sections, untrusted) : require('./structured').decode(sections, flags);
  return { kind, value };
}

module.exports = { Codec, Packed, isText, kindOf, toJson, checkSize, decode, decodePacked, resultHead, parseResult };
