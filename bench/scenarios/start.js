'use strict';
// start: from starting the child until its first message arrives in the parent. The floor is
// a bare `node -e 0`, from spawn to exit.

const { spawn } = require('child_process');
const { once } = require('events');
const { performance } = require('perf_hooks');

const { launch } = require('../contenders');

const FLOOR = 'node -e 0';

exports.cases = (options) => [
  {
    id: 'start',
    scenario: 'start',
    title: 'start: run() until the first message (floor: node -e 0, spawn to exit)',
    params: {},
    contenders: ['proclet', 'fork-json', 'fork-advanced', FLOOR],
    metric: { key: 'ms', unit: 'ms', better: 'lower' },
    trials: options.startTrials,
  },
];

exports.run = async (contender) => {
  if (contender === FLOOR) {
    const startedAt = performance.now();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'inherit' });
    const [code] = await once(child, 'exit');
    const ms = performance.now() - startedAt;
    if (code !== 0) throw new Error(`node -e 0 exited with ${code}`);
    return { ms };
  }
  const conn = launch(contender);
  const readyAt = await conn.ready;
  const ms = readyAt - conn.startedAt;
  return { ms, childMaxRSS: await conn.stop() };
};
