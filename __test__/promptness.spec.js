'use strict';
// A message leaves when it is sent, in both directions, even if the sender's JS thread then
// blocks: nothing waits for the end of a tick the sender spends working. Each test blocks the
// sender synchronously (Atomics.wait) until the receiver shows, through a file, that the message
// arrived; a message held back for the end of the tick never arrives, and the test fails at its
// bound instead of passing late. No test measures how long anything took.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { proclet, nextMessages, endAll } = require('./helpers');

afterEach(endAll);

/** How long a blocked sender waits for the receiver's sign before the test counts it lost. */
const PATIENCE_MS = 20000;

let dir;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proclet-prompt-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Blocks this thread until `file` exists; false after PATIENCE_MS. */
function blockUntilExists(file) {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + PATIENCE_MS;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) return false;
    Atomics.wait(cell, 0, 0, 5);
  }
  return true;
}

/** Resolves with `promise`, or rejects saying `what` did not happen within PATIENCE_MS. */
function within(promise, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${PATIENCE_MS} ms`)), PATIENCE_MS);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

describe('child -> parent', () => {
  test('a message sent right before the child blocks forever arrives', async () => {
    const p = proclet(function () {
      this.send('sent before blocking');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    });
    p.run();
    expect(await within(nextMessages(p, 1), 'the message')).toEqual(['sent before blocking']);
    p.kill('SIGKILL');
    expect(await p.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });

  test('progress sent between synchronous steps arrives before the next step ends', async () => {
    // One synchronous loop: update k, then step k+1 blocks until the parent has update k.
    const p = proclet(function () {});
    p.child.on('message', function (dir) {
      const fs = require('fs');
      const path = require('path');
      const cell = new Int32Array(new SharedArrayBuffer(4));
      for (let k = 0; k < 5; k++) {
        this.send(k);
        const deadline = Date.now() + 20000;
        do {
          if (Date.now() > deadline) return this.send(`update ${k} did not arrive while the child worked`);
          Atomics.wait(cell, 0, 0, 5);
        } while (!fs.existsSync(path.join(dir, `ack-${k}`)));
      }
      this.send('all steps done');
    });
    p.parent.on('message', (k) => {
      if (typeof k === 'number') fs.writeFileSync(path.join(dir, `ack-${k}`), '');
    });
    p.run();
    p.parent.send(dir);
    expect(await within(nextMessages(p, 6), 'the updates')).toEqual([0, 1, 2, 3, 4, 'all steps done']);
  });
});

describe('parent -> child', () => {
  test('a message sent right before the parent blocks arrives while it is blocked', async () => {
    const p = proclet(function () {
      this.send('ready');
    });
    p.child.on('message', function (file) {
      require('fs').writeFileSync(file, 'received');
    });
    p.run();
    await within(nextMessages(p, 1), 'ready');
    const file = path.join(dir, 'received');
    p.parent.send(file);
    expect(blockUntilExists(file)).toBe(true);
  });

  test('a message sent right after run() arrives while the parent is blocked', async () => {
    const p = proclet(function () {});
    p.child.on('message', function (file) {
      require('fs').writeFileSync(file, 'received');
    });
    p.run();
    const file = path.join(dir, 'received');
    p.parent.send(file);
    expect(blockUntilExists(file)).toBe(true);
  });

  test('updates sent between synchronous steps each arrive before the next step ends', async () => {
    const p = proclet(function () {});
    p.child.on('message', function ({ dir, k }) {
      require('fs').writeFileSync(require('path').join(dir, `ack-${k}`), '');
    });
    p.run();
    const acknowledged = [];
    for (let k = 0; k < 5 && !acknowledged.includes(false); k++) {
      p.parent.send({ dir, k });
      acknowledged.push(blockUntilExists(path.join(dir, `ack-${k}`)));
    }
    expect(acknowledged).toEqual([true, true, true, true, true]);
  });
});
