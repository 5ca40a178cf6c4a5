'use strict';
// What the child's handlers receive for an event, now that the frame's parsed array becomes
// their arguments in place ([event, ...args] -> [...args, from], runtime/handlers.js
// dispatchParsed): every handler of the event (exact name, '*' and '**' patterns) gets exactly
// the arguments sent, then the sender id, whatever the count; a handler that reassigns its
// arguments changes nothing for the next; an onAny added later gets the name first; PACKED
// arguments (Buffers, typed arrays) and 'advanced' values (Map, Set, Date, undefined) too.

const { track, endAll, Proclet } = require('../helpers');

jest.setTimeout(20000);
afterEach(endAll);

/** Resolves with the next `count` 'got' events (each `[tag, ...args]`, the worker id dropped). */
function collect(p, count) {
  return new Promise((resolve) => {
    const got = [];
    p.parent.on('got', (...args) => {
      got.push(args);
      if (got.length === count) resolve(got);
    });
  });
}

const ARGUMENT_LISTS = [
  [],
  [null],
  [1, 'two'],
  [{ a: [1, { b: null }] }, [3, [4]], 'x', true, -0.5],
  Array.from({ length: 20 }, (_, i) => ({ i, s: `v${i}` })),
];

test("several handlers (p.child.on before run, this.on in the worker, '*' and '**' patterns) each get the arguments sent, then 0; reassigning them in one handler changes nothing for the next", async () => {
  const p = track(
    new Proclet(
      function () {
        this.on('job.run', function (...args) {
          this.emit('got', 'worker', ...args);
        });
        this.on('job.*', function (...args) {
          this.emit('got', 'star', ...args);
          args[0] = 'changed';
        });
        this.on('**', function (...args) {
          this.emit('got', 'globstar', ...args);
        });
      },
      { wildcard: true },
    ),
  );
  p.child.on('job.run', function (...args) {
    this.emit('got', 'first', ...args);
    arguments[0] = 'changed';
    args.length = 0;
  });
  const got = collect(p, ARGUMENT_LISTS.length * 4);
  p.run();
  for (const args of ARGUMENT_LISTS) p.child.emit('job.run', ...args);
  const want = [];
  for (const args of ARGUMENT_LISTS) for (const tag of ['first', 'worker', 'star', 'globstar']) want.push([tag, ...args, 0]);
  expect(await got).toEqual(want);
});

test('an onAny added by a handler gets the name first from the next event on; events held before any handler are delivered with their arguments', async () => {
  const p = track(
    new Proclet(function () {
      this.on('register', function () {
        this.on('late', function (...args) {
          this.emit('got', 'late', ...args);
        });
        this.onAny(function (...args) {
          this.emit('got', 'any', ...args);
        });
      });
    }),
  );
  const got = collect(p, 4);
  p.run();
  p.child.emit('late', 1, { two: 2 });
  p.child.emit('late');
  p.child.emit('register');
  p.child.emit('late', [3]);
  expect(await got).toEqual([
    ['late', 1, { two: 2 }, 0],
    ['late', 0],
    ['any', 'late', [3], 0],
    ['late', [3], 0],
  ]);
});

test.each([
  ['json', [Buffer.from('abc'), new Uint16Array([1, 2, 3]), { nested: Buffer.alloc(70000, 7) }, 'x'.repeat(70000)]],
  ['advanced', [new Map([[1, 'a']]), new Set([1, 2]), new Date(5), undefined, Buffer.from('q'), 10n]],
])("serialization '%s': two handlers each get the values sent, then 0", async (serialization, args) => {
  const p = track(
    new Proclet(
      function () {
        this.on('values', function (...got) {
          this.emit('got', 'one', ...got);
          got[0] = null;
        });
        this.on('values', function (...got) {
          this.emit('got', 'two', ...got);
        });
      },
      { serialization },
    ),
  );
  const got = collect(p, 2);
  p.run();
  p.child.emit('values', ...args);
  expect(await got).toEqual([
    ['one', ...args, 0],
    ['two', ...args, 0],
  ]);
});
