'use strict';
// Warm start: spare runtimes booted before anyone knows their worker (API.md section 6).
//
// A spare is a child started on the runtime alone (no worker in its script): it boots, says
// READY and blocks in the handshake, reading fd 3 for INIT. A run() whose launch matches (same
// node binary, Node flags, environment and working directory; inherited stdio) adopts one: its
// Session takes over the spare's native session and sends INIT with the worker's source, so the
// worker starts as soon as that frame arrives, without Node's boot. A replacement then boots in
// the background, once the adopted child has sent its first batch (or ended), or
// ADOPTION_GRACE_MS after its adoption (or its READY) if it sends nothing: spawning forks the
// parent, which blocks its loop for a few milliseconds, and the adopted child's first message
// must not wait behind that.
//
// What keeps the parent alive: nothing. A spare's native session is unreferenced from the start
// (its exit report does not hold the loop, and its socket's poll never does), and it is
// referenced again only when a run() adopts it. Spares die with the parent: the kernel kills
// them when the parent dies (PR_SET_PDEATHSIG), and end-of-file on fd 3 ends them too.

const { NativeSession } = require('./binding');
const { FrameKind, ChannelEvent } = require('./shared/protocol');
const errors = require('./shared/errors');
const { SIGNALS, childExecArgv } = require('./options');

/** After an adoption, the replacement spare is spawned by then at the latest (ms). */
const ADOPTION_GRACE_MS = 200;

/** The launch a spare was started with, and that a run() must match to adopt it. */
function launchKey({ execPath, execArgv, env, cwd }) {
  const environment = env === undefined ? process.env : env;
  const entries = Object.keys(environment)
    .filter((name) => environment[name] !== undefined)
    .sort()
    .map((name) => `${name}=${environment[name]}`);
  return JSON.stringify([execPath, execArgv, cwd === undefined ? process.cwd() : String(cwd), entries]);
}

class Spare {
  /** The runtime said READY: it waits in the handshake. */
  ready = false;
  /** Where the native session's batches go once a Session adopted it. */
  #target = null;
  /** The adopted child has sent something (or ended): its replacement may start. */
  #heard = false;
  #warm;

  constructor(warm, launch) {
    this.#warm = warm;
    this.key = launchKey(launch);
    this.native = new NativeSession(
      { execPath: launch.execPath, execArgv: launch.execArgv, method: false, spare: true, args: [], env: launch.env, cwd: launch.cwd, stdio: 'inherit' },
      (kinds, payloads, ints) => {
        if (this.#target === null) return this.#idle(typeof kinds === 'number' ? [kinds] : kinds);
        if (!this.#heard) {
          if (kinds === FrameKind.Ready) {
            // Adopted before it had booted: the worker starts now, and answers soon.
            this.#warm.scheduleFill(ADOPTION_GRACE_MS);
          } else {
            this.#heard = true;
            // At the next check phase: after this batch is delivered.
            this.#warm.scheduleFill(0);
          }
        }
        return this.#target(kinds, payloads, ints);
      },
    );
    this.native.setRef(false);
    this.pid = this.native.pid;
  }

  /** Hands the native session to `dispatch` (a Session's); the spare is no longer the pool's. */
  adopt(dispatch) {
    this.#target = dispatch;
    return this.native;
  }

  // Before adoption only READY and the exit can come: the runtime sends nothing else until INIT.
  #idle(kinds) {
    for (const kind of kinds) {
      switch (kind) {
        case FrameKind.Ready:
          this.ready = true;
          break;
        case ChannelEvent.Exit:
          this.native.dispose();
          this.#warm.died(this);
          break;
        default:
          // Nothing else is expected from a runtime waiting for INIT.
          this.native.kill(SIGNALS.SIGKILL);
          break;
      }
    }
  }

  end() {
    this.native.kill(SIGNALS.SIGKILL);
  }
}

class Warm {
  /** How many spares to keep, and the launch they are started with. */
  #count = 0;
  #launch = null;
  #key = null;
  /** @type {Set<Spare>} */
  #spares = new Set();
  #refill = null;
  /** The delay #refill was scheduled with (0: an immediate). */
  #refillAt = 0;
  /** Spares that died before being adopted, in a row: past a few, stop replacing them. */
  #failures = 0;

  /** `warmup(count, options)`: keep `count` spares for `options` (`{ execArgv, env, cwd }`). */
  set(count, options) {
    const operation = 'warmup(count, options)';
    if (!Number.isSafeInteger(count) || count < 0) throw errors.invalidOption(operation, 'count', count, 'an integer >= 0');
    if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
      throw errors.invalidOption(operation, 'options', options, 'an object');
    }
    const { execArgv, env, cwd, ...rest } = options || {};
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw errors.invalidOption(operation, unknown, rest[unknown], 'one of execArgv, env, cwd');
    if (execArgv !== undefined && !(Array.isArray(execArgv) && execArgv.every((a) => typeof a === 'string'))) {
      throw errors.invalidOption(operation, 'execArgv', execArgv, 'an array of strings');
    }
    if (env !== undefined && (env === null || typeof env !== 'object')) throw errors.invalidOption(operation, 'env', env, 'an object');
    if (cwd !== undefined && typeof cwd !== 'string' && !(cwd instanceof URL)) throw errors.invalidOption(operation, 'cwd', cwd, 'a string or file: URL');
    const launch = {
      execPath: process.execPath,
      execArgv: execArgv === undefined ? childExecArgv() : execArgv.slice(),
      env: env === undefined ? undefined : { ...env },
      cwd: cwd === undefined ? undefined : cwd instanceof URL ? require('url').fileURLToPath(cwd) : cwd,
    };
    const key = launchKey(launch);
    // Spares for another launch are of no use any more.
    if (key !== this.#key) for (const spare of this.#spares) this.#end(spare);
    this.#count = count;
    this.#launch = launch;
    this.#key = key;
    this.#failures = 0;
    while (this.#spares.size > count) this.#end(this.#spares.values().next().value);
    this.#fill();
  }

  /** A spare for this launch (`{ execPath, execArgv, env, cwd, stdio, args }`), or null. */
  take(launch) {
    if (this.#spares.size === 0) return null;
    if (launch.stdio !== undefined && launch.stdio !== 'inherit' && launch.stdio !== null) return null;
    if (launch.args !== undefined && launch.args.length > 0) return null;
    const key = launchKey(launch);
    if (key !== this.#key) return null;
    let chosen = null;
    for (const spare of this.#spares) {
      if (spare.ready) {
        chosen = spare;
        break;
      }
      if (chosen === null) chosen = spare;
    }
    this.#spares.delete(chosen);
    this.#failures = 0;
    // The replacement boots once the adopted child has answered (see scheduleFill's callers).
    if (chosen !== null && chosen.ready) this.scheduleFill(ADOPTION_GRACE_MS);
    return chosen;
  }

  /** A spare's process ended before adoption. */
  died(spare) {
    if (!this.#spares.delete(spare)) return;
    // A launch whose runtime cannot start (bad flags) would otherwise respawn forever.
    if (++this.#failures <= 3) this.scheduleFill(0);
  }

  /** Process ids of the spares (tests, diagnostics). */
  pids() {
    return [...this.#spares].map((spare) => spare.pid);
  }

  #end(spare) {
    this.#spares.delete(spare);
    spare.end();
  }

  /** Starts the missing spares in `delay` ms (0: at the next check phase), or sooner if already scheduled sooner. */
  scheduleFill(delay) {
    if (this.#refill !== null) {
      if (delay > 0 || this.#refillAt <= 0) return;
      clearTimeout(this.#refill);
    }
    const fill = () => {
      this.#refill = null;
      this.#fill();
    };
    this.#refillAt = delay;
    this.#refill = delay > 0 ? setTimeout(fill, delay) : setImmediate(fill);
    this.#refill.unref();
  }

  #fill() {
    while (this.#spares.size < this.#count) {
      let spare;
      try {
        spare = new Spare(this, this.#launch);
      } catch (error) {
        // No spare: run() starts cold, as without warmup().
        return;
      }
      this.#spares.add(spare);
    }
  }
}

const warm = new Warm();

/**
 * Keeps `count` runtimes booted for `run()` to adopt (API.md section 6); `warmup(0)` ends them.
 * `options`: `{ execArgv, env, cwd }` of the runs that will adopt them (default the parent's).
 */
function warmup(count = 1, options = undefined) {
  warm.set(count, options);
}

module.exports = { warm, warmup, launchKey };
