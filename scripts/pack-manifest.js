'use strict';
// Keeps the build-only lifecycle scripts out of the package.json that `npm pack` / `npm publish`
// put in the tarball, so that installing proclet runs no scripts (npm >= 11 also asks users to
// approve them). `prepare` stays in the checkout: there `npm install` builds the addon.
//
//   node scripts/pack-manifest.js strip     (the "prepack" script, after the release build)
//   node scripts/pack-manifest.js restore   (the "postpack" script)
//
// npm packs package.json as it is on disk, and has no option to leave a field out, so `strip`
// saves package.json byte for byte and writes it without those scripts; `restore` puts the saved
// copy back. Both replace the file with a rename, so a process reading package.json meanwhile
// (Node looking up "type", a test) never sees half a file. If a pack dies between the two, the
// saved copy stays and the next `strip` refuses to run until `restore` has put it back.
// `npm pack --ignore-scripts` skips both, and packs package.json as it is.

const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const manifest = path.join(root, 'package.json');
const saved = path.join(root, 'package.json.prepack');

// Scripts npm may run when the package is installed (prepare: for git and folder installs).
const INSTALL_TIME = ['preinstall', 'install', 'postinstall', 'preprepare', 'prepare', 'postprepare'];

function writeAtomically(file, text) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, file);
}

function strip() {
  if (fs.existsSync(saved)) {
    console.error(
      'package.json.prepack exists: an earlier pack stopped before restoring package.json.\n' +
        'Run `node scripts/pack-manifest.js restore` (it puts the saved package.json back), then pack again.',
    );
    process.exitCode = 1;
    return;
  }
  const text = fs.readFileSync(manifest, 'utf8');
  const pkg = JSON.parse(text);
  const removed = INSTALL_TIME.filter((name) => pkg.scripts && name in pkg.scripts);
  if (removed.length === 0) return;
  for (const name of removed) delete pkg.scripts[name];
  const indent = /^\{\r?\n([ \t]+)"/.exec(text)?.[1] ?? 2;
  writeAtomically(saved, text);
  writeAtomically(manifest, JSON.stringify(pkg, null, indent) + (text.endsWith('\n') ? '\n' : ''));
  console.error(`package.json: scripts ${removed.join(', ')} left out of the tarball (restored by postpack)`);
}

function restore() {
  if (!fs.existsSync(saved)) return;
  fs.renameSync(saved, manifest);
}

const command = process.argv[2];
if (command === 'strip') strip();
else if (command === 'restore') restore();
else {
  console.error('usage: node scripts/pack-manifest.js strip|restore');
  process.exitCode = 2;
}
