'use strict';
// A JSON description of a value that tells apart everything a serialization could alter: types
// (Buffer vs Uint8Array, Map vs object), bytes, -0, NaN, undefined, holes, BigInt, an Error's
// class, name, message, stack, cause and own properties, and which objects are the same object
// (shared and circular references). The specs compute it on what was sent, in the child on what
// arrived there (this file is required from the handlers), and on what came back.

// Realm-free checks (util.types, not instanceof): under Jest, what V8's deserializer makes in the
// parent belongs to Node's main context, not to the test's.
const { types } = require('util');

// An Error's class as it travels: its nearest built-in class (a subclass's own class cannot be
// rebuilt in another process; its name travels).
const BUILTIN = ['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError'];
function builtinClass(error) {
  for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
    if (BUILTIN.includes(proto.constructor.name)) return proto.constructor.name;
  }
  return 'none';
}

function fingerprint(value) {
  const seen = new Map();
  const fp = (v) => {
    if (v === undefined) return 'undefined';
    if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v !== 'object' || v === null) return JSON.stringify(v);
    if (seen.has(v)) return `#ref${seen.get(v)}`;
    seen.set(v, seen.size);
    if (ArrayBuffer.isView(v)) return { [v.constructor.name]: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') };
    if (types.isArrayBuffer(v)) return { ArrayBuffer: Buffer.from(v).toString('hex') };
    if (types.isMap(v)) return { Map: [...v].map(([k, x]) => [fp(k), fp(x)]) };
    if (types.isSet(v)) return { Set: [...v].map(fp) };
    if (types.isDate(v)) return { Date: v.getTime() };
    if (types.isRegExp(v)) return { RegExp: String(v) };
    if (types.isNativeError(v)) {
      const own = Object.keys(v).map((k) => [k, fp(v[k])]);
      return { Error: [builtinClass(v), v.name, v.message, v.stack, 'cause' in v ? fp(v.cause) : 'no cause', own] };
    }
    if (Array.isArray(v)) return { Array: v.length, items: Object.keys(v).map((k) => [k, fp(v[k])]) };
    if (types.isBoxedPrimitive(v)) return { [Object.prototype.toString.call(v)]: fp(v.valueOf()) };
    return { [Object.getPrototypeOf(v) === null ? 'null-proto' : 'Object']: Object.keys(v).map((k) => [k, fp(v[k])]) };
  };
  return fp(value);
}

module.exports = { fingerprint };
