'use strict';
// Calls and events: sequential round trips of { i, s: 'hello' }, as a call (`await
// p.child.call('echo', m)`) and as an event pair (`child.emit('ping', m)` answered by
// `this.emit('pong', m)`), against proclet's own message round trip and fork's, same run. The
// first `warmup` round trips of each are not timed, as in roundtrip.js.

const { performance } = require('perf_hooks');

const { Proclet } = require('proclet');
const roundtrip = require('./roundtrip');

exports.cases = (options) => [
  {
    id: 'call roundtrip',
    scenario: 'calls',
    title: `call round trip: ${options.roundTrips} sequential await child.call('echo', { i, s: 'hello' }) (after ${options.warmupRoundTrips} untimed)`,
    contenders: ['proclet', 'proclet message', 'fork-json'],
    params: { n: options.roundTrips, warmup: options.warmupRoundTrips, mode: 'call' },
    metric: { key: 'us', unit: 'µs/rt', better: 'lower' },
  },
  {
    id: 'event roundtrip',
    scenario: 'calls',
    title: `event round trip: ${options.roundTrips} sequential child.emit('ping', m) answered by this.emit('pong', m) (after ${options.warmupRoundTrips} untimed)`,
    contenders: ['proclet', 'proclet message', 'fork-json'],
    params: { n: options.roundTrips, warmup: options.warmupRoundTrips, mode: 'event' },
    metric: { key: 'us', unit: 'µs/rt', better: 'lower' },
  },
];

exports.run = async (contender, { n, warmup = 0, mode }) => {
  if (contender === 'proclet message') return roundtrip.run('proclet', { n, warmup });
  if (contender !== 'proclet') return roundtrip.run(contender, { n, warmup });
  const p = mode === 'call' ? callee() : echoer();
  p.parent.on('error', (error) => process.nextTick(() => {
    throw error;
  }));
  const exited = p.exited;
  p.run();
  await p.ready;
  const roundTrips = mode === 'call' ? calls : events;
  if (warmup > 0) await roundTrips(p, warmup);
  const startedAt = performance.now();
  await roundTrips(p, n);
  const us = ((performance.now() - startedAt) * 1000) / n;
  p.kill();
  await exited;
  return { us };
};

async function calls(p, n) {
  for (let i = 0; i < n; i++) {
    const reply = await p.child.call('echo', { i, s: 'hello' });
    if (reply.i !== i) throw new Error(`call ${i}: got ${JSON.stringify(reply)}`);
  }
}

// One listener for the whole run, as the message round trip has (not once() per event).
function events(p, n) {
  return new Promise((resolve, reject) => {
    let i = 0;
    const onPong = (reply) => {
      if (reply.i !== i) reject(new Error(`event ${i}: got ${JSON.stringify(reply)}`));
      else if (++i < n) p.child.emit('ping', { i, s: 'hello' });
      else {
        p.parent.off('pong', onPong);
        resolve();
      }
    };
    p.parent.on('pong', onPong);
    p.child.emit('ping', { i, s: 'hello' });
  });
}

function callee() {
  return new Proclet(function () {
    this.expose({ echo: (m) => m });
  });
}

function echoer() {
  const p = new Proclet(function () {});
  p.child.on('ping', function (m) {
    this.emit('pong', m);
  });
  return p;
}
