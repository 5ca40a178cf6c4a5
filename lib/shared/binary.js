'use strict';
// serialization: 'json' (the default), docs/protocol.md "PACKED, format JSON". JSON semantics
// (toJSON, undefined properties dropped, undefined in arrays as null), except that:
// - binary values (Buffer, every TypedArray, DataView, ArrayBuffer), anywhere, travel as raw
//   bytes in sections of their own and arrive as the same type with the same bytes;
// - strings of STRING_SECTION characters or more, anywhere, travel as their own UTF-8 in a
//   section (no JSON escaping on either side, the cost of large strings inside objects);
// - a function, a symbol, a BigInt or a circular reference is an error that names where it is,
//   instead of vanishing or becoming null.
// The JSON then holds `null` where a section goes, and a list of patches says which section goes
// where: [[type, path], ...], a path being the keys from the top (numbers for array indices).
//
// The hot path (a small plain object) costs one scan that allocates nothing and then
// JSON.stringify as before; only a value that needs a section, a toJSON, or is refused takes the
// slow path, which copies the tree with the changes made.

const { isUtf8 } = require('buffer');
const util = require('util');
const errors = require('./errors');
const { pack, Latin1, FORMAT_JSON } = require('./packed');

/** Strings at least this long (UTF-16 units) travel raw beside the JSON. */
const STRING_SECTION = 16 * 1024;
/**
 * Matches a string with a character above U+00FF. V8 answers at once for a string it stores one
 * byte per character, which then travels as Latin-1: a plain copy each way, where UTF-8 would be
 * encoded, and decoded at twice the cost.
 */
const WIDE = /[^\x00-\xff]/;
/** Received binary sections smaller than this are copied (not kept as views of the frame). */
const VIEW_AT = 64 * 1024;
/** The scan gives up (and the slow path, which finds cycles, decides) past this depth. */
const SCAN_DEPTH = 64;

const TYPED = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};
if (typeof Float16Array === 'function') TYPED.Float16Array = Float16Array; // eslint-disable-line no-undef
const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

/**
 * True when `value` needs the slow path: JSON.stringify alone would not send it faithfully. The
 * hot path: primitives are checked inline, and a plain object (Object.prototype) can be neither
 * binary nor have an inherited toJSON, so it costs a prototype read and a for-in.
 */
function needsWork(value, depth) {
  switch (typeof value) {
    case 'string':
      return value.length >= STRING_SECTION;
    case 'number':
    case 'boolean':
    case 'undefined':
      return false;
    case 'object': {
      if (value === null) return false;
      if (depth > SCAN_DEPTH) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (itemNeedsWork(value[i], depth)) return true;
        return false;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) {
        if (ArrayBuffer.isView(value) || typeof value.toJSON === 'function' || util.types.isAnyArrayBuffer(value)) return true;
      }
      for (const key in value) if (itemNeedsWork(value[key], depth)) return true;
      return false;
    }
    default:
      return true; // function, symbol, bigint
  }
}

function itemNeedsWork(item, depth) {
  const type = typeof item;
  if (type === 'number' || type === 'boolean' || type === 'undefined') return false;
  if (type === 'string') return item.length >= STRING_SECTION;
  return needsWork(item, depth + 1);
}

/** The type a binary value travels as, or undefined. */
function binaryType(value) {
  if (ArrayBuffer.isView(value)) {
    if (Buffer.isBuffer(value)) return 'Buffer';
    if (util.types.isDataView(value)) return 'DataView';
    const tag = value[Symbol.toStringTag];
    return hasOwn(TYPED, tag) ? tag : 'Uint8Array';
  }
  if (util.types.isArrayBuffer(value)) return 'ArrayBuffer';
  return undefined;
}

/** `message.items[3].fn`, from the keys and the root's description. */
function describePath(root, keys) {
  let text;
  let from = 0;
  if (root.head === undefined) text = root.name;
  else if (keys.length === 0) text = root.name;
  else {
    text = root.name === 'args' ? `args[${keys[0] - root.head}]` : root.name;
    from = 1;
  }
  for (let i = from; i < keys.length; i++) {
    const key = keys[i];
    if (typeof key === 'number') text += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) text += `.${key}`;
    else text += `[${JSON.stringify(key)}]`;
  }
  return text;
}

/**
 * The refusal of a value nested too deeply, naming the first levels of its path
 * (`message.a.a.a.a.a.a.a.a… is nested more than 1000 levels, ...`).
 */
function tooDeep(root, keys, operation, what, hint) {
  return errors.invalidMessage(operation, `${describePath(root, keys.slice(0, 8))}… is nested ${what}`, hint);
}

const JSON_HINT = "With serialization: 'json' a message holds JSON values and binary data (Buffer, TypedArray, DataView, ArrayBuffer)";

/** The slow path: a copy of `value` ready for JSON.stringify, with sections and patches. */
class Builder {
  constructor(root, operation) {
    this.root = root;
    this.operation = operation;
    this.keys = [];
    this.ancestors = new Set();
    this.sections = [];
    this.patches = [];
  }

  refuse(what) {
    return errors.invalidMessage(this.operation, `${describePath(this.root, this.keys)} is ${what}`, JSON_HINT);
  }

  section(type, value) {
    this.patches.push([type, this.keys.slice()]);
    this.sections.push(value);
    return null;
  }

  /** The JSON-ready form of `value` found under `key`; undefined where JSON drops it. */
  build(key, value) {
    // Binary values first: Buffer has a toJSON (its bytes as a JSON array), which is what this
    // mode replaces.
    const type = value !== null && typeof value === 'object' ? binaryType(value) : undefined;
    if (type !== undefined) return this.section(type, value);
    if ((value !== null && typeof value === 'object') || typeof value === 'bigint') {
      let toJSON;
      try {
        toJSON = value.toJSON;
        if (typeof toJSON === 'function') value = toJSON.call(value, typeof key === 'number' ? String(key) : key);
      } catch (cause) {
        throw errors.invalidMessage(this.operation, `${describePath(this.root, this.keys)}.toJSON() threw (${cause && cause.message})`, JSON_HINT, cause);
      }
    }
    switch (typeof value) {
      case 'string':
        if (value.length >= STRING_SECTION) {
          if (!WIDE.test(value)) return this.section('latin1', new Latin1(value));
          if (value.isWellFormed()) return this.section('string', value);
        }
        return value;
      case 'number':
      case 'boolean':
      case 'undefined':
        return value;
      case 'function':
        throw this.refuse('a function');
      case 'symbol':
        throw this.refuse('a symbol');
      case 'bigint':
        throw this.refuse("a BigInt, which JSON cannot carry; use serialization: 'advanced'");
      default:
        break;
    }
    if (value === null) return null;
    // What a toJSON returned is sent as JSON would send it, binary values included.
    const returned = binaryType(value);
    if (returned !== undefined) return this.section(returned, value);
    if (util.types.isSharedArrayBuffer(value)) throw this.refuse('a SharedArrayBuffer, which cannot be shared with another process');
    if (value instanceof Number || value instanceof String || value instanceof Boolean) return value.valueOf();
    if (this.ancestors.has(value)) throw this.refuse("a circular reference, which JSON cannot carry; use serialization: 'advanced'");
    this.ancestors.add(value);
    let out;
    if (Array.isArray(value)) {
      out = new Array(value.length);
      for (let i = 0; i < value.length; i++) {
        this.keys.push(i);
        const item = this.build(i, value[i]);
        this.keys.pop();
        out[i] = item === undefined ? null : item;
      }
    } else {
      // No prototype: a key named __proto__ stays an ordinary property.
      out = Object.create(null);
      for (const name of Object.keys(value)) {
        this.keys.push(name);
        const item = this.build(name, value[name]);
        this.keys.pop();
        if (item !== undefined) out[name] = item;
      }
    }
    this.ancestors.delete(value);
    return out;
  }
}

/**
 * The payload for `value` (a message, or an event's/call's/result's array): a JSON string when
 * JSON carries it as it is, else a Packed frame (lib/shared/packed.js) standing for `kind`.
 * `root` names the value in errors: `{ name: 'message' }`, or `{ name: 'args' | 'result', head }`
 * for arrays whose first `head` items are proclet's. Throws ERR_PROCLET_INVALID_MESSAGE.
 */
function encode(kind, value, root, operation) {
  if (!needsWork(value, 0)) {
    const text = plainJson(value, operation);
    if (text === undefined) throw errors.invalidMessage(operation, `${root.name} is undefined, which JSON cannot carry; use serialization: 'advanced'`, JSON_HINT);
    return text;
  }
  const builder = new Builder(root, operation);
  let out;
  try {
    out = builder.build('', value);
  } catch (error) {
    // The stack ran out (JSON.stringify would throw the same RangeError, a little deeper).
    if (error instanceof RangeError && error.code === undefined && builder.keys.length > SCAN_DEPTH) {
      throw tooDeep(root, builder.keys, operation, `too deeply: the stack ran out ${builder.keys.length} levels down`, JSON_HINT);
    }
    throw error;
  }
  if (out === undefined) throw builder.refuse("undefined, which JSON cannot carry; use serialization: 'advanced'");
  if (builder.sections.length === 0) return JSON.stringify(out);
  const head = JSON.stringify([out, builder.patches]);
  const sections = [head, ...builder.sections];
  const lengths = sections.map((s) => (typeof s === 'string' ? Buffer.byteLength(s) : s instanceof Latin1 ? s.text.length : s.byteLength));
  return pack(kind, FORMAT_JSON, 0, sections, lengths, operation);
}

/**
 * JSON.stringify of a value that needs no work (`needsWork` is false): undefined for undefined.
 * A getter or toJSON of the user's that throws is ERR_PROCLET_INVALID_MESSAGE.
 */
function plainJson(value, operation) {
  try {
    return JSON.stringify(value);
  } catch (cause) {
    throw errors.invalidMessage(operation, `the message cannot be serialized (${cause.message})`, JSON_HINT, cause);
  }
}

/**
 * The value of a PACKED payload of format JSON (`sections` from unpack()). Throws a string
 * describing what is malformed. `untrusted`: check every text for valid UTF-8 (the parent
 * checks what its child sends; the child trusts its parent).
 */
function decode(sections, untrusted) {
  const text = utf8(sections[0], untrusted, 'the JSON of a packed payload');
  let head;
  try {
    head = JSON.parse(text);
  } catch (e) {
    throw `the JSON of a packed payload is not valid (${e.message})`;
  }
  if (!Array.isArray(head) || head.length !== 2 || !Array.isArray(head[1]) || head[1].length !== sections.length - 1) {
    throw 'the JSON of a packed payload has the wrong shape';
  }
  const holder = [head[0]];
  const patches = head[1];
  for (let i = 0; i < patches.length; i++) {
    const patch = patches[i];
    if (!Array.isArray(patch) || patch.length !== 2 || typeof patch[0] !== 'string' || !Array.isArray(patch[1])) {
      throw `patch ${i} of a packed payload has the wrong shape`;
    }
    const value = revive(patch[0], sections[i + 1], untrusted);
    let container = holder;
    let key = 0;
    for (const next of patch[1]) {
      const inner = container[key];
      const valid = inner !== null && typeof inner === 'object' && (Array.isArray(inner) ? Number.isInteger(next) && next >= 0 : typeof next === 'string');
      if (!valid || !hasOwn(inner, next)) throw `patch ${i} of a packed payload has a path that leads nowhere`;
      container = inner;
      key = next;
    }
    if (container[key] !== null) throw `patch ${i} of a packed payload does not point at a placeholder`;
    container[key] = value;
  }
  return holder[0];
}

function utf8(bytes, untrusted, what) {
  if (untrusted && !isUtf8(bytes)) throw `${what} is not valid UTF-8`;
  return bytes.toString('utf8');
}

/** A section as the value of `type`; a large binary section stays a view of the received bytes. */
function revive(type, bytes, untrusted) {
  if (type === 'string') return utf8(bytes, untrusted, 'a string section');
  if (type === 'latin1') return bytes.latin1Slice(0, bytes.length);
  const length = bytes.length;
  if (type === 'Buffer') return length >= VIEW_AT ? bytes : Buffer.from(bytes);
  const copy = () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + length);
  if (type === 'ArrayBuffer') return copy();
  if (type === 'DataView') return length >= VIEW_AT ? new DataView(bytes.buffer, bytes.byteOffset, length) : new DataView(copy());
  if (!hasOwn(TYPED, type)) throw `a packed payload has a section of unknown type ${JSON.stringify(type).slice(0, 40)}`;
  const Ctor = TYPED[type];
  const size = Ctor.BYTES_PER_ELEMENT;
  if (length % size !== 0) throw `a ${type} section of ${length} bytes is not a whole number of elements`;
  if (length >= VIEW_AT && bytes.byteOffset % size === 0) return new Ctor(bytes.buffer, bytes.byteOffset, length / size);
  return new Ctor(copy());
}

/**
 * True when this module's encoding carries `value` exactly as structured clone would (plain
 * objects and arrays without holes, finite numbers other than -0, strings, booleans, null,
 * binary values, no undefined, no object reached twice): 'advanced' then sends it this way, the
 * fast path for small messages and for long strings and binary values inside plain objects.
 */
function jsonExact(value) {
  exactSeen.length = 0;
  return exact(value, 0);
}
const exactSeen = [];

function exact(value, depth) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth > 16 || exactSeen.length >= 16 || exactSeen.includes(value)) return false;
      exactSeen.push(value);
      if (binaryType(value) !== undefined) return true;
      const proto = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        if (proto !== Array.prototype) return false;
        for (let i = 0; i < value.length; i++) if (!(i in value) || !exact(value[i], depth + 1)) return false;
        return true;
      }
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) if (!exact(value[key], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

module.exports = { encode, decode, needsWork, plainJson, jsonExact, describePath, tooDeep, binaryType, STRING_SECTION, TYPED };
