'use strict';
// What ships: `npm pack` gives a tarball without install scripts that installs into a fresh folder
// and works without a Rust toolchain; without a binary for the platform, the loader says what is
// missing.

const { execFile } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { runNode } = require('./helpers');

const root = path.join(__dirname, '..');
let tmp;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proclet-pack-test-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs a command; resolves with its output, rejects with it on a non-zero exit. */
function run(command, args, options) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 << 20, ...options }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

// What npm may run when a package is installed (prepare: for git and folder installs; npm >= 11
// asks users to approve these).
const INSTALL_TIME_SCRIPTS = ['preinstall', 'install', 'postinstall', 'preprepare', 'prepare', 'postprepare'];

test('the packed tarball has no install scripts, installs into a fresh folder and runs with no Rust toolchain', async () => {
  const manifestFile = path.join(root, 'package.json');
  const manifestText = fs.readFileSync(manifestFile, 'utf8');
  const manifest = JSON.parse(manifestText);

  // With scripts, as a release is packed: prepack builds and leaves out `prepare`, postpack
  // puts package.json back as it was.
  await run('npm', ['pack', '--pack-destination', tmp], { cwd: root });
  expect(fs.readFileSync(manifestFile, 'utf8')).toBe(manifestText);
  expect(fs.existsSync(path.join(root, 'package.json.prepack'))).toBe(false);

  const tarball = path.join(tmp, `${manifest.name}-${manifest.version}.tgz`);
  const { stdout: listing } = await run('tar', ['-tzf', tarball]);
  const files = listing
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''))
    .sort();
  expect(files).toEqual(
    expect.arrayContaining([
      'index.js',
      'index.d.ts',
      'dist/proclet.js',
      'lib/source/helpers.js',
      'package.json',
      'README.md',
      `proclet.${process.platform}-${process.arch}-gnu.node`,
    ]),
  );
  // lib/ ships as the bundle (scripts/bundle.js), and the one module it loads from lib/ when used.
  expect(files.filter((f) => f.startsWith('lib/'))).toEqual(['lib/source/helpers.js']);
  expect(files.some((f) => f.startsWith('src/') || f.startsWith('__test__/') || f === 'Cargo.toml')).toBe(false);
  // npm would run `node-gyp rebuild` on install for a binding.gyp.
  expect(files).not.toContain('binding.gyp');

  // The packed package.json is the checkout's without the install-time scripts.
  const packed = JSON.parse((await run('tar', ['-xzOf', tarball, 'package/package.json'])).stdout);
  for (const script of INSTALL_TIME_SCRIPTS) expect(packed.scripts ?? {}).not.toHaveProperty(script);
  const expected = structuredClone(manifest);
  for (const script of INSTALL_TIME_SCRIPTS) delete expected.scripts[script];
  expect(packed).toEqual(expected);

  const app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  // --foreground-scripts: a script that runs prints its "> proclet@x.y.z <event>" banner; npm >= 11
  // lists the ones it skipped for lack of approval ("install-scripts").
  const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--offline', '--foreground-scripts', tarball], { cwd: app });
  const output = installed.stdout + installed.stderr;
  expect(output).not.toMatch(/install-scripts|allowScripts/);
  expect(output).not.toMatch(/^> proclet@/m);
  expect(fs.readdirSync(path.join(app, 'node_modules', 'proclet')).sort()).toEqual(
    [...new Set(files.map((f) => f.split('/')[0]))].sort(),
  );

  // Only node's own directory and the system's on PATH: no cargo, no rustc.
  const env = { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: tmp };
  // The second worker uses a helper Babel puts at the top of a compiled file: proclet ships it
  // along, from lib/source/helpers.js, which the bundle loads from there.
  const script = `
    const { Proclet } = require('proclet');
    function _defineProperty(e, r, t) { return (r in e ? Object.defineProperty(e, r, { value: t, enumerable: !0, configurable: !0, writable: !0 }) : (e[r] = t), e); }
    const p = new Proclet(function () { this.send(require('path').basename(__filename)); });
    p.parent.on('message', (m) => {
      console.log(m);
      const q = new Proclet(function () { this.send(_defineProperty({}, 'helper', 'shipped')); });
      q.parent.on('message', (m) => console.log(JSON.stringify(m)));
      q.run();
    });
    p.run();
  `;
  fs.writeFileSync(path.join(app, 'main.js'), script);
  const result = await runNode([path.join(app, 'main.js')], { cwd: app, env });
  expect(result.stderr).toBe('');
  expect(result.stdout).toBe('main.js\n{"helper":"shipped"}\n');
  expect(require.resolve('proclet', { paths: [app] })).toBe(path.join(app, 'node_modules', 'proclet', 'index.js'));
}, 180000);

test('without a binary for this platform, require() says what is missing', async () => {
  const copy = path.join(tmp, 'no-binary');
  fs.mkdirSync(copy);
  fs.copyFileSync(path.join(root, 'index.js'), path.join(copy, 'index.js'));
  fs.cpSync(path.join(root, 'dist'), path.join(copy, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(copy, 'proclet.darwin-arm64.node'), '');
  const result = await runNode(['-e', `try { require(${JSON.stringify(copy)}) } catch (e) { console.log(e.code); console.log(e.message) }`]);
  const [code, message] = result.stdout.split('\n');
  expect(code).toBe('ERR_PROCLET_BINARY_MISSING');
  expect(message).toContain(`no usable native binary for ${process.platform}-${process.arch}`);
  expect(message).toContain('This copy contains proclet.darwin-arm64.node, built for another platform');
  expect(message).toContain('build it from source with a Rust toolchain');
});
