'use strict';
// Shared by the conversation specs (events, calls, lifecycle, ordering, input).
//
// `make(fn, options)` builds a Proclet (with options, which helpers.proclet() does not take) and
// remembers it so `endAll()` (afterEach) kills what a test left running and waits for its exit.
// It does not go through helpers.track(), which assigns `p.exited`: these specs test proclet's
// own `exited`. `exitOf(p)` is the test's own record of the 'exit' event, for specs whose subject
// is not `exited`.

const path = require('path');
const { Proclet } = require('proclet');
const { next, nextMessages, runNode } = require('../helpers');

const live = new Set();
const exits = new WeakMap();

function make(fn, options) {
  const p = options === undefined ? new Proclet(fn) : new Proclet(fn, options);
  exits.set(p, new Promise((resolve) => p.parent.once('exit', (code, signal) => resolve({ code, signal }))));
  live.add(p);
  return p;
}

/** `{ code, signal }` of `p`'s 'exit' event. */
function exitOf(p) {
  return exits.get(p);
}

async function endAll() {
  const pending = [...live];
  live.clear();
  for (const p of pending) {
    if (p.pid === undefined) continue;
    p.kill('SIGKILL');
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`child ${p.pid} reported no 'exit' within 10 s of SIGKILL`)), 10000);
    });
    try {
      await Promise.race([exits.get(p), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The error `fn` throws synchronously; fails the test if it returns. */
function thrown(fn) {
  let result;
  try {
    result = fn();
  } catch (error) {
    return error;
  }
  if (result && typeof result.catch === 'function') result.catch(() => {});
  throw new Error(`expected a synchronous throw, got ${result && typeof result.then === 'function' ? 'a promise' : String(result)}`);
}

/** The reason `fn()` fails with, thrown or as a rejected promise; fails the test if it succeeds. */
async function failure(fn) {
  let value;
  try {
    value = await fn();
  } catch (error) {
    return error;
  }
  throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
}

/** Resolves with the child's messages up to and excluding the first equal to `last`. */
function messagesUntil(p, last) {
  return new Promise((resolve, reject) => {
    const got = [];
    const onExit = (code, signal) => {
      p.parent.off('message', onMessage);
      reject(new Error(`child exited (code ${code}, signal ${signal}) before ${JSON.stringify(last)}; got ${JSON.stringify(got)}`));
    };
    const onMessage = (message) => {
      if (JSON.stringify(message) === JSON.stringify(last)) {
        p.parent.off('message', onMessage);
        p.parent.off('exit', onExit);
        resolve(got);
      } else {
        got.push(message);
      }
    };
    p.parent.on('message', onMessage);
    p.parent.once('exit', onExit);
  });
}

/** The parent's own lifecycle events: left out where a test looks at what the child sent. */
const LIFECYCLE = new Set(['exit', 'error', 'drain', 'spawn', 'restart', 'stdout', 'stderr']);

const fixture = (...parts) => path.join(__dirname, 'fixtures', ...parts);

/** Runs a fixture script in its own node process; resolves with the JSON it printed last. */
async function runFixture(name, args = [], options = {}) {
  const result = await runNode([...(options.nodeArgs || []), fixture(name), ...args], { timeoutMs: options.timeoutMs || 30000 });
  const lines = result.stdout.trim().split('\n');
  let report;
  try {
    report = JSON.parse(lines[lines.length - 1]);
  } catch {
    throw new Error(`${name} ${args.join(' ')} printed no report (code ${result.code}, hung ${result.hung}):\n${result.stdout}\n${result.stderr}`);
  }
  return { ...result, report };
}

module.exports = { Proclet, make, exitOf, endAll, thrown, failure, messagesUntil, next, nextMessages, LIFECYCLE, fixture, runFixture };
