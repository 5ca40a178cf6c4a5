'use strict';
// Coverage: code instrumented by istanbul (jest --coverage, nyc) counts through a function of its
// file, `cov_1x2y3z().s[4]++`, which does not exist here. Each `cov_` name a source uses gets a
// global of that name returning its counter tables; the counts go to the parent in one COVERAGE
// frame when the child ends (close, the fatal-error exit, the 'exit' event, SIGTERM), and the
// parent adds them to its own report (lib/source/coverage.js).

const { FrameKind } = require('../lib/shared/protocol');

// The counters a source can touch are written in it (`cov_x().s[4]++`, `.b[2][1]++`), so each
// table is a plain object with those indexes at 0: counting stays as fast as in the parent (a
// proxy in front of the counts made instrumented loops hundreds of times slower). A branch the
// scan missed gets a path table from the branch table's prototype, consulted only for indexes
// the object lacks, so such code still runs; a statement or function index the scan missed
// counts as NaN and is left out of the report.
const INDEX = /^\d+$/;
const newPaths = new Proxy(Object.create(null), {
  get: (_, key, table) => {
    if (typeof key !== 'string' || !INDEX.test(key)) return undefined;
    const paths = {};
    Object.defineProperty(table, key, { value: paths, writable: true, enumerable: true, configurable: true });
    return paths;
  },
});

function createCoverage(writer) {
  const coverage = new Map(); // cov_ name -> counters
  let sent = false;

  /** Provides the counters that `source` uses. */
  function provide(source) {
    const names = source.match(/\bcov_[0-9a-z]+\b/g);
    if (!names) return;
    for (const name of new Set(names)) {
      let counters = coverage.get(name);
      if (counters === undefined) {
        if (name in globalThis) continue;
        counters = { s: {}, f: {}, b: Object.create(newPaths), bT: Object.create(newPaths) };
        if (coverage.size === 0) process.on('SIGTERM', onTerm);
        coverage.set(name, counters);
        Object.defineProperty(globalThis, name, { value: () => counters, writable: true, configurable: true });
      }
      const uses = new RegExp(`\\b${name}\\(\\)\\s*\\.\\s*(s|f|b|bT)\\s*\\[\\s*(\\d+)\\s*\\](?:\\s*\\[\\s*(\\d+)\\s*\\])?`, 'g');
      for (const [, table, index, path] of source.matchAll(uses)) {
        if (path === undefined) {
          if ((table === 's' || table === 'f') && !(index in counters[table])) counters[table][index] = 0;
        } else if (table === 'b' || table === 'bT') {
          const paths = counters[table][index];
          if (!(path in paths)) paths[path] = 0;
        }
      }
    }
  }

  // proclet.kill() sends SIGTERM: counts so far still reach the parent, then the signal takes
  // its default course (unless the user listens for it too), so the exit is reported as before.
  // Written synchronously only when the process ends right after (flushSync writes behind the
  // stream's back); a child that lives on sends them like any frame.
  function onTerm() {
    queue();
    if (process.listenerCount('SIGTERM') === 1) {
      writer.flushSync();
      process.removeListener('SIGTERM', onTerm);
      process.kill(process.pid, 'SIGTERM');
    }
  }

  /** Queues the one COVERAGE frame (once, and only if something was instrumented). */
  function queue() {
    if (coverage.size === 0 || sent) return;
    sent = true;
    const plain = (table) => Object.fromEntries(Object.entries(table).filter(([, n]) => Number.isFinite(n) && n > 0));
    const branches = (table) => Object.fromEntries(Object.entries(table).map(([id, paths]) => [id, plain(paths)]));
    const report = {};
    for (const [name, counters] of coverage) {
      report[name] = { s: plain(counters.s), f: plain(counters.f), b: branches(counters.b), bT: branches(counters.bT) };
    }
    try {
      writer.queue(FrameKind.Coverage, JSON.stringify(report), 'coverage');
    } catch {}
  }

  return { provide, queue };
}

module.exports = { createCoverage };
