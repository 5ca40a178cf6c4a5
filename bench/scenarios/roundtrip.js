'use strict';
// round trip: sequential ping-pongs of { i, s: 'hello' }; the child echoes each one.

const { performance } = require('perf_hooks');

const { launch } = require('../contenders');

exports.cases = (options) => [
  {
    id: 'roundtrip',
    scenario: 'roundtrip',
    title: `round trip: ${options.roundTrips} sequential ping-pongs of { i, s: 'hello' }`,
    params: { n: options.roundTrips },
    contenders: ['proclet', 'fork-json', 'fork-advanced'],
    metric: { key: 'us', unit: 'µs/rt', better: 'lower' },
  },
];

exports.run = async (contender, { n }) => {
  const conn = launch(contender);
  await conn.ready;
  const startedAt = performance.now();
  await new Promise((resolve, reject) => {
    let i = 0;
    conn.onMessage = (message) => {
      if (message.i !== i) reject(new Error(`round trip ${i}: got ${JSON.stringify(message)}`));
      else if (++i === n) resolve();
      else conn.send({ i, s: 'hello' });
    };
    conn.send({ i, s: 'hello' });
  });
  const us = ((performance.now() - startedAt) * 1000) / n;
  return { us, childMaxRSS: await conn.stop() };
};
