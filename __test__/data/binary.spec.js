'use strict';
// serialization: 'json' (the default): binary values anywhere in a message travel as raw bytes
// and arrive as the same type with the same bytes, every way a value travels, both directions;
// long strings travel beside the JSON and arrive intact.

const { endAll } = require('../helpers');
const { echoer, travel, fingerprint } = require('./roundtrip');


const bytes = [0, 1, 2, 127, 128, 254, 255, 7];
const BINARY = [
  ['Buffer', () => Buffer.from(bytes)],
  ['Int8Array', () => new Int8Array([-128, -1, 0, 1, 127])],
  ['Uint8Array', () => new Uint8Array(bytes)],
  ['Uint8ClampedArray', () => new Uint8ClampedArray(bytes)],
  ['Int16Array', () => new Int16Array([-32768, -1, 0, 32767])],
  ['Uint16Array', () => new Uint16Array([0, 1, 65535])],
  ['Int32Array', () => new Int32Array([-(2 ** 31), -1, 0, 2 ** 31 - 1])],
  ['Uint32Array', () => new Uint32Array([0, 2 ** 32 - 1])],
  ['Float32Array', () => new Float32Array([1.5, -0, NaN, Infinity])],
  ['Float64Array', () => new Float64Array([Math.PI, -0, NaN, -Infinity])],
  ['BigInt64Array', () => new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n])],
  ['BigUint64Array', () => new BigUint64Array([0n, 2n ** 64n - 1n])],
  ['DataView', () => new DataView(Uint8Array.from(bytes).buffer, 2, 4)],
  ['ArrayBuffer', () => Uint8Array.from(bytes).buffer],
  ['an empty Buffer', () => Buffer.alloc(0)],
  ['a Buffer that is a slice of a larger one', () => Buffer.from('0123456789').subarray(3, 6)],
  ['a Float64Array at an offset', () => new Float64Array(new ArrayBuffer(64), 16, 3).fill(2.5)],
  ['a 100 KiB Buffer', () => Buffer.alloc(100 * 1024, 'ab')],
  ['a 100 KiB Float64Array', () => new Float64Array(12800).map((_, i) => i / 3)],
];

describe.each([['json'], ['advanced']])("binary values with serialization: '%s'", (mode) => {
  let p;
  beforeAll(() => {
    p = echoer(mode === 'json' ? undefined : mode, { top: Buffer.from('run'), nested: [new Uint16Array([1, 2])] });
  });
  afterAll(endAll);

  test('run() arguments', async () => {
    expect(await p.runSeen).toEqual(fingerprint({ top: Buffer.from('run'), nested: [new Uint16Array([1, 2])] }));
  });

  test.each(BINARY)('%s at the top level, every way', async (_, make) => {
    const expected = fingerprint(make());
    for (const [way, seen] of await travel(p, make())) expect([way, seen]).toEqual([way, expected]);
  });

  test.each(BINARY)('%s nested in objects and arrays, every way', async (_, make) => {
    const value = { items: [1, { v: make(), also: [make()] }], after: 'x' };
    const expected = fingerprint(value);
    for (const [way, seen] of await travel(p, value)) expect([way, seen]).toEqual([way, expected]);
  });

  test('long strings inside objects: Latin-1, UTF-8 and lone surrogates, every way', async () => {
    const value = {
      latin1: 'é'.repeat(40000),
      ascii: 'x'.repeat(70000),
      utf8: '€ 🎉 '.repeat(10000),
      lone: `${'a'.repeat(20000)}\ud800`,
      list: ['y'.repeat(20000), 'short'],
    };
    const expected = fingerprint(value);
    for (const [way, seen] of await travel(p, value)) expect([way, seen]).toEqual([way, expected]);
  });

  test('a message with many binary values keeps them all in place', async () => {
    const value = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? Buffer.from([i & 255]) : i % 3 === 1 ? { n: i } : new Uint32Array([i])));
    const expected = fingerprint(value);
    for (const [way, seen] of await travel(p, value)) expect([way, seen]).toEqual([way, expected]);
  });
});

describe("serialization: 'json' keeps JSON semantics around binary values", () => {
  afterAll(endAll);

  test('toJSON, Dates as strings, undefined dropped, Map as {}; a key named __proto__ stays a key', async () => {
    const p = echoer(undefined, null);
    await p.runSeen;
    const value = JSON.parse('{"__proto__": {"polluted": true}}');
    Object.assign(value, {
      when: new Date(0),
      custom: { toJSON: () => ({ replaced: Buffer.from('x') }) },
      gone: undefined,
      map: new Map([[1, 2]]),
      list: [undefined, Buffer.from('y')],
    });
    const [[, seen]] = await travel(p, value);
    expect(seen).toEqual(
      fingerprint({
        ['__proto__']: undefined,
        when: '1970-01-01T00:00:00.000Z',
        custom: { replaced: Buffer.from('x') },
        map: {},
        list: [null, Buffer.from('y')],
      }).constructor === Object
        ? { Object: [['__proto__', { Object: [['polluted', 'true']] }], ['when', '"1970-01-01T00:00:00.000Z"'], ['custom', { Object: [['replaced', { Buffer: '78' }]] }], ['map', { Object: [] }], ['list', { Array: 2, items: [['0', 'null'], ['1', { Buffer: '79' }]] }]] }
        : null,
    );
    expect({}.polluted).toBeUndefined();
  });
});
