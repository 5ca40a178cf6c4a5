'use strict';
// Turns the raw trials into the printed tables (Markdown, so that they read well in a terminal
// and paste into RESULTS.md) and the ratios checked against the targets.

const { median, summarize } = require('./stats');

const BASELINE = 'fork-json';
const SUBJECT = 'proclet';
const MiB = 1024 * 1024;

// Every ratio is the subject's value (proclet, unless `subject` says 'proclet-advanced') / the
// other contender's, from the same run. The data targets are issue 12's.
const ADV = 'proclet-advanced';
const FORK_ADV = 'fork-advanced';
const TARGETS = [
  { id: 'start', label: 'start time vs fork json', op: '<=', target: 1.05 },
  { id: 'start', label: 'start time vs node -e 0', vs: 'node -e 0', op: '<=', target: 1.1 },
  { id: 'roundtrip', label: 'round trip time', op: '<=', target: 0.9 },
  { id: 'throughput c2p', label: 'throughput child -> parent', op: '>=', target: 3 },
  { id: 'throughput p2c', label: 'throughput parent -> child', op: '>=', target: 3 },
  { id: 'throughput c2p', label: 'throughput child -> parent', subject: ADV, vs: FORK_ADV, op: '>=', target: 1.5 },
  { id: 'throughput p2c', label: 'throughput parent -> child', subject: ADV, vs: FORK_ADV, op: '>=', target: 1.5 },
  { id: /^bulk string/, label: 'bulk', op: '>=', target: 3 },
  { id: /^bulk string/, label: 'bulk', vs: FORK_ADV, op: '>=', target: 1.0 },
  { id: /^bulk string/, label: 'bulk', subject: ADV, vs: FORK_ADV, op: '>=', target: 1.0 },
  { id: /^bulk buffer/, label: 'bulk', vs: FORK_ADV, op: '>=', target: 1.5 },
  { id: /^bulk buffer/, label: 'bulk', subject: ADV, vs: FORK_ADV, op: '>=', target: 1.5 },
  { id: 'memory idle', label: 'parent RSS per idle child', op: '<=', target: null },
  { id: 'call roundtrip', label: 'call round trip vs fork json message round trip', op: '<=', target: 1.0 },
  { id: 'call roundtrip', label: 'call round trip vs proclet message round trip', vs: 'proclet message', op: '<=', target: 1.2 },
  { id: 'event roundtrip', label: 'event round trip vs proclet message round trip', vs: 'proclet message', op: '<=', target: 1.1 },
  { id: 'warm start', label: 'warm run() to first message vs fork', op: '<=', target: 0.1 },
  { id: 'warm start', label: 'warm run() vs cold run()', vs: 'proclet cold', op: '<=', target: null },
  { id: 'pool calls', label: 'pool calls/s vs tinypool (child_process)', vs: 'tinypool', op: '>=', target: 2 },
  { id: 'pool calls', label: 'pool calls/s vs workerpool (process)', vs: 'workerpool', op: '>=', target: 2 },
  { id: 'peer messages', label: 'worker-to-worker msg/s vs fork parent -> child', op: '>=', target: 1.0 },
];
/** Idle pool: the parent's RSS may exceed an empty script's by at most this much. */
const IDLE_POOL_LIMIT_MIB = 1;
/** Idle pool: CPU the parent may spend beyond an empty script's in 1 s (timer and GC noise; a poll or a timer per worker would cost more). */
const IDLE_POOL_CPU_SLACK_MS = 1;
const IDLE_LIMIT_KIB = 2048;

function fmt(value, digits = 3) {
  if (value === undefined || value === null || Number.isNaN(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  const decimals = abs === 0 ? 0 : Math.max(0, digits - 1 - Math.floor(Math.log10(abs)));
  return value.toFixed(decimals);
}

const fmtMiB = (bytes) => (bytes === undefined || Number.isNaN(bytes) ? 'n/a' : `${(bytes / MiB).toFixed(1)} MiB`);

function table(header, rows, align) {
  const lines = [`| ${header.join(' | ')} |`, `|${align.map((a) => (a === 'r' ? '---:' : ':---')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

/** Values of `key` for one contender, in round order (undefined for a failed trial). */
function series(kase, contender, key) {
  return kase.trials.filter((t) => t.contender === contender).map((t) => (t.result ? t.result[key] : undefined));
}

const ok = (values) => values.filter((v) => typeof v === 'number' && Number.isFinite(v));

/** Ratio of medians, plus the range of the per-round ratios (rounds run the contenders back to back). */
function ratio(kase, key, vs = BASELINE, subject = SUBJECT) {
  const a = series(kase, subject, key);
  const b = series(kase, vs, key);
  const perRound = ok(a.map((x, i) => (typeof x === 'number' && typeof b[i] === 'number' ? x / b[i] : undefined)));
  return {
    value: median(ok(a)) / median(ok(b)),
    min: perRound.length ? Math.min(...perRound) : NaN,
    max: perRound.length ? Math.max(...perRound) : NaN,
  };
}

// FAIL* marks a miss by the ratio of medians while some rounds did meet the target: within
// this machine's noise, rerun before trusting it either way.
function verdict({ value, min, max }, op, target) {
  if (target === null || Number.isNaN(value)) return '';
  const meets = (x) => (op === '<=' ? x <= target : x >= target);
  if (meets(value)) return 'PASS';
  return meets(min) || meets(max) ? 'FAIL*' : 'FAIL';
}

function caseTable(kase) {
  const { key, unit } = kase.metric;
  const rows = kase.contenders.map((contender) => {
    const s = summarize(ok(series(kase, contender, key)));
    const failed = kase.trials.filter((t) => t.contender === contender && t.error).length;
    return [
      contender,
      `${fmt(s.median)} ${unit}`,
      fmt(s.min),
      fmt(s.max),
      failed ? `${s.n} (${failed} failed)` : String(s.n),
      fmtMiB(median(ok(series(kase, contender, 'parentMaxRSS')))),
      fmtMiB(median(ok(series(kase, contender, 'childMaxRSS')))),
    ];
  });
  return `### ${kase.title}\n\n${table(
    ['contender', 'median', 'min', 'max', 'trials', 'parent peak RSS', 'child peak RSS'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
  )}`;
}

/** The ratio rows: speed targets, the idle-memory target, then peak RSS per case. */
function ratioRows(cases) {
  const rows = [];
  const byId = new Map(cases.map((c) => [c.id, c]));
  for (const kase of cases) {
    for (const t of TARGETS) {
      if (!(t.id instanceof RegExp ? t.id.test(kase.id) : t.id === kase.id)) continue;
      const vs = t.vs || BASELINE;
      const subject = t.subject || SUBJECT;
      if (!kase.contenders.includes(vs) || !kase.contenders.includes(subject)) continue;
      const r = ratio(kase, kase.metric.key, vs, subject);
      const adv = vs === BASELINE && kase.contenders.includes(FORK_ADV) ? ratio(kase, kase.metric.key, FORK_ADV, subject).value : NaN;
      const label = t.label === 'bulk' ? `${kase.id.replace(/ (c2p|p2c)$/, '')} ${kase.params.direction === 'c2p' ? 'child -> parent' : 'parent -> child'}` : t.label;
      rows.push({ label, subject, vs, ...r, adv, op: t.op, target: t.target, verdict: verdict(r, t.op, t.target) });
    }
  }
  const idle = byId.get('memory idle');
  if (idle) {
    const kib = median(ok(series(idle, SUBJECT, 'kibPerChild')));
    rows.push({
      label: 'parent RSS per idle proclet (absolute)',
      absolute: `${fmt(kib)} KiB`,
      op: '<',
      target: `${IDLE_LIMIT_KIB} KiB`,
      verdict: Number.isNaN(kib) ? '' : kib < IDLE_LIMIT_KIB ? 'PASS' : 'FAIL',
    });
  }
  const warmStart = byId.get('warm start');
  if (warmStart) {
    const ms = median(ok(series(warmStart, SUBJECT, 'constructMs')));
    if (!Number.isNaN(ms)) {
      rows.push({
        label: 'warm start: new Proclet(fn) before run() (first in its process; not in the ratio above)',
        absolute: `${fmt(ms)} ms`,
        op: '',
        target: null,
        verdict: '',
      });
    }
  }
  const idlePool = byId.get('idle pool rss');
  if (idlePool) {
    const pool = median(ok(series(idlePool, SUBJECT, 'rssMiB')));
    const empty = median(ok(series(idlePool, 'empty script', 'rssMiB')));
    const loaded = median(ok(series(idlePool, 'proclet loaded', 'rssMiB')));
    rows.push({
      label: 'idle pool of 4: parent RSS minus a script that only loads proclet',
      absolute: `${fmt(pool - loaded)} MiB`,
      op: '<=',
      target: `${IDLE_POOL_LIMIT_MIB} MiB`,
      verdict: Number.isNaN(pool - loaded) ? '' : pool - loaded <= IDLE_POOL_LIMIT_MIB ? 'PASS' : 'FAIL',
    });
    rows.push({
      label: 'idle pool of 4: parent RSS minus an empty script (require(\'proclet\') included)',
      absolute: `${fmt(pool - empty)} MiB (loading proclet: ${fmt(loaded - empty)} MiB)`,
      op: '<=',
      target: `${IDLE_POOL_LIMIT_MIB} MiB`,
      verdict: Number.isNaN(pool - empty) ? '' : pool - empty <= IDLE_POOL_LIMIT_MIB ? 'PASS' : 'FAIL',
    });
    // The same measure for the peers' idle pools of the same size (their library loaded too).
    for (const peer of ['tinypool', 'workerpool']) {
      const rss = median(ok(series(idlePool, peer, 'rssMiB')));
      if (Number.isNaN(rss)) continue;
      rows.push({
        label: `idle pool of 4: ${peer}'s parent RSS minus an empty script (for comparison)`,
        absolute: `${fmt(rss - empty)} MiB (proclet's: ${fmt(pool - empty)} MiB)`,
        op: '',
        target: null,
        verdict: '',
      });
    }
  }
  const idleCpu = byId.get('idle pool cpu');
  if (idleCpu) {
    const ms = median(ok(series(idleCpu, SUBJECT, 'cpuMs')));
    const empty = median(ok(series(idleCpu, 'empty script', 'cpuMs')));
    rows.push({
      label: 'idle pool of 4: parent CPU during 1 s idle',
      absolute: `${fmt(ms)} ms (empty script: ${fmt(empty)} ms)`,
      op: '<=',
      target: `the empty script's + ${IDLE_POOL_CPU_SLACK_MS} ms`,
      verdict: Number.isNaN(ms) ? '' : ms <= empty + IDLE_POOL_CPU_SLACK_MS ? 'PASS' : 'FAIL',
    });
  }
  // Peak RSS: every proclet contender against fork json (fork advanced where fork json is not run).
  for (const kase of cases) {
    const vs = kase.contenders.includes(BASELINE) ? BASELINE : kase.contenders.includes(FORK_ADV) ? FORK_ADV : null;
    if (vs === null) continue;
    for (const subject of [SUBJECT, ADV]) {
      if (!kase.contenders.includes(subject)) continue;
      for (const [key, who] of [['parentMaxRSS', 'parent'], ['childMaxRSS', 'child']]) {
        const r = ratio(kase, key, vs, subject);
        if (Number.isNaN(r.value)) continue;
        const adv = vs === BASELINE && kase.contenders.includes(FORK_ADV) ? ratio(kase, key, FORK_ADV, subject).value : NaN;
        const label = `peak RSS ${who}: ${kase.id}`;
        rows.push({ label, subject, vs, ...r, adv, op: '<=', target: 1, verdict: verdict(r, '<=', 1) });
      }
    }
  }
  return rows;
}

function ratioTable(rows) {
  return table(
    ['subject / other', 'vs', 'ratio of medians', 'per-round range', 'vs fork-advanced', 'target', 'result'],
    rows.map((r) =>
      r.absolute
        ? [r.label, '-', r.absolute, '', '', r.target === null ? '' : `${r.op} ${r.target}`, r.verdict]
        : [
            r.subject === ADV ? `${r.label} (${ADV})` : r.label,
            r.vs,
            `${fmt(r.value)}x`,
            `${fmt(r.min)}-${fmt(r.max)}`,
            Number.isNaN(r.adv) ? '' : `${fmt(r.adv)}x`,
            r.target === null ? '' : `${r.op} ${r.target}`,
            r.verdict,
          ],
    ),
    ['l', 'l', 'r', 'r', 'r', 'l', 'l'],
  );
}

function render(run) {
  const parts = [
    `proclet bench — ${run.meta.date} — node ${run.meta.node}, ${run.meta.nproc} CPUs (${run.meta.cpu}), Linux ${run.meta.kernel}`,
    `trials per contender: ${run.options.trials} (start: ${run.options.startTrials}), contenders interleaved round by round, one fresh process per trial`,
  ];
  for (const kase of run.cases) parts.push(caseTable(kase));
  const rows = ratioRows(run.cases);
  if (rows.length) {
    parts.push(
      `### Ratios: proclet vs the others (same run)\n\n${ratioTable(rows)}\n\n` +
        'Every ratio is proclet / other: for times and RSS lower is better, for msg/s and MB/s higher is better. ' +
        'FAIL* = the ratio of medians misses the target but some rounds met it (within noise).',
    );
  }
  return { text: parts.join('\n\n') + '\n', ratios: rows };
}

module.exports = { render };
