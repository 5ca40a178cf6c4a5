'use strict';
// A child that writes malformed PACKED frames: a protocol error, the child killed, the parent
// unharmed, and nothing allocated beyond what arrived.

const { outcome, endAll } = require('../helpers');

afterEach(endAll);

const align8 = (n) => (n + 7) & ~7;

/** A PACKED frame: header, layout (docs/protocol.md), sections; `count` overrides the section count. */
function packed(kind, format, flags, sections, count = sections.length) {
  const table = Buffer.alloc(8 + 4 * sections.length);
  table[0] = kind;
  table[1] = format;
  table[2] = flags;
  table.writeUInt32BE(count, 4);
  const parts = [table, Buffer.alloc(align8(table.length) - table.length)];
  let at = align8(table.length);
  sections.forEach((section, i) => {
    table.writeUInt32BE(section.length, 8 + 4 * i);
    parts.push(Buffer.alloc(align8(at) - at), section);
    at = align8(at) + section.length;
  });
  const payload = Buffer.concat(parts);
  const header = Buffer.alloc(5);
  header.writeUInt32BE(payload.length);
  header[4] = 0x0b;
  return Buffer.concat([header, payload]).toString('hex');
}

function writer(hex) {
  // eslint-disable-next-line no-new-func
  return new Function(`require('fs').writeSync(3, Buffer.from('${hex}', 'hex')); setInterval(() => {}, 1000);`);
}

const json = (value) => Buffer.from(JSON.stringify(value));

test.each([
  ['an unknown format', packed(1, 9, 0, [json([1, []])]), 'a packed payload has unknown format 9'],
  ['a kind the child does not send', packed(6, 1, 0, [json([[], []])]), 'a packed payload stands for frame kind 6, which the child does not send'],
  ['a section count past the payload', packed(1, 1, 0, [json([1, []])], 100000000), 'a packed payload announces 100000000 sections'],
  ['JSON that does not parse', packed(1, 1, 0, [Buffer.from('{nope')]), 'the JSON of a packed payload is not valid'],
  ['a patch path that leads nowhere', packed(1, 1, 0, [json([{ a: null }, [['Buffer', ['b', 'c']]]]), Buffer.from('x')]), 'patch 0 of a packed payload has a path that leads nowhere'],
  ['a patch into the prototype', packed(1, 1, 0, [json([{}, [['Buffer', ['__proto__']]]]), Buffer.from('x')]), 'patch 0 of a packed payload has a path that leads nowhere'],
  ['a string section that is not UTF-8', packed(1, 1, 0, [json([null, [['string', []]]]), Buffer.from([0xff, 0xfe])]), 'a string section is not valid UTF-8'],
  ['a Float64Array of 7 bytes', packed(1, 1, 0, [json([null, [['Float64Array', []]]]), Buffer.alloc(7)]), 'a Float64Array section of 7 bytes is not a whole number of elements'],
  ['an unknown section type', packed(1, 1, 0, [json([null, [['Function', []]]]), Buffer.alloc(1)]), 'a packed payload has a section of unknown type "Function"'],
  ['structured-clone bytes that are garbage', packed(1, 2, 0, [Buffer.from('ff0f6f22ffffffff0f', 'hex')]), 'a structured-clone payload is malformed'],
  ['an event whose name is reserved', packed(7, 1, 0, [json([['exit', 1], []])]), 'an event has the wrong shape'],
])('%s', async (_, hex, detail) => {
  const before = process.memoryUsage().rss;
  const { events, exit, pid } = await outcome(writer(hex));
  expect(events).toEqual([['error', 'ERR_PROCLET_PROTOCOL', expect.stringContaining(`proclet: child process ${pid} broke the message protocol (${detail}`)]]);
  expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
  expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
});
