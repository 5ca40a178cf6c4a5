'use strict';
// bulk: large string messages one way. MB/s counts the string's characters (1 MB = 10^6 bytes).

const { performance } = require('perf_hooks');

const { launch } = require('../contenders');
const { toChild, fromChild } = require('./transfer');

const MiB = 1024 * 1024;

exports.cases = (options) =>
  options.bulk.flatMap(({ count, mib }) =>
    ['c2p', 'p2c'].map((direction) => ({
      id: `bulk ${mib} MiB ${direction}`,
      scenario: 'bulk',
      title: `bulk ${direction === 'c2p' ? 'child -> parent' : 'parent -> child'}: ${count} strings of ${mib} MiB`,
      params: { n: count, bytes: mib * MiB, direction },
      metric: { key: 'mbPerSec', unit: 'MB/s', better: 'higher' },
    })),
  );

exports.run = async (contender, { n, bytes, direction }) => {
  const conn = launch(contender);
  await conn.ready;
  const text = direction === 'p2c' ? 'x'.repeat(bytes) : null;
  const startedAt = performance.now();
  if (direction === 'c2p') {
    await fromChild(conn, n, { bytes }, (message) => message.length === bytes);
  } else {
    await toChild(conn, n, () => text);
  }
  const seconds = (performance.now() - startedAt) / 1000;
  return { mbPerSec: (n * bytes) / 1e6 / seconds, childMaxRSS: await conn.stop() };
};
