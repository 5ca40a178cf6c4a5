'use strict';
// What one process throws, as the other receives it. `serializeThrown` turns any thrown value
// into plain JSON data; `reviveThrown` makes a real Error of it again, with the thrower's class
// (for built-ins), name, message, stack, cause, nested errors and own properties. Both processes
// use both (docs/protocol.md, ERROR frame).
//
// Shape: { error: { name, message, stack?, props, cause?: Thrown, errors?: Thrown[] } }
//      | { value: <JSON value, or util.inspect text when it has no JSON form> }

const util = require('util');
const errors = require('./errors');

const MAX_DEPTH = 8;
const BUILTIN_ERRORS = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

function looksLikeError(value) {
  return (
    value instanceof Error ||
    (value !== null && typeof value === 'object' && typeof value.message === 'string' && typeof value.name === 'string')
  );
}

/** Plain data for `value` (an Error or anything thrown). Never throws. */
function serializeThrown(value, depth = 0) {
  if (!looksLikeError(value) || depth > MAX_DEPTH) return { value: jsonSafe(value) };
  const error = {
    name: String(value.name),
    message: String(value.message),
    stack: typeof value.stack === 'string' ? value.stack : undefined,
    props: {},
  };
  for (const key of Object.keys(value)) {
    if (key === 'errors' || key === 'cause') continue;
    const safe = jsonSafe(value[key]);
    if (safe !== undefined) error.props[key] = safe;
  }
  if ('cause' in value) error.cause = serializeThrown(value.cause, depth + 1);
  if (Array.isArray(value.errors)) error.errors = value.errors.map((e) => serializeThrown(e, depth + 1));
  return { error };
}

function jsonSafe(value) {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? util.inspect(value) : JSON.parse(text);
  } catch {
    return util.inspect(value);
  }
}

/** The Error for what `serializeThrown` produced in process `pid`. */
function reviveThrown(thrown, pid) {
  if (thrown && typeof thrown === 'object' && thrown.error) return reviveError(thrown.error, pid);
  return errors.nonErrorThrown(pid, thrown && typeof thrown === 'object' ? thrown.value : undefined);
}

function reviveError(data, pid) {
  const message = String(data.message);
  const name = String(data.name);
  let error;
  if (Array.isArray(data.errors)) {
    error = new AggregateError(
      data.errors.map((e) => reviveThrown(e, pid)),
      message,
    );
  } else {
    const Ctor = Object.prototype.hasOwnProperty.call(BUILTIN_ERRORS, name) ? BUILTIN_ERRORS[name] : Error;
    error = new Ctor(message);
  }
  const hidden = (value) => ({ value, writable: true, configurable: true, enumerable: false });
  if (error.name !== name) Object.defineProperty(error, 'name', hidden(name));
  if (typeof data.stack === 'string') Object.defineProperty(error, 'stack', hidden(data.stack));
  if (data.cause !== undefined) Object.defineProperty(error, 'cause', hidden(reviveThrown(data.cause, pid)));
  if (data.props && typeof data.props === 'object') Object.assign(error, data.props);
  return error;
}

module.exports = { serializeThrown, reviveThrown };
