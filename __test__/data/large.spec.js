'use strict';
// A 64 MiB Buffer arrives intact both ways, in both modes.

const crypto = require('crypto');
const { Proclet, track, nextMessages, endAll } = require('../helpers');

afterEach(endAll);

const SIZE = 64 * 1024 * 1024;
const digest = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

test.each([['json'], ['advanced']])("serialization: '%s': a 64 MiB Buffer, parent -> child -> parent", async (serialization) => {
  const sent = crypto.randomBytes(1024).toString('hex').repeat(SIZE / 2048);
  const buffer = Buffer.from(sent, 'latin1');
  const p = track(new Proclet(function () {}, { serialization }));
  p.child.on('message', function (m) {
    const hash = require('crypto').createHash('sha256').update(m.data).digest('hex');
    this.send({ hash, isBuffer: Buffer.isBuffer(m.data), length: m.data.length });
    this.send({ data: m.data });
  });
  p.run();
  p.parent.send({ data: buffer });
  const [there, back] = await nextMessages(p, 2);
  expect(there).toEqual({ hash: digest(buffer), isBuffer: true, length: SIZE });
  expect(Buffer.isBuffer(back.data)).toBe(true);
  expect(back.data.length).toBe(SIZE);
  expect(digest(back.data)).toBe(digest(buffer));
});
