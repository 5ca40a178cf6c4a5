'use strict';
// The contenders, behind one small interface the scenarios use (runs in a trial worker):
//
//   const conn = launch('proclet' | 'proclet-advanced' | 'fork-json' | 'fork-advanced');
//   conn.startedAt             performance.now() just before the child was started
//   await conn.ready           performance.now() when the child's first message ('ready') arrived
//   conn.onMessage = (m) => {} receives every later message
//   conn.send(m)               false: the transport asks the sender to slow down
//   await conn.sendAll(n, make)  sends make(0) .. make(n - 1), respecting backpressure
//   await conn.stop()          asks the child for its peak RSS, waits for it to exit; returns bytes
//
// Backpressure, parent side: a Proclet emits 'drain' after send() returned false. A forked
// ChildProcess has no 'drain': after send() returned false, the next message is sent with a
// callback (called once it is written, i.e. the queue in front of it has drained too) and the
// sender waits for it. The children do the same (bench/child.js): a forked child waits on
// process.send's callback, a Proclet's child on this.flush().
//
// 'proclet-advanced' is a Proclet with serialization: 'advanced', to compare with fork's.

const { fork } = require('child_process');
const { once } = require('events');
const path = require('path');
const { performance } = require('perf_hooks');

const { Proclet } = require('proclet');
const { benchChild } = require('./child');

const CHILD_SCRIPT = path.join(__dirname, 'child.js');

// The Proclet worker runs benchChild from its source; the handler forwards to what it returned.
// eslint-disable-next-line no-new-func
const procletWorker = new Function(
  `globalThis.benchOnMessage = (${benchChild})(this.send, (m) => { this.send(m); return this.flush(); }, (last) => { this.send(last); this.close(0); });`,
);
function procletHandler(message) {
  // eslint-disable-next-line no-undef
  benchOnMessage(message);
}

const live = new Set();

class Conn {
  constructor() {
    this.startedAt = 0;
    this.ready = new Promise((resolve, reject) => {
      this.onMessage = (message) => {
        if (message === 'ready') resolve(performance.now());
        else reject(new Error(`expected 'ready' first, got ${JSON.stringify(message)}`));
      };
    });
    this.exited = null;
    live.add(this);
  }

  async stop() {
    const stats = new Promise((resolve) => {
      this.onMessage = resolve;
    });
    this.send({ cmd: 'stats' });
    const [{ maxRSS }, exit] = await Promise.all([stats, this.exited]);
    if (exit.code !== 0) throw new Error(`child exited with ${JSON.stringify(exit)}`);
    return maxRSS;
  }
}

class ProcletConn extends Conn {
  constructor(serialization) {
    super();
    this.proclet = new Proclet(procletWorker, { serialization });
    this.proclet.child.on('message', procletHandler);
    const parent = this.proclet.parent;
    parent.on('message', (message) => this.onMessage(message));
    parent.on('error', (error) => process.nextTick(() => { throw error; }));
    this.exited = once(parent, 'exit').then(([code, signal]) => {
      live.delete(this);
      return { code, signal };
    });
    this.startedAt = performance.now();
    this.proclet.run();
  }

  send(message) {
    return this.proclet.parent.send(message);
  }

  async sendAll(n, make) {
    const parent = this.proclet.parent;
    for (let i = 0; i < n; i++) {
      if (!parent.send(make(i))) await once(parent, 'drain');
    }
  }

  kill() {
    this.proclet.kill('SIGKILL');
  }
}

class ForkConn extends Conn {
  constructor(serialization) {
    super();
    this.startedAt = performance.now();
    this.child = fork(CHILD_SCRIPT, [], { serialization });
    this.child.on('message', (message) => this.onMessage(message));
    this.child.on('error', (error) => process.nextTick(() => { throw error; }));
    this.exited = once(this.child, 'exit').then(([code, signal]) => {
      live.delete(this);
      return { code, signal };
    });
  }

  send(message) {
    return this.child.send(message);
  }

  async sendAll(n, make) {
    const child = this.child;
    let i = 0;
    while (i < n) {
      if (!child.send(make(i++)) && i < n) {
        const message = make(i++);
        await new Promise((resolve, reject) => child.send(message, (error) => (error ? reject(error) : resolve())));
      }
    }
  }

  kill() {
    this.child.kill('SIGKILL');
  }
}

const CONTENDERS = {
  proclet: () => new ProcletConn('json'),
  'proclet-advanced': () => new ProcletConn('advanced'),
  'fork-json': () => new ForkConn('json'),
  'fork-advanced': () => new ForkConn('advanced'),
};

function launch(name) {
  const make = CONTENDERS[name];
  if (!make) throw new Error(`unknown contender ${name}`);
  return make();
}

/** Last resort when a trial fails: no child may outlive its worker. */
function killAll() {
  for (const conn of live) {
    try {
      conn.kill();
    } catch {}
  }
}

module.exports = { launch, killAll, CONTENDER_NAMES: Object.keys(CONTENDERS) };
