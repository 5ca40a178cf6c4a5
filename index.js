'use strict';
// proclet's JS entry. The work (cache file, spawning, framing, socket I/O, reaping) is in the
// Rust addon (src/); lib/ is the facade over it, runtime/ the JS that runs inside the child.
// lib/ ships as one file, dist/proclet.js (scripts/bundle.js, run by `npm run build`).

const proclet = require('./dist/proclet.js');

// Assigned by name, so that `import { Proclet } from 'proclet'` finds them (Node reads a CommonJS
// module's exports from its source).
exports.Proclet = proclet.Proclet;
exports.ProcletPool = proclet.ProcletPool;
exports.warmup = proclet.warmup;
Object.defineProperty(exports, Symbol.for('proclet.internals'), { value: proclet[Symbol.for('proclet.internals')] });
