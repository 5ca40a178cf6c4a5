'use strict';
// proclet's JS entry. The work (cache file, spawning, framing, socket I/O, reaping) is in the
// Rust addon (src/); lib/ is the facade over it, runtime/ the JS that runs inside the child.

const { Proclet } = require('./lib/proclet');
const { ProcletPool } = require('./lib/pool');
const { warmup } = require('./lib/warm');

exports.Proclet = Proclet;
exports.ProcletPool = ProcletPool;
exports.warmup = warmup;
