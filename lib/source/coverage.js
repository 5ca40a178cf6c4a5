'use strict';
// Coverage from the child, merged into the parent's report.
//
// Under istanbul (Jest's default coverage, nyc, babel-plugin-istanbul), instrumented code counts
// through a per-file function: `cov_1x2y3z().s[4]++`. A shipped function keeps those calls; the
// child runtime (runtime/coverage.js) gives each `cov_` name it sees a counter table and, when the
// child ends, sends the counts in a COVERAGE frame (docs/protocol.md). Here they are added to the
// file's entry in the parent's `__coverage__`, which Jest and nyc read when they write their
// report (or in Vitest's `__VITEST_COVERAGE__`), so code that ran in a proclet is reported as
// covered.
//
// istanbul-lib-instrument names the function after the file's path:
// 'cov_' + parseInt(sha1(path).hex.slice(0, 12), 16).toString(36). The file's entry in
// `__coverage__` is keyed by that same path, which is how a name is matched to its entry.
// Counts for a name that matches no entry (another instrumenter, or coverage not collected in
// this process) are dropped.

const { createHash } = require('crypto');

const names = new Map(); // path -> cov_ name

function coverageName(path) {
  let name = names.get(path);
  if (name === undefined) {
    const hex = createHash('sha1').update(path).digest('hex');
    name = `cov_${parseInt(hex.slice(0, 12), 16).toString(36)}`;
    names.set(path, name);
  }
  return name;
}

function addCounts(target, counts) {
  if (!target || typeof target !== 'object' || !counts || typeof counts !== 'object') return;
  for (const [key, count] of Object.entries(counts)) {
    if (typeof count === 'number' && typeof target[key] === 'number') target[key] += count;
  }
}

function addBranchCounts(target, counts) {
  if (!target || typeof target !== 'object' || !counts || typeof counts !== 'object') return;
  for (const [key, branch] of Object.entries(counts)) {
    if (Array.isArray(target[key])) addCounts(target[key], branch);
  }
}

// Where istanbul's report lives in this process: `__coverage__` (Jest, nyc, babel-plugin-istanbul)
// and `__VITEST_COVERAGE__` (Vitest's istanbul provider, @vitest/coverage-istanbul).
const COVERAGE_GLOBALS = ['__coverage__', '__VITEST_COVERAGE__'];

/**
 * Adds a child's counts ({ [cov_name]: { s, f, b, bT } }, each a sparse { index: count } table,
 * branches { index: { path: count } }) into the files' entries of `coverage`, by default the
 * coverage objects of this process (COVERAGE_GLOBALS). Returns how many files were updated.
 */
function mergeChildCoverage(report, coverage) {
  if (coverage === undefined) {
    let merged = 0;
    for (const name of COVERAGE_GLOBALS) if (globalThis[name]) merged += mergeChildCoverage(report, globalThis[name]);
    return merged;
  }
  if (!coverage || typeof coverage !== 'object' || !report || typeof report !== 'object') return 0;
  const byName = new Map();
  for (const [path, data] of Object.entries(coverage)) byName.set(coverageName(path), data);
  let merged = 0;
  for (const [name, counts] of Object.entries(report)) {
    const data = byName.get(name);
    // Jest keeps istanbul FileCoverage data either plain or wrapped ({ data }).
    const file = data && typeof data === 'object' && data.data && data.data.s ? data.data : data;
    if (!file || typeof file !== 'object' || !counts) continue;
    addCounts(file.s, counts.s);
    addCounts(file.f, counts.f);
    addBranchCounts(file.b, counts.b);
    addBranchCounts(file.bT, counts.bT);
    merged++;
  }
  return merged;
}

module.exports = { mergeChildCoverage, coverageName };
