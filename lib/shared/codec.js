'use strict';
// How a message becomes a frame and back, the same in both processes. A string travels as its
// own UTF-8 (a TEXT frame, no JSON quoting on either side); anything else as JSON (MESSAGE).
// Strings with lone surrogates have no UTF-8 form, so they keep the JSON path and its escapes.
// The binary and structured-clone codecs join here, behind the same three functions.

const { FrameKind, MAX_PAYLOAD } = require('./protocol');
const errors = require('./errors');

/** True when `message` travels as a TEXT frame. */
function isText(message) {
  return typeof message === 'string' && message.isWellFormed();
}

/**
 * The JSON text of `[...head, ...args]` for an event or a call: an argument that has no JSON
 * form (a function, a symbol) is refused rather than turned into null.
 */
function argsToJson(head, args, operation) {
  for (let i = 0; i < args.length; i++) {
    const type = typeof args[i];
    if (type === 'function' || type === 'symbol') {
      throw errors.invalidMessage(operation, `argument ${i + 1} is ${errors.describeValue(args[i])}, which has no JSON form`);
    }
  }
  return toJson(head.length === 0 ? args : [...head, ...args], operation);
}

/** The JSON text of `message`, or a TypeError (ERR_PROCLET_INVALID_MESSAGE) naming `operation`. */
function toJson(message, operation) {
  let text;
  try {
    text = JSON.stringify(message);
  } catch (cause) {
    throw errors.invalidMessage(operation, `the message cannot be serialized (${cause.message})`, cause);
  }
  if (text === undefined) throw errors.invalidMessage(operation, `${errors.describeValue(message)} has no JSON form`);
  return text;
}

/**
 * Refuses a payload over the protocol's maximum before it is copied anywhere (RangeError,
 * ERR_PROCLET_MESSAGE_TOO_LARGE). UTF-8 takes at most 3 bytes per UTF-16 unit, so only long
 * texts are counted. Returns the byte length when it was counted, else 0.
 */
function checkSize(text, kind, operation) {
  if (text.length <= MAX_PAYLOAD / 3) return 0;
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_PAYLOAD) {
    throw errors.tooLarge(operation, bytes, kind === FrameKind.Text ? 'UTF-8 text' : 'JSON', MAX_PAYLOAD);
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

module.exports = { isText, toJson, argsToJson, checkSize, decode };
