'use strict';
// serialization: 'advanced', docs/protocol.md "PACKED, format V8": the structured clone of
// child_process's 'advanced' mode (Node's v8.Serializer: Map, Set, Date, RegExp, BigInt, Error,
// undefined, NaN, -0, Infinity, sparse arrays, shared and circular references, binary values),
// with three differences:
// - Errors arrive whole: V8 keeps only the built-in class, message, stack and cause; the class
//   of a subclass (by its nearest built-in), the name, AggregateError's `errors` and own
//   properties (`code`, ...) travel in a table beside the value and are put back on arrival.
// - What structured clone would alter rather than carry is refused, naming where it is: a
//   function, a symbol, an instance of a class (it would arrive as a plain object without its
//   class or private fields), a WeakMap, a Promise...
// - Binary values of BIG_VIEW bytes or more travel in sections of their own (one copy into the
//   frame rather than two) and arrive as views of the received bytes.

const util = require('util');
const errors = require('./errors');
const { pack, FORMAT_V8, FLAG_ERRORS } = require('./packed');
const binary = require('./binary');

const { describePath, tooDeep, jsonExact, TYPED } = binary;

let v8 = null;
/** The serializer classes, made on first use (the child loads `v8` only in this mode). */
let classes = null;

/** ArrayBufferViews this large travel as sections of their own. */
const BIG_VIEW = 64 * 1024;
/**
 * Values nested deeper are refused: V8's serializer writes values deeper than its deserializer
 * reads back (about 3100 vs 1900 levels on Node's default stack), and a payload the receiver
 * cannot read is a protocol error there.
 */
const MAX_DEPTH = 1000;
/** Host object tags: a view serialized by Node in the value, or one kept in a section. */
const IN_BAND = 1;
const OUT_OF_BAND = 2;

const BUILTIN_ERRORS = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError };
const HINT = "With serialization: 'advanced' a message holds what structured clone carries: JSON values, undefined, BigInt, Map, Set, Date, RegExp, Error, binary data, plain objects and arrays (cycles allowed)";

function load() {
  if (classes !== null) return classes;
  v8 = require('v8');
  class Serializer extends v8.DefaultSerializer {
    constructor(sections) {
      super();
      this.sections = sections;
    }

    _writeHostObject(view) {
      if (view.byteLength < BIG_VIEW) {
        this.writeUint32(IN_BAND);
        return super._writeHostObject(view);
      }
      const type = Buffer.isBuffer(view) ? 'Buffer' : util.types.isDataView(view) ? 'DataView' : view[Symbol.toStringTag];
      this.writeUint32(OUT_OF_BAND);
      this.writeUint32(this.sections.length);
      this.writeUint32(TYPE_INDEX[type] === undefined ? TYPE_INDEX.Uint8Array : TYPE_INDEX[type]);
      this.sections.push(view);
    }
  }
  class Deserializer extends v8.DefaultDeserializer {
    constructor(bytes, sections) {
      super(bytes);
      this.sections = sections;
    }

    _readHostObject() {
      // In band: Node's reader (a copy when misaligned; a TypeError or RangeError for a bad type
      // or length, which decode() reports).
      const tag = this.readUint32();
      if (tag === IN_BAND) return super._readHostObject();
      if (tag !== OUT_OF_BAND) throw new Error(`unknown host object tag ${tag}`);
      const index = this.readUint32();
      const type = TYPES[this.readUint32()];
      const bytes = index >= 1 && index < this.sections.length ? this.sections[index] : undefined;
      if (bytes === undefined || type === undefined || this.used.has(index)) throw new Error('a packed payload refers to a section that is not there');
      this.used.add(index);
      const Ctor = type === 'Buffer' ? Buffer : type === 'DataView' ? DataView : TYPED[type];
      const size = Ctor.BYTES_PER_ELEMENT || 1;
      if (bytes.length % size !== 0) throw new Error(`a ${type} section of ${bytes.length} bytes is not a whole number of elements`);
      if (type === 'Buffer') return bytes;
      if (bytes.byteOffset % size === 0) return new Ctor(bytes.buffer, bytes.byteOffset, bytes.length / size);
      return new Ctor(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    }
  }
  classes = { Serializer, Deserializer };
  return classes;
}

// The types of views kept in sections, numbered (proclet's numbering, not Node's).
const TYPES = ['Buffer', 'DataView', ...Object.keys(TYPED)];
const TYPE_INDEX = Object.fromEntries(TYPES.map((name, i) => [name, i]));

/** The nearest built-in Error class of `error`, by name. */
function builtinClass(error) {
  for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const ctor = Object.prototype.hasOwnProperty.call(proto, 'constructor') ? proto.constructor : undefined;
    for (const name in BUILTIN_ERRORS) if (BUILTIN_ERRORS[name] === ctor) return name;
  }
  return 'Error';
}

/**
 * Object.prototype of this realm or of another one (a vm context: objects V8's deserializer
 * makes belong to Node's main context), or null.
 */
function isPlainProto(proto) {
  if (proto === null || proto === Object.prototype) return true;
  if (Object.getPrototypeOf(proto) !== null) return false;
  const ctor = Object.prototype.hasOwnProperty.call(proto, 'constructor') ? proto.constructor : undefined;
  return typeof ctor === 'function' && ctor.name === 'Object' && ctor.prototype === proto;
}

/**
 * Walks what V8 will serialize: refuses what it would alter (with the path), and lists the
 * Errors, with what V8 drops of them.
 */
class Walker {
  constructor(root, operation) {
    this.root = root;
    this.operation = operation;
    this.keys = [];
    this.seen = new Set();
    /** Errors whose cause is being walked: V8 cannot read back an Error inside its own cause. */
    this.causing = new Set();
    this.errors = [];
  }

  refuse(what) {
    return errors.invalidMessage(this.operation, `${describePath(this.root, this.keys)} is ${what}`, HINT);
  }

  at(key, value) {
    this.keys.push(key);
    this.walk(value);
    this.keys.pop();
  }

  walk(value) {
    const type = typeof value;
    if (type === 'function') throw this.refuse('a function');
    if (type === 'symbol') throw this.refuse('a symbol');
    if (type !== 'object' || value === null) return;
    if (this.causing.has(value)) throw this.refuse('the Error that holds it, which structured clone cannot carry back (an Error inside its own cause)');
    if (this.seen.has(value)) return;
    if (this.keys.length > MAX_DEPTH) throw tooDeep(this.root, this.keys, this.operation, `more than ${MAX_DEPTH} levels, which structured clone cannot read back`, HINT);
    this.seen.add(value);
    if (Array.isArray(value)) {
      if (value.length <= 65536) for (let i = 0; i < value.length; i++) this.at(i, value[i]);
      else for (const key of Object.keys(value)) this.at(/^\d+$/.test(key) ? Number(key) : key, value[key]);
      return;
    }
    const proto = Object.getPrototypeOf(value);
    if (isPlainProto(proto)) {
      for (const key of Object.keys(value)) this.at(key, value[key]);
      return;
    }
    if (ArrayBuffer.isView(value) || util.types.isArrayBuffer(value) || util.types.isDate(value) || util.types.isRegExp(value) || util.types.isBoxedPrimitive(value)) {
      return;
    }
    if (util.types.isMap(value)) {
      let i = 0;
      for (const [k, v] of value) {
        this.at(`<key ${i}>`, k);
        this.at(typeof k === 'string' || typeof k === 'number' ? String(k) : `<value ${i}>`, v);
        i++;
      }
      return;
    }
    if (util.types.isSet(value)) {
      let i = 0;
      for (const v of value) this.at(`<value ${i++}>`, v);
      return;
    }
    if (util.types.isNativeError(value) || value instanceof Error) {
      this.error(value);
      return;
    }
    if (util.types.isSharedArrayBuffer(value)) throw this.refuse('a SharedArrayBuffer, which cannot be shared with another process');
    const name = (proto && Object.prototype.hasOwnProperty.call(proto, 'constructor') && typeof proto.constructor === 'function' && proto.constructor.name) || 'an unnamed class';
    throw this.refuse(`an instance of ${name}: structured clone would deliver a plain object without its class or private fields (send a plain object, e.g. { ...value })`);
  }

  error(error) {
    const props = {};
    for (const key of Object.keys(error)) {
      if (key === 'message' || key === 'stack' || key === 'cause') continue;
      this.at(key, error[key]);
      props[key] = error[key];
    }
    const fix = { name: String(error.name), builtin: builtinClass(error), props };
    if (Object.prototype.hasOwnProperty.call(error, 'cause')) {
      this.causing.add(error);
      this.at('cause', error.cause);
      this.causing.delete(error);
    }
    if (Array.isArray(error.errors)) {
      this.at('errors', error.errors);
      fix.errors = error.errors;
    }
    this.errors.push([error, fix]);
  }
}

/**
 * The payload for `value` in 'advanced' mode: as 'json' sends it when that carries it exactly
 * (lib/shared/binary.js), else a Packed frame of format V8 standing for `kind`. `root` names
 * the value in errors (see binary.js's encode). Throws ERR_PROCLET_INVALID_MESSAGE.
 */
function encode(kind, value, root, operation) {
  // What JSON (with its binary and string sections) carries exactly travels that way: the fast
  // path for small messages (plain JSON frames), long strings and binary values.
  if (jsonExact(value)) return binary.encode(kind, value, root, operation);
  const { Serializer } = load();
  const walker = new Walker(root, operation);
  walker.walk(value);
  const sections = [null];
  const serializer = new Serializer(sections);
  serializer.writeHeader();
  try {
    serializer.writeValue(walker.errors.length === 0 ? value : [value, walker.errors]);
  } catch (cause) {
    throw errors.invalidMessage(operation, `${describePath(root, [])} cannot be serialized (${cause && cause.message})`, HINT, cause);
  }
  sections[0] = serializer.releaseBuffer();
  const lengths = sections.map((s) => s.byteLength);
  return pack(kind, FORMAT_V8, walker.errors.length === 0 ? 0 : FLAG_ERRORS, sections, lengths, operation);
}

/**
 * The value of a PACKED payload of format V8. Throws a string describing what is malformed. V8's
 * deserializer checks every length against the bytes that are there, so a payload cannot make
 * it allocate more than it holds.
 */
function decode(sections, flags) {
  const { Deserializer } = load();
  const deserializer = new Deserializer(sections[0], sections);
  deserializer.used = new Set();
  let value;
  try {
    deserializer.readHeader();
    value = deserializer.readValue();
  } catch (e) {
    throw `a structured-clone payload is malformed (${e && e.message})`;
  }
  if (deserializer.used.size !== sections.length - 1) throw 'a packed payload has sections nothing refers to';
  if ((flags & FLAG_ERRORS) === 0) return value;
  if (!Array.isArray(value) || value.length !== 2 || !Array.isArray(value[1])) throw 'a structured-clone payload with errors has the wrong shape';
  for (const entry of value[1]) restoreError(entry);
  return value[0];
}

/** Puts back on a received Error what V8 does not carry. */
function restoreError(entry) {
  const fine = Array.isArray(entry) && entry.length === 2 && util.types.isNativeError(entry[0]) && entry[1] !== null && typeof entry[1] === 'object';
  const fix = fine && entry[1];
  if (!fine || typeof fix.name !== 'string' || typeof fix.builtin !== 'string' || fix.props === null || typeof fix.props !== 'object') {
    throw 'an error entry of a structured-clone payload has the wrong shape';
  }
  const error = entry[0];
  const Ctor = Object.prototype.hasOwnProperty.call(BUILTIN_ERRORS, fix.builtin) ? BUILTIN_ERRORS[fix.builtin] : Error;
  if (Object.getPrototypeOf(error) !== Ctor.prototype) Object.setPrototypeOf(error, Ctor.prototype);
  const hidden = (v) => ({ value: v, writable: true, configurable: true, enumerable: false });
  if (error.name !== fix.name) Object.defineProperty(error, 'name', hidden(fix.name));
  if (Array.isArray(fix.errors)) Object.defineProperty(error, 'errors', hidden(fix.errors));
  for (const key of Object.keys(fix.props)) {
    Object.defineProperty(error, key, { value: fix.props[key], writable: true, configurable: true, enumerable: true });
  }
}

module.exports = { encode, decode };
