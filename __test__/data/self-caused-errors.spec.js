'use strict';
// serialization: 'advanced': an Error whose `cause` leads back to itself (`e.cause = e`, two
// Errors causing each other). V8's serializer writes it, but its deserializer cannot read it back
// ("Unable to deserialize cloned data"): sent as it was, the receiver saw a malformed payload, and
// a child that sent one was killed with a protocol error. The sender refuses it instead, naming
// the path, like any value that cannot travel; nothing is sent.

const { Proclet, track, nextMessages, endAll } = require('../helpers');

afterEach(endAll);

const HINT =
  "With serialization: 'advanced' a message holds what structured clone carries: JSON values, undefined, BigInt, Map, Set, Date, RegExp, Error, binary data, plain objects and arrays (cycles allowed).";

function thrown(fn) {
  try {
    fn();
  } catch (error) {
    return [error.name, error.code, error.message];
  }
  return null;
}

test('parent.send refuses an Error that is its own cause, naming the path', () => {
  const p = track(new Proclet(function () {}, { serialization: 'advanced' }));
  const e = new Error('loop');
  e.cause = e;
  expect(thrown(() => p.parent.send({ e }))).toEqual([
    'TypeError',
    'ERR_PROCLET_INVALID_MESSAGE',
    `proclet: parent.send(message): message.e.cause is the Error that holds it, which structured clone cannot carry back (an Error inside its own cause). ${HINT}`,
  ]);
  const a = new Error('a');
  const b = new Error('b', { cause: { list: [a] } });
  a.cause = b;
  expect(thrown(() => p.child.emit('x', a))[2]).toMatch(/^proclet: child\.emit\(event, \.\.\.args\): args\[0\]\.cause\.cause\.list\[0\] is the Error that holds it/);
});

test('a child sending an Error that is its own cause gets the error and keeps running', async () => {
  const p = track(
    new Proclet(
      function () {
        const e = new Error('loop');
        e.cause = e;
        try {
          this.send({ e });
        } catch (error) {
          this.send([error.code, error.message.split('. ')[0]]);
        }
        // What V8 can read back still travels: an Error referring to itself outside its cause,
        // and an Error whose cause refers to an object holding the Error.
        const self = new Error('self');
        self.me = self;
        const holder = {};
        holder.error = new Error('held', { cause: holder });
        this.send({ self, holder });
      },
      { serialization: 'advanced' },
    ),
  );
  const errors = [];
  p.parent.on('error', (error) => errors.push(error));
  p.run();
  const [refused, sent] = await nextMessages(p, 2);
  expect(refused).toEqual(['ERR_PROCLET_INVALID_MESSAGE', 'proclet: this.send(message): message.e.cause is the Error that holds it, which structured clone cannot carry back (an Error inside its own cause)']);
  expect(sent.self.me).toBe(sent.self);
  expect(sent.holder.error.cause).toBe(sent.holder);
  expect(errors).toEqual([]);
});
