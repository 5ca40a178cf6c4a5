'use strict';
// Jest globalSetup: rebuilds dist/proclet.js from lib/ (scripts/bundle.js), so that the specs test
// the bundle that ships and never a stale one; installs the hand-written fixture packages
// (__test__/fixtures/packages/) into the node_modules folders the fixtures resolve them from. Kept
// out of git as node_modules, so nothing named node_modules is ever tracked.

const fs = require('fs');
const path = require('path');
const { bundle } = require('../scripts/bundle');

const fixtures = path.join(__dirname, 'fixtures');
const installs = {
  'project/node_modules/local-dep': 'local-dep',
  'source/esm/node_modules/dual': 'dual',
  'source/esm/node_modules/esm-only': 'esm-only',
};

module.exports = async function setup() {
  await bundle();
  for (const [target, name] of Object.entries(installs)) {
    const destination = path.join(fixtures, target);
    fs.rmSync(destination, { recursive: true, force: true });
    fs.cpSync(path.join(fixtures, 'packages', name), destination, { recursive: true });
  }
};
