'use strict';
// The parent side of proclet: what index.js exports. scripts/bundle.js bundles this file and what
// it requires into dist/proclet.js, the file index.js loads. (No top-level names here: esbuild
// would rename the modules' own classes and functions of the same name, Proclet2 in stacks.)

module.exports = {
  Proclet: require('./proclet').Proclet,
  ProcletPool: require('./pool').ProcletPool,
  warmup: require('./warm').warmup,
};

// Not API (not in index.d.ts or API.md): the instances in this copy of the modules, for proclet's
// own specs, which test the bundle that ships and cannot reach into it by file.
Object.defineProperty(module.exports, Symbol.for('proclet.internals'), {
  value: Object.freeze({ warm: require('./warm').warm, RestartPolicy: require('./restart-policy').RestartPolicy }),
});
