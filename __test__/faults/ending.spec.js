'use strict';
// What reaches the parent and the terminal when a child ends: this.close() and an uncaught error
// let stdout and stderr drain first; process.exit() right after a large send still delivers it;
// and a message that really is cut off is reported as what happened, not as a kill.

const { alive, proclet, track, endAll, runNode, fixture, Proclet } = require('../helpers');

afterEach(endAll);

describe("the child's stdout and stderr, piped, with 20,000 lines each", () => {
  const lines = (text, prefix) => text.split('\n').filter((line) => line.startsWith(prefix)).length;

  test.each([
    ['this.close(0)', 'close', 'exit 0'],
    ['an uncaught error', 'throw', 'exit 1'],
    ['returning', 'return', 'exit 0'],
  ])('%s: every line arrives', async (_, end, exitLine) => {
    const result = await runNode([fixture('output-then-end.js'), end], { timeoutMs: 60000 });
    expect(result.hung).toBe(false);
    expect(lines(result.stdout, 'out ')).toBe(20000);
    expect(lines(result.stderr, 'err ')).toBe(20000);
    expect(result.stdout).toContain(`\n${exitLine}\n`);
    if (end === 'throw') expect(result.stdout).toContain('error: thrown after the output');
  });
});

describe('process.exit() in the child', () => {
  test('a turn after a 512 KiB send, while the parent reads: delivered, 20 times in a row', async () => {
    const outcomes = [];
    for (let run = 0; run < 20; run++) {
      const p = proclet(function () {});
      p.child.on('message', function () {
        this.send('y'.repeat(524288));
        setImmediate(() => process.exit(0));
      });
      const events = [];
      p.parent.on('message', (m) => events.push(m === 'y'.repeat(524288) ? 'the 512 KiB message' : `${m.length} characters`));
      p.parent.on('error', (e) => events.push(e.message));
      p.run();
      p.parent.send('go');
      events.push(await p.exited);
      outcomes.push(events);
    }
    const expected = ['the 512 KiB message', { code: 0, signal: null }];
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => expected));
  });

  test("a turn after a 4 MiB send, while the parent's thread is blocked for 2 s: delivered once it reads", async () => {
    const p = proclet(function () {
      this.send('ready');
    });
    p.child.on('message', function () {
      this.send('z'.repeat(4 << 20));
      setImmediate(() => process.exit(0));
    });
    const events = [];
    p.parent.on('message', (m) => events.push(m === 'ready' ? m : m.length));
    p.parent.on('error', (e) => events.push(e.message));
    p.run();
    await new Promise((resolve) => p.parent.once('message', resolve));
    p.parent.send('go');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(events).toEqual(['ready', 4 << 20]);
  });

  test('a parent that reads nothing past the 5 s bound: the child gives up and exits, and the cut-off message is reported as lost, not as a kill', async () => {
    const p = proclet(function () {
      this.send('ready');
    });
    p.child.on('message', function () {
      this.send('z'.repeat(4 << 20));
      setImmediate(() => process.exit(0));
    });
    const events = [];
    p.parent.on('message', (m) => events.push(m === 'ready' ? m : m.length));
    p.parent.on('error', (e) => events.push([e.code, e.message]));
    p.run();
    await new Promise((resolve) => p.parent.once('message', resolve));
    p.parent.send('go');
    // This thread reads nothing until the child is gone: it can only get there by giving up,
    // and its last frame is then cut.
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + 30000;
    while (alive(p.pid) && Date.now() < deadline) Atomics.wait(cell, 0, 0, 10);
    expect(alive(p.pid)).toBe(false);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(events).toEqual([
      'ready',
      [
        'ERR_PROCLET_PROTOCOL',
        expect.stringMatching(
          new RegExp(`^proclet: child process ${p.pid} exited \\(code 0\\) in the middle of sending a message \\(stream ended inside a frame \\(\\d+ of ${(4 << 20) + 5} bytes received\\)\\); that message is lost\\.`),
        ),
      ],
    ]);
    expect(events[1][1]).not.toMatch(/killed/);
  });
});

// The child's writer encodes a tick's burst of up to 64 KiB into one reused buffer; what the
// socket does not take goes to the stream from that buffer, without a copy, so nothing may be
// encoded into it until the stream has written it (the exit hook writes that part first, then
// the frames queued behind it).
describe('a burst the socket took only part of, then more sends, then the end', () => {
  const frame = (i) => String(i).padStart(8, '0') + String.fromCharCode(97 + (i % 26)).repeat(992);

  test.each([
    ['process.exit(0)', 'exit', { code: 0, signal: null }],
    ['this.close()', 'close', { code: 0, signal: null }],
    ['an uncaught throw', 'throw', { code: 1, signal: null }],
  ])('%s: every message arrives, in order and unaltered', async (_, end, exit) => {
    const p = track(
      new Proclet(
        function (end) {
          this.on('message', function () {
            // The channel's socket: its writableLength says when a write was only partly taken.
            const channel = process._getActiveHandles().find((h) => h._handle && h._handle.fd === 3);
            const frame = (i) => String(i).padStart(8, '0') + String.fromCharCode(97 + (i % 26)).repeat(992);
            let i = 0;
            const tick = () => {
              // 50 KB a tick, under 64 KiB: encoded into the reused buffer.
              for (let k = 0; k < 50; k++) this.send(frame(i++));
              if (channel.writableLength === 0) return setImmediate(tick);
              // The last tick's write was partly taken; this tick's frames and these wait behind it.
              for (let k = 0; k < 5; k++) this.send(frame(i++));
              this.send({ sent: i });
              process.stdout.write('stalled\n');
              if (end === 'exit') process.exit(0);
              if (end === 'close') this.close();
              if (end === 'throw') throw new Error('thrown after the burst');
            };
            tick();
          });
        },
        { stdio: 'pipe' },
      ),
    );
    p.parent.on('error', () => {});
    // Unread, this stops the parent reading the channel once 1,000 messages wait: the child's
    // socket fills. Read from when the child says it stalled.
    const messages = p.parent.messages();
    const stalled = new Promise((resolve) => {
      let out = '';
      p.parent.on('stdout', (chunk) => {
        out += chunk;
        if (out.includes('stalled\n')) resolve();
      });
    });
    p.run(end);
    p.parent.send('go');
    await stalled;
    const got = [];
    for await (const message of messages) got.push(message);
    const last = got.pop();
    expect(last).toEqual({ sent: got.length });
    expect(got.findIndex((message, i) => message !== frame(i))).toBe(-1);
    expect(await p.exited).toEqual(exit);
  });
});

// The same partly taken write from the reused buffer, behind it frames of every kind (messages,
// events carrying Buffers, a call's result), then this.flush(), more sends, and each other end.
describe('a partly taken burst, frames of every kind behind it, then the end', () => {
  const frame = (i) => String(i).padStart(8, '0') + String.fromCharCode(97 + (i % 26)).repeat(992);

  test.each([
    ['process.exit(3) in a handler, this.flush() not awaited', 'exit', { code: 3, signal: null }],
    ['this.close(4) after an awaited this.flush()', 'close', { code: 4, signal: null }],
    ["SIGTERM with the child's own listener, which sends more and closes", 'sigterm', { code: 0, signal: null }],
    ["p.stop(), whose 'stop' handler sends more", 'stop', { code: 0, signal: null }],
  ])('%s: everything arrives once, in order, unaltered', async (_, end, exit) => {
    const p = track(
      new Proclet(
        function (end) {
          const frame = (i) => String(i).padStart(8, '0') + String.fromCharCode(97 + (i % 26)).repeat(992);
          let i = 0;
          // Every 7th frame is an event with a Buffer (a PACKED frame), the rest messages.
          const sendOne = () => {
            const n = i++;
            if (n % 7 === 6) this.emit('bin', n, Buffer.from(frame(n)));
            else this.send(frame(n));
          };
          const finish = () => {
            for (let k = 0; k < 10; k++) sendOne();
            this.send({ sent: i });
          };
          this.expose({ echo: (n) => frame(n) });
          if (end === 'sigterm') {
            process.on('SIGTERM', () => {
              finish();
              this.close(0);
            });
          }
          this.on('stop', finish);
          this.on('message', async function () {
            const channel = process._getActiveHandles().find((h) => h._handle && h._handle.fd === 3);
            for (;;) {
              // 30 KB a tick, and what waits behind a partly taken write at the end (30 + 5 + 11
              // frames) is under 64 KiB too: encoded into the reused buffer.
              for (let k = 0; k < 30; k++) sendOne();
              if (channel.writableLength > 0) break;
              await new Promise((resolve) => setImmediate(resolve));
            }
            for (let k = 0; k < 5; k++) sendOne();
            process.stdout.write('stalled\n');
            if (end === 'close') await this.flush();
            else this.flush();
            if (end === 'exit' || end === 'close') {
              finish();
              if (end === 'exit') process.exit(3);
              this.close(4);
            }
          });
        },
        { stdio: 'pipe' },
      ),
    );
    const errors = [];
    p.parent.on('error', (error) => errors.push(error));
    const events = [];
    p.parent.on('bin', (n, bytes) => events.push([n, bytes]));
    const messages = p.parent.messages();
    const stalled = new Promise((resolve) => {
      let out = '';
      p.parent.on('stdout', (chunk) => {
        out += chunk;
        if (out.includes('stalled\n')) resolve();
      });
    });
    p.run(end);
    p.parent.send('go');
    await stalled;
    const result = end === 'sigterm' || end === 'stop' ? p.child.call('echo', 12345) : null;
    if (end === 'sigterm') p.kill('SIGTERM');
    const stopped = end === 'stop' ? p.stop() : null;
    const got = [];
    for await (const message of messages) got.push(message);
    const last = got.pop();
    const sent = last.sent;
    expect(typeof sent).toBe('number');
    const wantMessages = [];
    const wantEvents = [];
    for (let n = 0; n < sent; n++) {
      if (n % 7 === 6) wantEvents.push(n);
      else wantMessages.push(frame(n));
    }
    expect(got.length).toBe(wantMessages.length);
    expect(got.findIndex((message, k) => message !== wantMessages[k])).toBe(-1);
    expect(events.map(([n]) => n)).toEqual(wantEvents);
    expect(events.findIndex(([n, bytes]) => !Buffer.isBuffer(bytes) || bytes.toString() !== frame(n))).toBe(-1);
    if (result !== null) expect(await result).toBe(frame(12345));
    expect(await p.exited).toEqual(exit);
    if (stopped !== null) expect(await stopped).toEqual(exit);
    expect(errors).toEqual([]);
  });
});
