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

// A RESULT's text form puts `<id>,1,` before the value's JSON in the same frame: a value whose
// JSON alone is just under the maximum no longer fits, and must reject its call like any result
// too large, not break the protocol (the child's result) or vanish (the parent's).
test('a method result whose JSON fits the maximum only without its head rejects its call, both ways', async () => {
  const { MAX_PAYLOAD } = require('../../lib/shared/protocol');
  // An array of short strings (no packed sections) whose JSON is `bytes` bytes of UTF-8.
  function justUnder(bytes) {
    const s = 'é'.repeat(8000); // 16,002 bytes quoted, and a comma
    const count = Math.floor((bytes - 4) / 16003);
    const array = new Array(count).fill(s);
    array.push('x'.repeat(bytes - 4 - count * 16003));
    return array;
  }
  const p = track(
    new Proclet(function (bytes, justUnder) {
      const build = new Function(`return ${justUnder}`)();
      this.expose({
        big: () => build(bytes),
        askParent: () =>
          this.call('big').then(
            (v) => ['resolved', v.length],
            (e) => ['rejected', e.code, e.message],
          ),
      });
    }),
  );
  p.parent.expose({ big: () => justUnder(MAX_PAYLOAD - 1) });
  const errors = [];
  p.parent.on('error', (e) => errors.push(e));
  p.run(MAX_PAYLOAD - 1, justUnder.toString());
  const tooLarge = { code: 'ERR_PROCLET_MESSAGE_TOO_LARGE', message: expect.stringContaining('a method result: the message is') };
  await expect(p.child.call('big')).rejects.toMatchObject(tooLarge);
  const [outcome, code, message] = await p.child.call('askParent');
  expect({ outcome, code, message }).toEqual({ outcome: 'rejected', ...tooLarge });
  expect(errors).toEqual([]);
});
