'use strict';
// The package's root folder (where package.json and the addon are). This module runs from lib/
// and, bundled, from dist/proclet.js (scripts/bundle.js): both one folder below the root.

const path = require('path');

module.exports = path.join(__dirname, '..');
