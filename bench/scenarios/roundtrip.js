'use strict';
// round trip: sequential ping-pongs of { i, s: 'hello' }; the child echoes each one. The first
// `warmup` are not timed (V8 compiles both processes' hot paths in them).

const { performance } = require('perf_hooks');

const { launch } = require('../contenders');

exports.cases = (options) => [
  {
    id: 'roundtrip',
    scenario: 'roundtrip',
    title: `round trip: ${options.roundTrips} sequential ping-pongs of { i, s: 'hello' } (after ${options.warmupRoundTrips} untimed)`,
    params: { n: options.roundTrips, warmup: options.warmupRoundTrips },
    contenders: ['proclet', 'fork-json', 'fork-advanced'],
    metric: { key: 'us', unit: 'µs/rt', better: 'lower' },
  },
];

exports.run = async (contender, { n, warmup = 0 }) => {
  const conn = launch(contender);
  await conn.ready;
  const pingPong = (count) =>
    new Promise((resolve, reject) => {
      let i = 0;
      conn.onMessage = (message) => {
        if (message.i !== i) reject(new Error(`round trip ${i}: got ${JSON.stringify(message)}`));
        else if (++i === count) resolve();
        else conn.send({ i, s: 'hello' });
      };
      conn.send({ i, s: 'hello' });
    });
  if (warmup > 0) await pingPong(warmup);
  const startedAt = performance.now();
  await pingPong(n);
  const us = ((performance.now() - startedAt) * 1000) / n;
  return { us, childMaxRSS: await conn.stop() };
};
