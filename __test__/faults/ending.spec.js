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
// socket does not take goes to the stream as a copy, since the next write (here the exit hook's,
// which writes the frames queued behind it) encodes into the same buffer.
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
