'use strict';
// Jest globalSetup: installs the hand-written fixture packages (__test__/fixtures/packages/) into
// the node_modules folders the fixtures resolve them from. Kept out of git as node_modules, so
// nothing named node_modules is ever tracked.

const fs = require('fs');
const path = require('path');

const fixtures = path.join(__dirname, 'fixtures');
const installs = {
  'project/node_modules/local-dep': 'local-dep',
  'source/esm/node_modules/dual': 'dual',
  'source/esm/node_modules/esm-only': 'esm-only',
};

module.exports = function installFixturePackages() {
  for (const [target, name] of Object.entries(installs)) {
    const destination = path.join(fixtures, target);
    fs.rmSync(destination, { recursive: true, force: true });
    fs.cpSync(path.join(fixtures, 'packages', name), destination, { recursive: true });
  }
};
