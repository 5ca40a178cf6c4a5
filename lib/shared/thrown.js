'use strict';
// What one process throws, as the other receives it. `serializeThrown` turns any thrown value
// into plain JSON data; `reviveThrown` makes a real Error of it again, with the thrower's class
// (for built-ins), name, message, stack, cause, nested errors and own properties. Both processes
// use both (docs/protocol.md, ERROR frame).
//
// Shape: Thrown = { error: { name, message, stack?, props, cause?: Thrown, errors?: Thrown[] } }
//               | { value: <JSON value> }                 a value JSON carries as it is
//               | { special: 'undefined' | 'NaN' | 'Infinity' | '-Infinity' | '-0' }
//               | { bigint: '<decimal digits>' }
//               | { inspected: '<util.inspect text>' }   a symbol, a function, a circular object
// A thrown value arrives as itself wherever JSON or a tag can carry it (so `Promise.reject(undefined)`
// and `throw 'undefined'` stay different); an Error arrives as its class, name and message even
// when some of its properties cannot be read (only those are dropped).

const util = require('util');
const errors = require('./errors');

const MAX_DEPTH = 8;
const BUILTIN_ERRORS = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/** `read()`, or `fallback` when reading throws (a getter, a Proxy trap). */
function attempt(read, fallback) {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function looksLikeError(value) {
  if (value === null || typeof value !== 'object') return false;
  return attempt(() => value instanceof Error || (typeof value.message === 'string' && typeof value.name === 'string'), false);
}

/** Plain data for `value` (an Error or anything thrown). Never throws. */
function serializeThrown(value, depth = 0) {
  if (!looksLikeError(value) || depth > MAX_DEPTH) return serializeValue(value);
  const constructorName = attempt(() => value.constructor.name, undefined);
  const error = {
    name: attempt(() => String(value.name), typeof constructorName === 'string' ? constructorName : 'Error'),
    message: attempt(() => String(value.message), ''),
    stack: attempt(() => (typeof value.stack === 'string' ? value.stack : undefined), undefined),
    props: {},
  };
  for (const key of attempt(() => Object.keys(value), [])) {
    if (key === 'errors' || key === 'cause') continue;
    const safe = attempt(() => jsonSafe(value[key]), undefined);
    if (safe !== undefined) error.props[key] = safe;
  }
  if (attempt(() => 'cause' in value, false)) {
    const cause = attempt(() => ({ value: value.cause }), undefined);
    if (cause) error.cause = serializeThrown(cause.value, depth + 1);
  }
  const nested = attempt(() => (Array.isArray(value.errors) ? Array.from(value.errors) : undefined), undefined);
  if (nested) error.errors = nested.map((e) => serializeThrown(e, depth + 1));
  return { error };
}

/** A thrown value that is not an Error, tagged where JSON alone would alter it. */
function serializeValue(value) {
  if (value === undefined) return { special: 'undefined' };
  if (typeof value === 'number' && !Number.isFinite(value)) return { special: String(value) };
  if (Object.is(value, -0)) return { special: '-0' };
  if (typeof value === 'bigint') return { bigint: value.toString() };
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return { value: JSON.parse(text) };
  } catch {}
  return { inspected: attempt(() => util.inspect(value), '[uninspectable value]') };
}

function jsonSafe(value) {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? util.inspect(value) : JSON.parse(text);
  } catch {
    return attempt(() => util.inspect(value), undefined);
  }
}

const SPECIAL = { undefined: undefined, NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

/** The value a non-Error `Thrown` carries. */
function reviveValue(thrown) {
  if (Object.prototype.hasOwnProperty.call(thrown, 'special') && Object.prototype.hasOwnProperty.call(SPECIAL, thrown.special)) {
    return SPECIAL[thrown.special];
  }
  if (typeof thrown.bigint === 'string' && /^-?\d+$/.test(thrown.bigint)) return BigInt(thrown.bigint);
  if (typeof thrown.inspected === 'string') return thrown.inspected;
  return thrown.value;
}

/**
 * The Error for what `serializeThrown` produced in `who` ("child process 123"): a non-Error value
 * becomes an Error that shows it and carries it as `value` (for 'error' events). Never throws,
 * whatever the data (it may come from a child that is not trusted): nesting past MAX_DEPTH is
 * dropped.
 */
function reviveThrown(thrown, who, depth = 0) {
  if (thrown === null || typeof thrown !== 'object') return errors.nonErrorThrown(who, undefined);
  if (thrown.error && typeof thrown.error === 'object') return reviveError(thrown.error, who, depth);
  return errors.nonErrorThrown(who, reviveValue(thrown));
}

/** What was thrown, as itself: an Error revived, any other value as that value (for calls). */
function reviveThrownValue(thrown, who) {
  if (thrown !== null && typeof thrown === 'object' && !(thrown.error && typeof thrown.error === 'object')) {
    return reviveValue(thrown);
  }
  return reviveThrown(thrown, who);
}

function reviveError(data, who, depth) {
  const message = String(data.message);
  const name = String(data.name);
  const deeper = depth < MAX_DEPTH;
  let error;
  if (Array.isArray(data.errors)) {
    error = new AggregateError(deeper ? data.errors.map((e) => reviveThrown(e, who, depth + 1)) : [], message);
  } else {
    const Ctor = Object.prototype.hasOwnProperty.call(BUILTIN_ERRORS, name) ? BUILTIN_ERRORS[name] : Error;
    error = new Ctor(message);
  }
  const hidden = (value) => ({ value, writable: true, configurable: true, enumerable: false });
  if (error.name !== name) Object.defineProperty(error, 'name', hidden(name));
  if (typeof data.stack === 'string') Object.defineProperty(error, 'stack', hidden(data.stack));
  if (data.cause !== undefined && deeper) Object.defineProperty(error, 'cause', hidden(reviveThrown(data.cause, who, depth + 1)));
  if (data.props !== null && typeof data.props === 'object') {
    // Defined, not assigned: a key named __proto__ stays an own property, never a prototype.
    for (const key of Object.keys(data.props)) {
      Object.defineProperty(error, key, { value: data.props[key], writable: true, configurable: true, enumerable: true });
    }
  }
  return error;
}

module.exports = { serializeThrown, reviveThrown, reviveThrownValue };
