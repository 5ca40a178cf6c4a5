'use strict';
// Deeply nested values. A value nested deeper than the sender can walk used to escape as a bare
// RangeError ("Maximum call stack size exceeded") instead of ERR_PROCLET_INVALID_MESSAGE; and
// with serialization: 'advanced', V8's serializer writes deeper values than its deserializer
// reads back (about 3100 vs 1900 levels on Node's default stack), so a value the sender accepted
// could reach the receiver as a "malformed payload" (a child that sent it was killed). Now the
// sender refuses what is too deep, naming where, and 'advanced' refuses more than 1000 levels.

const { Proclet, track, nextMessages, endAll } = require('../helpers');

afterEach(endAll);

function nested(depth, leaf) {
  const top = {};
  let at = top;
  for (let i = 1; i < depth; i++) {
    at.a = {};
    at = at.a;
  }
  at.leaf = leaf;
  return top;
}

function depthOf(value) {
  let depth = 0;
  while (value !== null && typeof value === 'object' && 'a' in value) {
    value = value.a;
    depth++;
  }
  return [depth + 1, value.leaf];
}

test.each([['json'], ['advanced']])("serialization: '%s': 10,000 levels is refused with ERR_PROCLET_INVALID_MESSAGE, and the child lives on", async (serialization) => {
  const p = track(
    new Proclet(
      function () {
        this.on('message', (m) => this.send(m));
      },
      { serialization },
    ),
  );
  p.run();
  let error;
  try {
    p.parent.send(nested(10000, Buffer.from('deep')));
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TypeError);
  expect(error.code).toBe('ERR_PROCLET_INVALID_MESSAGE');
  expect(error.message).toMatch(/^proclet: parent\.send\(message\): message\.a\.a\.a\.a\.a\.a\.a\.a… is nested /);
  p.parent.send('still here');
  expect(await nextMessages(p, 1)).toEqual(['still here']);
});

test.each([['json'], ['advanced']])("serialization: '%s': 1000 levels travel both ways, binary leaf included", async (serialization) => {
  const p = track(
    new Proclet(
      function () {
        this.on('message', (m) => this.send(m));
      },
      { serialization },
    ),
  );
  p.run();
  p.parent.send(nested(1000, Buffer.from('deep')));
  const [back] = await nextMessages(p, 1);
  expect(depthOf(back)).toEqual([1000, Buffer.from('deep')]);
});

test("serialization: 'advanced': a child sending 1001 levels gets the error instead of being killed", async () => {
  const p = track(
    new Proclet(
      function () {
        const top = {};
        let at = top;
        for (let i = 1; i < 2500; i++) at = at.a = {};
        at.leaf = 1n;
        try {
          this.send(top);
        } catch (e) {
          this.send([e.code, e.message.split(',')[0]]);
        }
      },
      { serialization: 'advanced' },
    ),
  );
  const errors = [];
  p.parent.on('error', (error) => errors.push(error));
  p.run();
  expect(await nextMessages(p, 1)).toEqual([['ERR_PROCLET_INVALID_MESSAGE', 'proclet: this.send(message): message.a.a.a.a.a.a.a.a… is nested more than 1000 levels']]);
  expect(errors).toEqual([]);
});
