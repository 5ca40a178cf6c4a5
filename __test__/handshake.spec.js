'use strict';
// The foundation under every feature: the child starts from a READY/INIT handshake (not from
// argv), both processes take their numbers from one table in Rust, and both word their errors
// from one module.

const fs = require('fs');
const path = require('path');
const { proclet, nextMessages, endAll, outcome } = require('./helpers');
const protocol = require('../lib/shared/protocol');

afterEach(endAll);

test("the child's process.argv is [node, script]: nothing of proclet's travels there", async () => {
  const p = proclet(function () {
    this.send(process.argv);
  });
  p.run();
  const [argv] = await nextMessages(p, 1);
  expect(argv).toHaveLength(2);
  expect(argv[0]).toBe(process.execPath);
  expect(path.basename(argv[1])).toMatch(/^[0-9a-f]{128}\.cjs$/);
});

test("the child runtime's numbers are the addon's: one table, two readers", async () => {
  expect(Object.keys(protocol.FrameKind).sort()).toEqual(["Call", "Cancel", "Coverage", "Error", "Event", "From", "Handler", "Init", "Message", "Packed", "Ready", "Result", "Text", "To"]);
  expect(protocol.MAX_PAYLOAD).toBe(2 ** 29 - 24);
  const p = proclet(function () {
    this.send(process.argv[1]);
  });
  p.run();
  const [script] = await nextMessages(p, 1);
  // The generated module sits in the cached script as the first bundled module.
  const text = fs.readFileSync(script, 'utf8');
  const body = /"lib\/shared\/protocol\.js": \(function \(module, exports, require\) \{\n([\s\S]*?)\n {2}\}\),\n/.exec(text)[1];
  const module = { exports: {} };
  new Function('module', body)(module);
  expect(module.exports).toEqual({ ...protocol });
});

test('the same error is worded the same way in the parent and in the child', async () => {
  const p = proclet(function () {
    try {
      this.send(() => {});
    } catch (e) {
      this.send([e.name, e.code, e.message]);
    }
  });
  p.run();
  let parentError;
  try {
    p.parent.send(() => {});
  } catch (e) {
    parentError = e;
  }
  const [[name, code, message]] = await nextMessages(p, 1);
  expect([name, code]).toEqual([parentError.name, parentError.code]);
  expect(message).toBe(parentError.message.replace('parent.send(message)', 'this.send(message)'));
  expect(message).toBe(
    "proclet: this.send(message): message is a function. With serialization: 'json' a message holds JSON values and binary data (Buffer, TypedArray, DataView, ArrayBuffer).",
  );
});

test('a second READY from the child is a protocol error', async () => {
  const { events, exit, pid } = await outcome(function () {
    this.send('before');
    setTimeout(() => {
      require('fs').writeSync(3, Buffer.from([0, 0, 0, 0, 0x05]));
      setInterval(() => {}, 1000);
    }, 20);
  });
  expect(events).toEqual([
    ['message', 'before'],
    ['error', 'ERR_PROCLET_PROTOCOL', `proclet: child process ${pid} broke the message protocol (READY was sent twice); it has been killed.`],
  ]);
  expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
});

test.each([
  ['INIT', 0x06],
  ['HANDLER', 0x03],
])('a frame only the parent sends (%s) coming from the child is a protocol error', async (_, kind) => {
  const p = proclet(function () {});
  p.child.on('message', function (k) {
    require('fs').writeSync(3, Buffer.from([0, 0, 0, 2, k, 0x7b, 0x7d]));
  });
  const errors = [];
  p.parent.on('error', (e) => errors.push([e.code, e.message]));
  p.run();
  p.parent.send(kind);
  const exit = await p.exited;
  expect(errors).toEqual([['ERR_PROCLET_PROTOCOL', expect.stringContaining(`unexpected frame kind 0x0${kind.toString(16)}`)]]);
  expect(exit.signal).toBe('SIGKILL');
});

test('READY with a payload is a protocol error', async () => {
  const { events } = await outcome(function () {
    require('fs').writeSync(3, Buffer.from([0, 0, 0, 1, 0x05, 0x21]));
    setInterval(() => {}, 1000);
  });
  expect(events).toEqual([['error', 'ERR_PROCLET_PROTOCOL', expect.stringContaining('frame kind 0x05 carries no payload, got 1 bytes')]]);
});
