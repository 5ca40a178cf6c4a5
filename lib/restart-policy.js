'use strict';
// The restart policy of API.md section 3, as arithmetic: given how a child ended and how long it
// ran, whether another follows and after how long. No timers, no processes: lib/proclet.js acts
// on the answers.
//
//   'never'       the first exit is final
//   'on-failure'  restart after a non-zero code or a signal (kill() included)
//   'always'      restart after any exit
//
// A child that ran less than `minUptime` ms (or never became ready within `startTimeout`) ended
// quickly. The n-th consecutive quick end waits `restartDelay * 2^(n-1)` ms, capped at
// `maxRestartDelay`; an end after a run of at least `minUptime` waits `restartDelay` and starts
// the count over. The quick end that makes `maxRestarts + 1` in a row is not restarted: proclet
// gives up. So a child that fails at once runs at most `maxRestarts + 1` times.

class RestartPolicy {
  #options;
  /** Consecutive quick ends, the last one included. */
  #quickEnds = 0;
  /** Restarts so far (by policy and by restart()). */
  #restarts = 0;

  /** `options`: the normalized `{ restart, minUptime, restartDelay, maxRestartDelay, maxRestarts }`. */
  constructor(options) {
    this.#options = options;
  }

  /** Restarts so far. */
  get restarts() {
    return this.#restarts;
  }

  /**
   * A child ended with `code`/`signal` after `uptime` ms; `failedStart`: it did not become ready
   * in time (or could not be spawned). Returns `{ action: 'exit' }` (the policy does not restart
   * it), `{ action: 'give-up', quickEnds }` (too many quick ends in a row), or
   * `{ action: 'restart', delay, restarts }`.
   */
  afterExit({ code, signal, uptime, failedStart = false }) {
    const { restart, minUptime, restartDelay, maxRestartDelay, maxRestarts } = this.#options;
    const failed = signal !== null || code !== 0;
    if (restart === 'never' || (restart === 'on-failure' && !failed)) return { action: 'exit' };
    const quick = failedStart || uptime < minUptime;
    this.#quickEnds = quick ? this.#quickEnds + 1 : 0;
    if (this.#quickEnds > maxRestarts) return { action: 'give-up', quickEnds: this.#quickEnds };
    const doublings = Math.max(this.#quickEnds - 1, 0);
    // 2^1024 is Infinity: the cap holds for any count.
    const delay = Math.min(restartDelay * 2 ** doublings, maxRestartDelay);
    this.#restarts++;
    return { action: 'restart', delay, restarts: this.#restarts };
  }

  /**
   * A restart asked for with restart(): counted, never quick, and the delay starts over.
   * Returns what the 'restart' event reports: `{ delay: 0, restarts }`.
   */
  manualRestart() {
    this.#quickEnds = 0;
    this.#restarts++;
    return { delay: 0, restarts: this.#restarts };
  }

  /** restart() during a pending restart: the count of quick ends starts over. */
  reset() {
    this.#quickEnds = 0;
  }
}

module.exports = { RestartPolicy };
