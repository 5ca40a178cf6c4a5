'use strict';
// Round-trip latency, block-interleaved in one process: `node bench/latency.js [--blocks=20]
// [--per=2000]`.
//
// One proclet child (an exposed `echo`, a 'message' echo, a 'ping' -> 'pong' echo) and one
// `child_process.fork` child (JSON, `process.on('message', (m) => process.send(m))`) stay up for
// the whole run; each block times `per` sequential round trips of `{ i, s: 'hello' }` of each
// kind in turn: a call, a message, an event pair, a fork message. On a shared, noisy machine two
// kinds measured in the same few milliseconds see the same load, so the ratio of each block's
// pair is far steadier than a ratio of separate runs; the medians over the blocks are printed.

const { fork } = require('child_process');
const { performance } = require('perf_hooks');

const { Proclet } = require('proclet');

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const blocks = Number(args.blocks) || 20;
const per = Number(args.per) || 2000;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Times `per` round trips driven by `start(i)` and finished by calling the returned `next`. */
function pingPong(start) {
  return new Promise((resolve, reject) => {
    let i = 0;
    const startedAt = performance.now();
    const next = (reply) => {
      if (reply.i !== i) return reject(new Error(`round trip ${i}: got ${JSON.stringify(reply)}`));
      if (++i === per) return resolve(((performance.now() - startedAt) * 1000) / per);
      start(i);
    };
    start(0, next);
  });
}

async function main() {
  const p = new Proclet(function () {
    this.expose({ echo: (m) => m });
    this.on('message', function (m) {
      this.send(m);
    });
    this.on('ping', function (m) {
      this.emit('pong', m);
    });
  });
  p.run();
  await p.ready;
  const child = fork(__filename, ['--echo-child'], { serialization: 'json' });
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));

  let onReply = null;
  p.parent.on('message', (m) => onReply(m));
  p.parent.on('pong', (m) => onReply(m));
  child.on('message', (m) => onReply(m));
  const timed = (send) =>
    pingPong((i, next) => {
      if (next) onReply = next;
      send({ i, s: 'hello' });
    });

  const times = { call: [], message: [], event: [], fork: [] };
  for (let b = 0; b < blocks; b++) {
    const startedAt = performance.now();
    for (let i = 0; i < per; i++) {
      const reply = await p.child.call('echo', { i, s: 'hello' });
      if (reply.i !== i) throw new Error(`call ${i}: got ${JSON.stringify(reply)}`);
    }
    times.call.push(((performance.now() - startedAt) * 1000) / per);
    times.message.push(await timed((m) => p.parent.send(m)));
    times.event.push(await timed((m) => p.child.emit('ping', m)));
    times.fork.push(await timed((m) => child.send(m)));
  }
  const ratio = (a, b) => median(times[a].map((t, i) => t / times[b][i]));
  const us = (k) => `${k} ${median(times[k]).toFixed(1)} µs`;
  console.log(`${blocks} blocks x ${per} round trips of { i, s: 'hello' } (medians over blocks)`);
  console.log(`${us('call')}, ${us('message')}, ${us('event')}, ${us('fork')} (fork json)`);
  console.log(
    `call/message ${ratio('call', 'message').toFixed(2)}x, event/message ${ratio('event', 'message').toFixed(2)}x, ` +
      `call/fork ${ratio('call', 'fork').toFixed(2)}x, message/fork ${ratio('message', 'fork').toFixed(2)}x`,
  );
  p.kill();
  child.disconnect();
  await p.exited;
}

if (process.argv.includes('--echo-child')) {
  // The fork contender's child: as plain as a forked echo can be.
  process.on('message', (m) => process.send(m));
} else {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
