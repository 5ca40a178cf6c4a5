'use strict';
// Loads the native addon for this platform (proclet.<platform>-<arch>[-<libc>].node next to
// package.json, lib/root.js).

const fs = require('fs');
const path = require('path');
const errors = require('./shared/errors');
const root = require('./root');

function loadBinding() {
  const { platform, arch } = process;
  const targets = platform === 'linux' ? [`linux-${arch}-gnu`, `linux-${arch}-musl`] : [`${platform}-${arch}`];
  let loadError;
  for (const target of targets) {
    const file = path.join(root, `proclet.${target}.node`);
    if (!fs.existsSync(file)) continue;
    try {
      return require(file);
    } catch (e) {
      loadError = e;
    }
  }
  let present = [];
  try {
    present = fs.readdirSync(root).filter((f) => f.endsWith('.node'));
  } catch {}
  throw errors.binaryMissing(targets, root, present, loadError);
}

module.exports = loadBinding();
