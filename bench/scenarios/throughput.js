'use strict';
// throughput: many small messages ({ i, s: 'hello' }) one way, as fast as backpressure allows.
//   child -> parent: the parent asks the child to pump n messages and times until the n-th arrives.
//   parent -> child: the parent pumps n messages and times until the child says it has them all.

const { performance } = require('perf_hooks');

const { launch } = require('../contenders');
const { toChild, fromChild } = require('./transfer');

exports.cases = (options) =>
  ['c2p', 'p2c'].map((direction) => ({
    id: `throughput ${direction}`,
    scenario: 'throughput',
    title: `throughput ${direction === 'c2p' ? 'child -> parent' : 'parent -> child'}: ${options.messages} small messages`,
    params: { n: options.messages, direction },
    metric: { key: 'msgsPerSec', unit: 'msg/s', better: 'higher' },
  }));

exports.run = async (contender, { n, direction }) => {
  const conn = launch(contender);
  await conn.ready;
  const startedAt = performance.now();
  if (direction === 'c2p') {
    await fromChild(conn, n, {}, (message, i) => message.i === i);
  } else {
    await toChild(conn, n, (i) => ({ i, s: 'hello' }));
  }
  const seconds = (performance.now() - startedAt) / 1000;
  return { msgsPerSec: n / seconds, childMaxRSS: await conn.stop() };
};
