'use strict';
// A child that writes garbage, lies about frame sizes or stops mid-frame: the parent reports a
// protocol error, the child is ended, and the parent lives on.

const { proclet, outcome, endAll } = require('../helpers');

afterEach(endAll);

test('garbage on fd 3', async () => {
  const { events, exit, pid } = await outcome(function () {
    this.send('before');
    setTimeout(() => {
      require('fs').writeSync(3, 'this is not a frame');
      setInterval(() => {}, 1000);
    }, 20);
  });
  expect(events).toEqual([
    ['message', 'before'],
    ['error', 'ERR_PROCLET_PROTOCOL', `proclet: child process ${pid} broke the message protocol (unexpected frame kind 0x20); it has been killed.`],
  ]);
  expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
});

test('a header claiming a 4 GiB frame is refused without allocating it', async () => {
  const before = process.memoryUsage().rss;
  const { events, exit } = await outcome(function () {
    require('fs').writeSync(3, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01, 0x22]));
    setInterval(() => {}, 1000);
  });
  expect(events).toEqual([['error', 'ERR_PROCLET_PROTOCOL', expect.stringContaining('frame of 4294967295 bytes exceeds the maximum of 536870888 bytes')]]);
  expect(exit.signal).toBe('SIGKILL');
  expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
});

test('a frame that stops in the middle, then the child exits: reported as a lost message, not a kill', async () => {
  const { events, exit, pid } = await outcome(function () {
    this.send('complete');
    setTimeout(() => {
      const header = Buffer.from([0, 0, 0, 100, 0x01]);
      require('fs').writeSync(3, Buffer.concat([header, Buffer.from('"only part')]));
      process.reallyExit(0);
    }, 20);
  });
  expect(events).toEqual([
    ['message', 'complete'],
    [
      'error',
      'ERR_PROCLET_PROTOCOL',
      `proclet: child process ${pid} exited (code 0) in the middle of sending a message (stream ended inside a frame (15 of 105 bytes received)); ` +
        'that message is lost. A child that calls process.exit() while the parent does not read loses what it could not write; this.close(code) delivers everything first.',
    ],
  ]);
  expect(exit).toEqual({ code: 0, signal: null });
});

test('a frame cut off by a kill the parent sent is no error: the kill explains it', async () => {
  const p = proclet(function () {
    // One write: a complete TEXT frame 'ready', then the first 15 of a frame's 105 bytes.
    const ready = Buffer.concat([Buffer.from([0, 0, 0, 5, 0x04]), Buffer.from('ready')]);
    const part = Buffer.concat([Buffer.from([0, 0, 0, 100, 0x01]), Buffer.from('"only part')]);
    require('fs').writeSync(3, Buffer.concat([ready, part]));
    setInterval(() => {}, 1000);
  });
  const events = [];
  p.parent.on('message', (m) => {
    events.push(['message', m]);
    p.kill('SIGTERM');
  });
  p.parent.on('error', (e) => events.push(['error', e.code, e.message]));
  p.run();
  expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' });
  expect(events).toEqual([['message', 'ready']]);
});

test('a well-framed message that is not JSON', async () => {
  const { events, exit } = await outcome(function () {
    const body = Buffer.from('{not json');
    const header = Buffer.alloc(5);
    header.writeUInt32BE(body.length);
    header[4] = 0x01;
    require('fs').writeSync(3, Buffer.concat([header, body]));
    setInterval(() => {}, 1000);
  });
  expect(events).toEqual([['error', 'ERR_PROCLET_PROTOCOL', expect.stringContaining('a message is not valid JSON')]]);
  expect(exit.signal).toBe('SIGKILL');
});

test('a frame kind the parent does not accept from a child', async () => {
  const { events } = await outcome(function () {
    require('fs').writeSync(3, Buffer.from([0, 0, 0, 2, 0x03, 0x7b, 0x7d]));
    setInterval(() => {}, 1000);
  });
  expect(events).toEqual([['error', 'ERR_PROCLET_PROTOCOL', expect.stringContaining('unexpected frame kind 0x03')]]);
});

test('invalid UTF-8 in a payload', async () => {
  const { events } = await outcome(function () {
    require('fs').writeSync(3, Buffer.from([0, 0, 0, 3, 0x01, 0x22, 0xff, 0x22]));
    setInterval(() => {}, 1000);
  });
  expect(events).toEqual([['error', 'ERR_PROCLET_PROTOCOL', expect.stringContaining('not valid UTF-8')]]);
});

// RESULT's text form (docs/protocol.md): `<id>,1[,<JSON>]` or `<id>,0,<JSON Thrown>`. A forged
// one of another shape is refused; a well-formed one for no pending call is dropped.
test.each([
  ['JSON that does not parse', '7,1,{nope', 'a call result is not valid JSON'],
  ['an id that is not a number', 'x,1,5', 'a call result has the wrong shape'],
  ['an id with a leading zero', '07,1,5', 'a call result has the wrong shape'],
  ['an id of 0', '0,1,5', 'a call result has the wrong shape'],
  ['an id past the safe integers', '99999999999999999,1,5', 'a call result has the wrong shape'],
  ['a status other than 0 and 1', '7,2,5', 'a call result has the wrong shape'],
  ['a thrown value that is not an object', '7,0,5', 'a call result has the wrong shape'],
  ['a throw without its value', '7,0', 'a call result has the wrong shape'],
  ['no comma after the status', '7,15', 'a call result has the wrong shape'],
  ['the JSON array form', '[7,1,5]', 'a call result has the wrong shape'],
])('a forged RESULT with %s is a protocol error', async (_, text, detail) => {
  const { events, exit } = await outcome(
    new Function(`
      const body = Buffer.from(${JSON.stringify(text)});
      const header = Buffer.alloc(5);
      header.writeUInt32BE(body.length);
      header[4] = 0x09;
      require('fs').writeSync(3, Buffer.concat([header, body]));
      setInterval(() => {}, 1000);
    `),
  );
  expect(events).toEqual([['error', 'ERR_PROCLET_PROTOCOL', expect.stringContaining(`(${detail}`)]]);
  expect(exit.signal).toBe('SIGKILL');
});

test('a well-formed RESULT for a call that is not pending is dropped', async () => {
  const { events, exit } = await outcome(function () {
    const body = Buffer.from('7,1,{"late":true}');
    const header = Buffer.alloc(5);
    header.writeUInt32BE(body.length);
    header[4] = 0x09;
    require('fs').writeSync(3, Buffer.concat([header, body]));
    this.send('after');
    this.close();
  });
  expect(events).toEqual([['message', 'after']]);
  expect(exit).toEqual({ code: 0, signal: null });
});
