'use strict';
// serialization: 'advanced': the structured clone, every way a value travels, both directions.

const { endAll } = require('../helpers');
const { echoer, travel, fingerprint } = require('./roundtrip');

class ValidationError extends RangeError {
  constructor(message, options) {
    super(message, options);
    this.name = 'ValidationError';
    this.code = 'E_VALIDATION';
    this.details = { field: 'age', limits: new Map([['min', 0n]]) };
  }
}

function circular() {
  const node = { name: 'root', children: [] };
  node.children.push({ parent: node, name: 'child' });
  node.self = node;
  return node;
}

function shared() {
  const same = { n: 1 };
  return { a: same, b: same, list: [same, new Map([['k', same]])] };
}

function sparse() {
  const array = [1, , 3]; // eslint-disable-line no-sparse-arrays
  array[10] = undefined;
  return array;
}

const VALUES = [
  ['Map', () => new Map([[1, 'one'], [{ k: 1 }, new Set([2])], ['nested', new Map([[3n, -0]])]])],
  ['Set', () => new Set([1, 'two', { three: 3 }, new Set([4])])],
  ['Date', () => new Date(1700000000123)],
  ['an invalid Date', () => new Date(NaN)],
  ['RegExp', () => /ab+c/giu],
  ['BigInt', () => 2n ** 100n],
  ['a negative BigInt', () => -(2n ** 70n)],
  ['Error', () => new Error('plain')],
  ['TypeError with a cause', () => new TypeError('outer', { cause: new RangeError('inner') })],
  ['a subclass with a name, own properties and a cause', () => new ValidationError('too young', { cause: 'because' })],
  ['AggregateError', () => new AggregateError([new Error('a'), new TypeError('b')], 'many')],
  ['an Error with a non-Error cause', () => new Error('with', { cause: { code: 7, when: new Date(0) } })],
  ['undefined', () => undefined],
  ['NaN', () => NaN],
  ['-0', () => -0],
  ['Infinity', () => Infinity],
  ['-Infinity', () => -Infinity],
  ['a sparse array', sparse],
  ['a circular structure', circular],
  ['shared references', shared],
  ['undefined properties', () => ({ a: undefined, b: [undefined, null] })],
  ['boxed primitives', () => [new Number(1), new String('s'), new Boolean(false)]], // eslint-disable-line no-new-wrappers
  // Structured clone gives it Object.prototype (as postMessage and child_process do).
  ['an object without a prototype', () => Object.assign(Object.create(null), { x: 1 }), () => ({ x: 1 })],
  ['a small plain object (sent as JSON)', () => ({ i: 1, s: 'hello', list: [1, 2.5, true, null] })],
  ['a long string in an object', () => ({ s: 'z'.repeat(100000), u: '€'.repeat(30000) })],
  ['binary values of every size', () => ({ small: Buffer.from('ab'), big: Buffer.alloc(200000, 3), f: new Float64Array(20000).fill(-0), ab: new ArrayBuffer(70000) })],
];

// Every row has three items, so that Jest does not take the test's third parameter for `done`.
const ROWS = VALUES.map(([name, make, arrives]) => [name, make, arrives || null]);

describe("serialization: 'advanced'", () => {
  let p;
  const runArg = { m: new Map([[1n, new Date(5)]]), e: new TypeError('x'), u: undefined };
  beforeAll(() => {
    p = echoer('advanced', runArg);
  });
  afterAll(endAll);

  test('run() arguments', async () => {
    expect(await p.runSeen).toEqual(fingerprint(runArg));
  });

  test.each(ROWS)('%s at the top level, every way', async (_, make, arrives) => {
    const value = make();
    const expected = fingerprint(arrives ? arrives() : value);
    for (const [way, seen] of await travel(p, value)) expect([way, seen]).toEqual([way, expected]);
    expect(p.errors).toEqual([]);
  });

  test.each(ROWS)('%s nested, every way', async (_, make, arrives) => {
    const inner = make();
    const value = { outer: [0, { value: inner }], after: new Set(['x']) };
    const expected = fingerprint({ outer: [0, { value: arrives ? arrives() : inner }], after: new Set(['x']) });
    for (const [way, seen] of await travel(p, value)) expect([way, seen]).toEqual([way, expected]);
  });

  test('an error arrives as its built-in class, with its name, message, stack, cause and properties', async () => {
    const sent = new ValidationError('too young', { cause: new Error('root cause') });
    const back = await p.child.call('echo', sent);
    expect(back).toBeInstanceOf(RangeError);
    expect(back.name).toBe('ValidationError');
    expect(back.message).toBe('too young');
    expect(back.stack).toBe(sent.stack);
    expect(back.cause.message).toBe('root cause');
    expect(back.code).toBe('E_VALIDATION');
    expect(back.details.limits.get('min')).toBe(0n);
  });
});

// The CALL and EVENT arrays are built by lib/shared/codec.js in both processes. V8's serializer
// writes an array of holey elements kind in its sparse form (each element after its index), so
// an array made with `new Array(n)` travels larger and is read back through the slow path.
describe("serialization: 'advanced', the arrays of calls and events", () => {
  const v8 = require('v8');
  const { Codec, decodePacked } = require('../../lib/shared/codec');
  const { unpack } = require('../../lib/shared/packed');
  const ARGS = [undefined, null, 2n, new Map([[1, 'one']]), [4, undefined], 'five', -0, NaN, new Date(8), { nine: undefined }];

  test.each([1, 2, 3, 4, 10])('with %i arguments: the dense array V8 writes for [id, name, ...args] / [name, ...args], and the same values back', (n) => {
    const codec = new Codec('advanced');
    const args = ARGS.slice(0, n);
    for (const [payload, array] of [
      [codec.call(12345, 'method', args, 'test'), [12345, 'method', ...args]],
      [codec.event('progress', args, 'test'), ['progress', ...args]],
    ]) {
      const [section] = unpack(payload.payload).sections;
      expect(section.equals(v8.serialize(array))).toBe(true);
      expect(decodePacked(payload.payload, true).value).toEqual(array);
    }
  });
});
