'use strict';
// What the supervision specs share: a Proclet that records its lifecycle events in order, and
// an afterEach that stops every one of them and checks that none of their children is left.

const { Proclet } = require('proclet');
const { alive, runNode, fixture } = require('../helpers');

const live = new Set();

/**
 * A tracked Proclet whose lifecycle is recorded in `p.log`: `['spawn', pid]`, `['restart',
 * { code, signal, restarts, delay }]`, `['error', code]`, `['exit', code, signal]`, in order.
 * `p.pids` lists every child's pid.
 */
function supervised(fn, options) {
  const p = new Proclet(fn, options);
  p.log = [];
  p.pids = [];
  p.errors = [];
  p.parent.on('spawn', (pid) => {
    p.pids.push(pid);
    p.log.push(['spawn', pid]);
  });
  p.parent.on('restart', (info) => p.log.push(['restart', info]));
  p.parent.on('error', (error) => {
    p.errors.push(error);
    p.log.push(['error', error.code]);
  });
  p.parent.on('exit', (code, signal) => p.log.push(['exit', code, signal]));
  live.add(p);
  return p;
}

/** The log without pids: `'spawn'`, `['restart', info]`, `['error', code]`, `['exit', code, signal]`. */
function shape(p) {
  return p.log.map((entry) => (entry[0] === 'spawn' ? 'spawn' : entry));
}

/** The `delay` of every 'restart' event so far. */
function delays(p) {
  return p.log.filter(([name]) => name === 'restart').map(([, info]) => info.delay);
}

/** Resolves with the arguments of the next `event` on `p.parent`. */
function next(p, event) {
  return new Promise((resolve) => p.parent.once(event, (...args) => resolve(args)));
}

/** Resolves once `p` has emitted 'spawn' `count` times in all. */
function spawns(p, count) {
  return new Promise((resolve) => {
    const check = () => {
      if (p.pids.length < count) return;
      p.parent.off('spawn', check);
      resolve(p.pids.slice());
    };
    p.parent.on('spawn', check);
    check();
  });
}

/** afterEach: stops what is still running (SIGKILL at once), then no child may be left. */
async function endAll() {
  const pending = [...live];
  live.clear();
  for (const p of pending) await p.stop({ timeout: 0 });
  for (const p of pending) for (const pid of p.pids) expect(alive(pid)).toBe(false);
}

/**
 * A worker that runs until told: `emit('end', code)` closes it with `code`, `emit('die',
 * signal)` kills it with `signal`. It sends 'up' when it starts.
 */
function untilTold() {
  this.send('up');
}
/** Installs the handlers of `untilTold` on `p`; returns `p`. */
function untilToldHandlers(p) {
  p.child
    .on('end', function (code) {
      this.close(code);
    })
    .on('die', function (signal) {
      process.kill(process.pid, signal);
    });
  return p;
}

module.exports = { supervised, shape, delays, next, spawns, endAll, untilTold, untilToldHandlers, runNode, fixture, alive, Proclet };
