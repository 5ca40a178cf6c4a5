'use strict';
// Shared test helpers: track every Proclet so afterEach can end it, and run scripts in a
// separate node process to observe what a user's terminal would show.

const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { Proclet } = require('proclet');

const live = new Set();

/** Creates a Proclet that `endAll()` will kill if the test leaves it running. */
function proclet(fn) {
  return track(new Proclet(fn));
}

/** Has `endAll()` end `p` too (`p.exited` resolves with its exit). */
function track(p) {
  live.add({ p, exited: p.exited });
  return p;
}

/** Resolves with the next `count` messages from the child; rejects if it exits first. */
function nextMessages(p, count) {
  return new Promise((resolve, reject) => {
    const got = [];
    const onExit = (code, signal) =>
      reject(new Error(`child exited (code ${code}, signal ${signal}) after ${got.length} of ${count} messages: ${JSON.stringify(got)}`));
    const onMessage = (message) => {
      got.push(message);
      if (got.length === count) {
        p.parent.off('message', onMessage);
        p.parent.off('exit', onExit);
        resolve(got);
      }
    };
    p.parent.on('message', onMessage);
    p.parent.once('exit', onExit);
  });
}

/** Resolves with the next event of that name. */
function next(emitter, event) {
  return new Promise((resolve) => emitter.once(event, (...args) => resolve(args)));
}

/** afterEach: kill what is still running and wait for it, so no child outlives its test. */
async function endAll() {
  const pending = [...live];
  live.clear();
  for (const { p, exited } of pending) {
    if (p.pid !== undefined) p.kill('SIGKILL');
    if (p.pid !== undefined) await exited;
  }
}

/**
 * Runs `node <file> ...args` (or `node -e code`) and resolves with its exit and output.
 * A script that does not exit within `timeoutMs` is killed and reported as hanging.
 */
function runNode(args, { cwd, env, timeoutMs = 30000, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: cwd || path.join(__dirname, '..'),
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, hung });
    });
    child.stdin.end(input);
  });
}

const fixture = (...parts) => path.join(__dirname, 'fixtures', ...parts);

/**
 * Whether a process is still running. A zombie (exited, not yet reaped) counts as gone: once
 * orphaned, reaping is init's business and its pace is not ours.
 */
function alive(pid) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
  return state !== 'Z' && state !== 'X';
}

/** Runs `fn` to its end; resolves with the messages and errors the parent saw, the exit and the pid. */
async function outcome(fn) {
  const p = proclet(fn);
  const events = [];
  p.parent.on('message', (m) => events.push(['message', m]));
  p.parent.on('error', (e) => events.push(['error', e.code, e.message]));
  p.run();
  const exit = await p.exited;
  return { events, exit, pid: p.pid };
}

/**
 * Resolves once the handles closed by what already happened have closed: a child's exit is
 * delivered in the loop's poll phase and its handles (uv_close) close in that turn's closing
 * phase, after its check phase; an immediate queued from the check phase runs after it.
 */
function handlesClosed() {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

module.exports = { alive, proclet, track, nextMessages, next, endAll, runNode, fixture, outcome, Proclet, handlesClosed };
