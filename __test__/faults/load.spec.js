'use strict';
// Big messages, floods both ways, leaks over many runs, many at once. Memory figures are read
// from /proc in a separate parent process, so that Jest's own heap does not blur them.

const { proclet, next, endAll, runNode, fixture } = require('../helpers');

afterEach(endAll);

const MiB = 1024 * 1024;
const run = async (file, ...args) => {
  const result = await runNode([fixture('faults', file), ...args.map(String)], { timeoutMs: 120000 });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
};

describe('large messages', () => {
  test.each([64, 256])('a %i MiB JSON string arrives intact each way', async (mib) => {
    const out = await run('large.js', mib);
    expect(out).toBe('to child intact: true\nto parent intact: true\n');
  }, 120000);

  test('over the maximum (just under 512 MiB), the parent refuses it with a RangeError and stays usable', async () => {
    const p = proclet(function () {});
    p.child.on('message', function (m) {
      this.send(m);
    });
    p.run();
    // 180 M three-byte characters: 540 MB of UTF-8, within V8's string limit (sent as text).
    const huge = '\u20ac'.repeat(180 * 1000 * 1000);
    let error;
    try {
      p.parent.send(huge);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RangeError);
    expect(error.code).toBe('ERR_PROCLET_MESSAGE_TOO_LARGE');
    expect(error.message).toMatch(/540000000 bytes of UTF-8 text, over the maximum of 536870888 bytes/);
    const replied = next(p.parent, 'message');
    p.parent.send('still fine');
    expect(await replied).toEqual(['still fine']);
  }, 60000);

  test('over the maximum in the child, the child refuses it and the parent hears why', async () => {
    const p = proclet(function () {
      this.send('\u20ac'.repeat(180 * 1000 * 1000));
    });
    const errored = next(p.parent, 'error');
    p.run();
    const [error] = await errored;
    expect(error).toBeInstanceOf(RangeError);
    expect(error.code).toBe('ERR_PROCLET_MESSAGE_TOO_LARGE');
    expect(error.message).toMatch(/^proclet: this\.send\(message\): the message is \d+ bytes of UTF-8 text, over the maximum of 536870888 bytes/);
    expect((await p.exited).code).toBe(1);
  }, 60000);
});

describe('backpressure', () => {
  test('a child flooding 2,000,000 messages at a slow parent: all arrive in order, memory stays bounded', async () => {
    const stats = JSON.parse(await run('flood-to-slow-parent.js', 2000000));
    expect(stats).toMatchObject({ received: 2000000, ordered: true, code: 0 });
    // The flood carries ~200 MB of JSON; reading stops while 4 MiB wait for JS.
    expect(stats.peak - stats.baseline).toBeLessThan(150 * MiB);
  }, 120000);

  test("a parent flooding its child: send() returns false, 'drain' follows, a sender that waits stays bounded", async () => {
    const stats = JSON.parse(await run('flood-to-child.js', 1000000));
    expect(stats).toMatchObject({ received: 1000000, ordered: true });
    expect(stats.falses).toBeGreaterThan(0);
    expect(stats.drains).toBe(stats.falses);
    expect(stats.peak - stats.baseline).toBeLessThan(64 * MiB);
  }, 120000);
});

test('500 Proclets one after another: fds, threads and RSS return to their starting level', async () => {
  const { start, end } = JSON.parse(await run('leaks.js', 500));
  expect(end.fds).toBe(start.fds);
  expect(end.threads).toBe(start.threads);
  expect(end.rss - start.rss).toBeLessThan(16 * MiB);
}, 120000);

test("4,000 Proclets constructed and dropped without run(): the parent's RSS returns to its level", async () => {
  // An object literal with a getter per Proclet (`this` of the parent's exposed methods) made V8
  // grow its young generation without bound on Node 22 and 24: +30-40 MiB here, heap unchanged.
  const result = await runNode(['--expose-gc', fixture('faults', 'constructed.js'), '4000'], { timeoutMs: 120000 });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const { start, end } = JSON.parse(result.stdout);
  expect(end - start).toBeLessThan(16 * MiB);
}, 120000);

test('200 Proclets at once, each exchanging 100 messages each way, all correct', async () => {
  const stats = JSON.parse(await run('many.js', 200));
  expect(stats.total).toBe(200);
  expect(stats.bad).toEqual([]);
}, 120000);
