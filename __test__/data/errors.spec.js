'use strict';
// Values that cannot travel: a TypeError ERR_PROCLET_INVALID_MESSAGE, thrown synchronously by
// the sender, naming the path to the bad value; nothing is sent.

const { Proclet, track, nextMessages, endAll } = require('../helpers');

afterEach(endAll);

const JSON_HINT = "With serialization: 'json' a message holds JSON values and binary data (Buffer, TypedArray, DataView, ArrayBuffer).";
const ADV_HINT =
  "With serialization: 'advanced' a message holds what structured clone carries: JSON values, undefined, BigInt, Map, Set, Date, RegExp, Error, binary data, plain objects and arrays (cycles allowed).";

class Point {
  #x = 1;
  get x() {
    return this.#x;
  }
}

function thrown(fn) {
  try {
    fn();
  } catch (error) {
    return [error.name, error.code, error.message];
  }
  return null;
}

test.each([
  ['json', () => ({ items: [0, 1, 2, { fn() {} }] }), `proclet: parent.send(message): message.items[3].fn is a function. ${JSON_HINT}`],
  ['json', () => ({ a: { 'odd key': Symbol('s') } }), `proclet: parent.send(message): message.a["odd key"] is a symbol. ${JSON_HINT}`],
  ['json', () => ({ n: [1n] }), `proclet: parent.send(message): message.n[0] is a BigInt, which JSON cannot carry; use serialization: 'advanced'. ${JSON_HINT}`],
  ['json', () => { const o = { list: [] }; o.list.push(o); return o; }, `proclet: parent.send(message): message.list[0] is a circular reference, which JSON cannot carry; use serialization: 'advanced'. ${JSON_HINT}`],
  ['advanced', () => ({ p: new Point() }), `proclet: parent.send(message): message.p is an instance of Point: structured clone would deliver a plain object without its class or private fields (send a plain object, e.g. { ...value }). ${ADV_HINT}`],
  ['advanced', () => new Map([['k', () => {}]]), `proclet: parent.send(message): message.k is a function. ${ADV_HINT}`],
  ['advanced', () => [new Set([Symbol('x')])], `proclet: parent.send(message): message[0]["<value 0>"] is a symbol. ${ADV_HINT}`],
])("serialization: '%s': parent.send refuses, naming the path", (serialization, make, message) => {
  const p = track(new Proclet(function () {}, { serialization }));
  expect(thrown(() => p.parent.send(make()))).toEqual(['TypeError', 'ERR_PROCLET_INVALID_MESSAGE', message]);
});

test('events, calls and run() name the argument', () => {
  const p = track(new Proclet(function () {}));
  expect(thrown(() => p.child.emit('e', 1, { f: Symbol('s') }))[2]).toBe(`proclet: child.emit(event, ...args): args[1].f is a symbol. ${JSON_HINT}`);
  expect(thrown(() => p.child.call('m', () => 1))[2]).toBe(`proclet: child.call(name, ...args): args[0] is a function. ${JSON_HINT}`);
  expect(thrown(() => p.run({ a: 1n }))[2]).toBe(`proclet: run(...args): args[0].a is a BigInt, which JSON cannot carry; use serialization: 'advanced'. ${JSON_HINT}`);
});

test.each([['json'], ['advanced']])("serialization: '%s': the child's sends refuse the same way, and a result that cannot travel rejects the call", async (serialization) => {
  const p = track(
    new Proclet(
      function () {
        try {
          this.send({ deep: [{ fn: () => 1 }] });
        } catch (e) {
          this.send([e.name, e.code, e.message]);
        }
        this.expose({ bad: () => ({ fn() {} }) });
      },
      { serialization },
    ),
  );
  p.run();
  const [[name, code, message]] = await nextMessages(p, 1);
  expect([name, code]).toEqual(['TypeError', 'ERR_PROCLET_INVALID_MESSAGE']);
  expect(message).toBe(`proclet: this.send(message): message.deep[0].fn is a function. ${serialization === 'json' ? JSON_HINT : ADV_HINT}`);
  await expect(p.child.call('bad')).rejects.toMatchObject({ code: 'ERR_PROCLET_INVALID_MESSAGE', message: expect.stringContaining('a method result: result.fn is a function.') });
});

test('the serialization option is checked', () => {
  expect(() => new Proclet(function () {}, { serialization: 'v8' })).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_INVALID_OPTION', message: expect.stringContaining('serialization') }));
});
