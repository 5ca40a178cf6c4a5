'use strict';
// An ES module worker is imported asynchronously: what the parent sends while it loads (stop(),
// events, calls) waits for the module's default export to have run and registered its own
// handlers and methods, as it does for a CommonJS worker, which is loaded before anything is read.

const { track, endAll, Proclet } = require('../helpers');

afterEach(endAll);

test("stop() right after run(): the ES module worker's own 'stop' handler runs, and what it sends arrives", async () => {
  const p = track(new Proclet('./fixtures/graceful.mjs'));
  const messages = [];
  p.parent.on('message', (m) => messages.push(m));
  p.run();
  expect(await p.stop({ timeout: 20000 })).toEqual({ code: 0, signal: null });
  expect(messages).toEqual(['closing']);
});

test("stop() once ready: the ES module worker's own 'stop' handler runs", async () => {
  const p = track(new Proclet('./fixtures/graceful.mjs'));
  const messages = [];
  p.parent.on('message', (m) => messages.push(m));
  p.run();
  await p.ready;
  expect(await p.stop({ timeout: 20000 })).toEqual({ code: 0, signal: null });
  expect(messages).toEqual(['closing']);
});

test('events and calls sent at once reach the handlers and methods the ES module worker registers', async () => {
  const p = track(new Proclet('./fixtures/graceful.mjs'));
  const messages = [];
  p.parent.on('message', (m) => messages.push(m));
  p.run();
  p.child.emit('job', 1);
  await expect(p.child.call('double', 21)).resolves.toBe(42);
  expect(messages).toEqual([['job', 1]]);
  expect(await p.stop({ timeout: 20000 })).toEqual({ code: 0, signal: null });
  expect(messages).toEqual([['job', 1], 'closing']);
});
