'use strict';
// memory: what one idle child costs the parent. One child is started first (one-time costs:
// loading code, first thread, ...), then N more; the parent's RSS grows by (after - before) / N
// per child. Peak RSS in the other scenarios is reported with each of them.

const { performance } = require('perf_hooks');
const v8 = require('v8');
const vm = require('vm');

const { launch } = require('../contenders');

exports.cases = (options) => [
  {
    id: 'memory idle',
    scenario: 'memory',
    title: `memory: parent RSS per idle child (${options.idleChildren} children waiting for messages)`,
    params: { n: options.idleChildren },
    contenders: ['proclet', 'fork-json', 'fork-advanced'],
    metric: { key: 'kibPerChild', unit: 'KiB/child', better: 'lower' },
  },
];

const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

let gc;

async function residentAfterGc() {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc');
  }
  gc();
  await settle();
  gc();
  return process.memoryUsage().rss;
}

exports.run = async (contender, { n }) => {
  const first = launch(contender);
  await first.ready;
  const before = await residentAfterGc();
  const startedAt = performance.now();
  const rest = Array.from({ length: n }, () => launch(contender));
  await Promise.all(rest.map((conn) => conn.ready));
  const startAllMs = performance.now() - startedAt;
  const after = await residentAfterGc();
  const childMaxRSS = await Promise.all([first, ...rest].map((conn) => conn.stop()));
  childMaxRSS.sort((a, b) => a - b);
  return {
    kibPerChild: (after - before) / n / 1024,
    startAllMs,
    childMaxRSS: childMaxRSS[childMaxRSS.length >> 1],
  };
};
