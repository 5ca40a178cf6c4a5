'use strict';
// What a user sends while restart() is replacing the child: the child being stopped has had its
// 'stop' (the last thing it receives), so messages, events and calls sent after restart() belong
// to the next child, as those sent while no child runs do. None of them may be lost.

const { supervised, endAll } = require('./harness');

jest.setTimeout(30000);
afterEach(endAll);

function recorder() {
  const seen = [];
  this.on('message', (m) => seen.push(['message', m]));
  this.on('note', (n) => seen.push(['note', n]));
  this.expose({
    seen: () => [process.pid, seen.slice()],
  });
}

test('messages, events and calls sent right after restart() reach the next child, in order', async () => {
  const p = supervised(recorder);
  p.run();
  await p.ready;
  const first = p.pid;
  const restarted = p.restart();
  p.parent.send('one');
  p.child.emit('note', 2);
  const call = p.child.call('seen');
  await restarted;
  const [pid, seen] = await call;
  expect(pid).not.toBe(first);
  expect(pid).toBe(p.pid);
  expect(seen).toEqual([
    ['message', 'one'],
    ['note', 2],
  ]);
});

test("what is sent while the old child's async 'stop' handler runs reaches the next child, nothing lost", async () => {
  const p = supervised(recorder);
  // The old child's 'stop' handler tells the parent it runs, then finishes on its next turn.
  p.child.on('hold', function () {
    this.holding = new Promise((resolve) => (this.release = resolve));
  });
  p.child.on('stop', function () {
    this.send('stopping');
    setTimeout(() => this.release(), 0);
    return this.holding;
  });
  const messages = [];
  p.parent.on('message', (m) => messages.push(m));
  p.run();
  await p.ready;
  p.child.emit('hold');
  const stopping = new Promise((resolve) => p.parent.on('message', (m) => m === 'stopping' && resolve()));
  const restarted = p.restart();
  await stopping;
  // The old child is still running its 'stop' handler.
  for (let i = 0; i < 50; i++) p.parent.send(i);
  const call = p.child.call('seen');
  await restarted;
  const [pid, seen] = await call;
  expect(pid).toBe(p.pid);
  expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => ['message', i]));
});

test("an old child's 'stop' handler that awaits a parent method during restart() gets its answer", async () => {
  const p = supervised(recorder);
  const saved = [];
  p.parent.expose({
    save: (pid) => {
      saved.push(pid);
      return 'saved';
    },
  });
  p.child.on('stop', async function () {
    this.send(await this.call('save', process.pid));
  });
  const messages = [];
  p.parent.on('message', (m) => messages.push(m));
  p.run();
  await p.ready;
  const first = p.pid;
  await p.restart();
  // Closed by its handler, not killed after the kill timeout (5 s, longer than the test allows).
  expect(p.log[1]).toEqual(['restart', { code: 0, signal: null, restarts: 1, delay: 0 }]);
  expect(saved).toEqual([first]);
  expect(messages).toEqual(['saved']);
});
