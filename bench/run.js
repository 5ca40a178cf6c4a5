'use strict';
// proclet benchmark driver: `npm run bench [-- --quick] [-- --only=start,roundtrip] [-- --trials=N]`
//
// Every trial runs in a fresh worker process (bench/worker.js) so that its peak RSS is its own;
// the contenders take turns trial by trial (A B C A B C ...) after one discarded warm-up round,
// so that the ratios compare runs made under the same conditions on a noisy machine. Prints
// Markdown tables on stdout (progress goes to stderr) and writes every raw number to
// bench/results/<timestamp>.json.

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { render } = require('./report');
const { RESULT_PREFIX } = require('./worker');
const { CONTENDER_NAMES } = require('./contenders');

const SCENARIOS = ['start', 'roundtrip', 'throughput', 'bulk', 'memory', 'calls', 'pool'];
const WORKER = path.join(__dirname, 'worker.js');

const FULL = {
  trials: 7,
  startTrials: 21,
  roundTrips: 20000,
  // Untimed round trips before the timed ones (every contender): V8 compiles the hot paths of
  // both processes in the first few thousand, about 0.1 s of CPU that is not a round trip's cost.
  warmupRoundTrips: 5000,
  messages: 200000,
  bulk: [
    { count: 100, mib: 1 },
    { count: 10, mib: 16 },
    { count: 10, mib: 16, buffer: true },
  ],
  idleChildren: 50,
  poolCalls: 20000,
  timeoutMs: 180000,
};
const QUICK = {
  trials: 2,
  startTrials: 3,
  roundTrips: 2000,
  warmupRoundTrips: 500,
  messages: 20000,
  bulk: [
    { count: 10, mib: 1 },
    { count: 2, mib: 16 },
    { count: 2, mib: 16, buffer: true },
  ],
  idleChildren: 8,
  poolCalls: 20000,
  timeoutMs: 30000,
};

function parseArgs(argv) {
  const options = { ...FULL, quick: false, only: SCENARIOS };
  for (const arg of argv) {
    const [flag, value] = arg.split(/=(.*)/s);
    if (flag === '--quick') Object.assign(options, QUICK, { quick: true });
    else if (flag === '--only' && value) {
      options.only = value.split(',');
      const unknown = options.only.filter((s) => !SCENARIOS.includes(s));
      if (unknown.length) usage(`unknown scenario ${unknown.join(', ')}`);
    } else if (flag === '--trials' && Number(value) > 0) {
      options.trials = options.startTrials = Number(value);
    } else if (flag === '--help' || flag === '-h') usage();
    else usage(`unknown argument ${arg}`);
  }
  // --trials given before --quick still wins.
  const trials = argv.find((a) => a.startsWith('--trials='));
  if (trials) options.trials = options.startTrials = Number(trials.slice(9));
  return options;
}

function usage(problem) {
  if (problem) process.stderr.write(`bench: ${problem}\n`);
  process.stderr.write(
    'usage: node bench/run.js [--quick] [--only=<scenario>[,<scenario>...]] [--trials=N]\n' +
      `scenarios: ${SCENARIOS.join(', ')}\n`,
  );
  process.exit(problem ? 2 : 0);
}

// ---- one trial --------------------------------------------------------------------------------

let current = null; // the running worker, for Ctrl-C

/** Kills whatever is left in a worker's process group; true if anything was. */
function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** Runs one trial in a fresh worker process (its own process group, so nothing can escape). */
function runTrial(spec, timeoutMs) {
  return new Promise((resolve) => {
    const worker = spawn(process.execPath, [WORKER, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    current = worker;
    let out = '';
    let exit = null;
    let finished = false;
    let grace = null;
    const timer = setTimeout(() => {
      killGroup(worker.pid);
      finish(`timed out after ${timeoutMs / 1000} s`);
    }, timeoutMs);

    // The result: a complete line starting with RESULT_PREFIX.
    const resultLine = () => out.split('\n').slice(0, -1).find((line) => line.startsWith(RESULT_PREFIX));
    function finish(problem) {
      if (finished) return;
      finished = true;
      current = null;
      clearTimeout(timer);
      clearTimeout(grace);
      // The worker waits for its children; anything still in its group is a leak.
      const leaked = killGroup(worker.pid);
      worker.stdout.destroy();
      const line = resultLine();
      if (!problem && !line) problem = `worker exited (${exit.signal || exit.code}) without a result`;
      if (!problem && exit.code !== 0) problem = `worker exited with ${exit.signal || exit.code}`;
      if (!problem && leaked) problem = 'a process outlived its worker (killed)';
      resolve(problem ? { error: problem } : { result: JSON.parse(line.slice(RESULT_PREFIX.length)) });
    }
    worker.stdout.setEncoding('utf8');
    worker.stdout.on('data', (data) => {
      out += data;
    });
    worker.stdout.on('end', () => exit && finish());
    worker.on('exit', (code, signal) => {
      exit = { code, signal };
      if (worker.stdout.readableEnded || resultLine()) finish();
      // A child that kept the pipe open would otherwise stall us: give it 2 s.
      else grace = setTimeout(finish, 2000);
    });
  });
}

// ---- the run ----------------------------------------------------------------------------------

function describe(kase, contender, outcome) {
  if (outcome.error) return `${contender}: FAILED (${outcome.error})`;
  const value = outcome.result[kase.metric.key];
  return `${contender} ${value.toFixed(value >= 100 ? 0 : 2)} ${kase.metric.unit}`;
}

async function runCase(kase, options) {
  const rounds = kase.trials || options.trials;
  kase.contenders = kase.contenders || CONTENDER_NAMES;
  kase.trials = [];
  for (let round = 0; round <= rounds; round++) {
    const line = [];
    for (const contender of kase.contenders) {
      const outcome = await runTrial({ scenario: kase.scenario, contender, params: kase.params }, options.timeoutMs);
      line.push(describe(kase, contender, outcome));
      // Round 0 is the warm-up (disk cache, proclet's script cache); it is not recorded.
      if (round > 0) kase.trials.push({ round, contender, ...outcome });
    }
    process.stderr.write(`[${kase.id}] ${round === 0 ? 'warm-up' : `${round}/${rounds}`}: ${line.join(' | ')}\n`);
  }
  return kase;
}

// Which build was measured: the addon is rebuilt outside git.
function addonDigest() {
  const root = path.join(__dirname, '..');
  const file = fs.readdirSync(root).find((f) => /^proclet\..*\.node$/.test(f));
  if (!file) return null;
  const data = fs.readFileSync(path.join(root, file));
  return { file, sha256: require('crypto').createHash('sha256').update(data).digest('hex'), mtime: fs.statSync(path.join(root, file)).mtime };
}

function machine() {
  const git = (...args) => {
    try {
      return execFileSync('git', args, { cwd: __dirname, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  return {
    date: new Date().toISOString(),
    node: process.version,
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    cpu: os.cpus()[0] ? os.cpus()[0].model.trim() : 'unknown',
    kernel: os.release(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg(),
    commit: git('rev-parse', 'HEAD'),
    addon: addonDigest(),
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    command: ['node', path.relative(process.cwd(), __filename), ...process.argv.slice(2)].join(' '),
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  // The bundle that index.js loads, rebuilt from lib/ (a no-op when current): never a stale one.
  await require('../scripts/bundle').bundle();
  const meta = machine();
  const startedAt = Date.now();
  const cases = SCENARIOS.filter((s) => options.only.includes(s)).flatMap((s) => require(`./scenarios/${s}`).cases(options));
  for (const kase of cases) await runCase(kase, options);
  meta.seconds = (Date.now() - startedAt) / 1000;

  const run = { meta, options, cases };
  const { text, ratios } = render(run);
  process.stdout.write(text);

  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${meta.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ ...run, ratios }, null, 2) + '\n');
  process.stderr.write(`\nraw results: ${path.relative(process.cwd(), file)} (${meta.seconds.toFixed(0)} s)\n`);
  if (cases.some((c) => c.trials.some((t) => t.error))) process.exitCode = 1;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current) killGroup(current.pid);
    process.exit(130);
  });
}

main().catch((error) => {
  if (current) killGroup(current.pid);
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
