'use strict';
// Pools, peers and warm start (issue 13), each against what users reach for today, same run:
//   warm start     run() -> first message with a spare booted by warmup(), against a cold run()
//                  and fork().
//   pool calls     4 workers, small calls in Promise.all chunks of 100: ProcletPool against
//                  tinypool (runtime 'child_process') and workerpool (workerType 'process').
//   peer messages  small messages from worker 1 to worker 2 of a pool (this.to(2).send), against
//                  fork's parent -> child messages.
//   idle pool      the parent's RSS and CPU with a ready, idle pool of 4, against an empty script.

const path = require('path');
const { performance } = require('perf_hooks');
const { fork } = require('child_process');
const { once } = require('events');
const v8 = require('v8');
const vm = require('vm');

// Loaded when used: it loads proclet, which the idle scenario's empty script must not.
const throughput = () => require('./throughput');

const TASK = path.join(__dirname, '..', 'pool-task.js');
const WORKERS = 4;
const CHUNK = 100;

exports.cases = (options) => [
  {
    id: 'warm start',
    scenario: 'pool',
    title: 'warm start: run() until the first message, with a spare from warmup(1) (cold run() and fork for comparison)',
    params: { mode: 'start' },
    contenders: ['proclet', 'proclet cold', 'fork-json'],
    metric: { key: 'ms', unit: 'ms', better: 'lower' },
    trials: options.startTrials,
  },
  {
    id: 'pool calls',
    scenario: 'pool',
    title: `pool calls: ${WORKERS} workers, ${options.poolCalls} small calls in Promise.all chunks of ${CHUNK}`,
    params: { mode: 'calls', n: options.poolCalls },
    contenders: ['proclet', 'tinypool', 'workerpool'],
    metric: { key: 'callsPerSec', unit: 'calls/s', better: 'higher' },
  },
  {
    id: 'peer messages',
    scenario: 'pool',
    title: `peer messages: ${options.messages} small messages worker 1 -> worker 2 (fork: parent -> child)`,
    params: { mode: 'peers', n: options.messages },
    contenders: ['proclet', 'fork-json'],
    metric: { key: 'msgsPerSec', unit: 'msg/s', better: 'higher' },
  },
  {
    id: 'idle pool rss',
    scenario: 'pool',
    title: `idle pool: parent RSS with a ready pool of ${WORKERS}, idle for 1 s (empty script for comparison)`,
    params: { mode: 'idle' },
    contenders: ['proclet', 'proclet loaded', 'empty script', 'tinypool', 'workerpool'],
    metric: { key: 'rssMiB', unit: 'MiB', better: 'lower' },
  },
  {
    id: 'idle pool cpu',
    scenario: 'pool',
    title: `idle pool: parent CPU time during 1 s with a ready, idle pool of ${WORKERS}`,
    params: { mode: 'idle' },
    contenders: ['proclet', 'empty script'],
    metric: { key: 'cpuMs', unit: 'ms', better: 'lower' },
  },
];

exports.run = async (contender, params) => {
  switch (params.mode) {
    case 'start':
      return start(contender);
    case 'calls':
      return calls(contender, params.n);
    case 'peers':
      return contender === 'proclet' ? peers(params.n) : throughput().run(contender, { n: params.n, direction: 'p2c' });
    case 'idle':
      return idle(contender);
    default:
      throw new Error(`unknown mode ${params.mode}`);
  }
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The process exists and is not a zombie. */
function running(pid) {
  try {
    const stat = require('fs').readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2)[0]);
  } catch {
    return false;
  }
}

async function start(contender) {
  if (contender === 'fork-json') {
    const startedAt = performance.now();
    const child = fork(path.join(__dirname, '..', 'child.js'));
    const [first] = await once(child, 'message');
    const ms = performance.now() - startedAt;
    if (first !== 'ready') throw new Error(`fork: first message ${first}`);
    child.kill();
    await once(child, 'exit');
    return { ms };
  }
  const { Proclet, warmup } = require('proclet');
  if (contender === 'proclet') {
    warmup(1);
    // The spare boots meanwhile: an application calls warmup() at start-up, long before run().
    await sleep(1000);
  }
  // Timed from run(), as fork is timed from fork(): constructing the Proclet (its source read,
  // checked and placed, the first time in this process) is reported apart, as constructMs.
  const constructedAt = performance.now();
  const p = new Proclet(function () {
    this.send('ready');
  });
  const first = once(p.parent, 'message');
  const startedAt = performance.now();
  p.run();
  const [message] = await first;
  const ms = performance.now() - startedAt;
  const constructMs = startedAt - constructedAt;
  if (message !== 'ready') throw new Error(`proclet: first message ${message}`);
  await p.exited;
  if (contender === 'proclet') {
    // The replacement spare: ended, and waited for, so that nothing outlives the trial.
    const { warm } = require('proclet')[Symbol.for('proclet.internals')]; // not API
    const spares = warm.pids();
    warmup(0);
    while (spares.some(running)) await sleep(10);
  }
  return { ms, constructMs };
}

async function calls(contender, n) {
  let call;
  let close;
  if (contender === 'proclet') {
    const { ProcletPool } = require('proclet');
    const pool = new ProcletPool(
      function () {
        this.expose({ echo: (message) => message.i });
      },
      { size: WORKERS },
    ).run();
    await pool.ready;
    call = (message) => pool.child.call('echo', message);
    close = () => pool.stop();
  } else if (contender === 'tinypool') {
    const { Tinypool } = require('tinypool');
    const pool = new Tinypool({ filename: TASK, runtime: 'child_process', minThreads: WORKERS, maxThreads: WORKERS });
    call = (message) => pool.run(message);
    close = () => pool.destroy();
  } else if (contender === 'workerpool') {
    const workerpool = require('workerpool');
    const pool = workerpool.pool(TASK, { workerType: 'process', minWorkers: WORKERS, maxWorkers: WORKERS, forkArgs: ['--workerpool'] });
    call = (message) => pool.exec('echo', [message]);
    close = () => pool.terminate();
  } else throw new Error(`unknown contender ${contender}`);
  const chunk = async (base) => {
    const results = await Promise.all(Array.from({ length: CHUNK }, (_, k) => call({ i: base + k, s: 'hello' })));
    for (let k = 0; k < CHUNK; k++) if (results[k] !== base + k) throw new Error(`${contender}: call ${base + k} returned ${results[k]}`);
  };
  // Every worker started and warmed by a few chunks first, not timed.
  for (let c = 0; c < 4; c++) await chunk(0);
  const startedAt = performance.now();
  for (let base = 0; base < n; base += CHUNK) await chunk(base);
  const seconds = (performance.now() - startedAt) / 1000;
  await close();
  return { callsPerSec: n / seconds };
}

async function peers(n) {
  const { ProcletPool } = require('proclet');
  const pool = new ProcletPool(
    function () {
      if (this.id === 2) {
        let count = 0;
        let wrong = 0;
        this.on('message', function (message, from) {
          if (from === 0) return;
          if (message.i !== count) wrong++;
          if (++count === message.n) this.send({ count, wrong });
        });
        return;
      }
      this.on('message', function ({ n }) {
        const peer = this.to(2);
        let i = 0;
        (function next() {
          while (i < n) {
            if (!peer.send({ i: i++, s: 'hello', n })) {
              setImmediate(next);
              return;
            }
          }
        })();
      });
    },
    { size: 2 },
  ).run();
  await pool.ready;
  const done = once(pool.parent, 'message');
  const startedAt = performance.now();
  pool.to(1).send({ n });
  const [result] = await done;
  const seconds = (performance.now() - startedAt) / 1000;
  if (result.count !== n || result.wrong !== 0) throw new Error(`peers: ${JSON.stringify(result)}`);
  await pool.stop();
  return { msgsPerSec: n / seconds };
}

async function idle(contender) {
  let pool = null;
  if (contender === 'tinypool' || contender === 'workerpool') {
    // The peers' idle pools of the same size, their workers booted (calls answered) first.
    let call;
    if (contender === 'tinypool') {
      const { Tinypool } = require('tinypool');
      const tiny = new Tinypool({ filename: TASK, runtime: 'child_process', minThreads: WORKERS, maxThreads: WORKERS });
      call = (message) => tiny.run(message);
      pool = { stop: () => tiny.destroy() };
    } else {
      const workerpool = require('workerpool');
      const wp = workerpool.pool(TASK, { workerType: 'process', minWorkers: WORKERS, maxWorkers: WORKERS, forkArgs: ['--workerpool'] });
      call = (message) => wp.exec('echo', [message]);
      pool = { stop: () => wp.terminate() };
    }
    await Promise.all(Array.from({ length: 2 * WORKERS }, (_, i) => call({ i, s: 'hello' })));
  } else if (contender !== 'empty script') {
    const { ProcletPool } = require('proclet');
    if (contender === 'proclet') {
      pool = new ProcletPool(
        function () {
          this.on('message', () => {});
        },
        { size: WORKERS },
      ).run();
      await pool.ready;
    }
  }
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  gc();
  await sleep(100);
  const cpu = process.cpuUsage();
  await sleep(1000);
  const used = process.cpuUsage(cpu);
  gc();
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  if (pool) await pool.stop();
  return { rssMiB, cpuMs: (used.user + used.system) / 1000 };
}
