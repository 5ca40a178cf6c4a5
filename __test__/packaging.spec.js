'use strict';
// What ships: `npm pack` gives a tarball that installs into a fresh folder and works without a
// Rust toolchain; without a binary for the platform, the loader says what is missing.

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

function npm(args, options) {
  return new Promise((resolve, reject) => {
    execFile('npm', args, { maxBuffer: 64 << 20, ...options }, (error, stdout, stderr) => {
      if (error) reject(new Error(`npm ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

test('the packed tarball installs into a fresh folder and runs with no Rust toolchain', async () => {
  const packed = JSON.parse(await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: root }));
  const files = packed[0].files.map((f) => f.path).sort();
  expect(files).toEqual(
    expect.arrayContaining(['index.js', 'index.d.ts', 'package.json', 'README.md', `proclet.${process.platform}-${process.arch}-gnu.node`]),
  );
  expect(files.some((f) => f.startsWith('src/') || f.startsWith('__test__/') || f === 'Cargo.toml')).toBe(false);

  const app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  await npm(['install', '--no-audit', '--no-fund', '--offline', path.join(tmp, packed[0].filename)], { cwd: app });

  // Only node's own directory and the system's on PATH: no cargo, no rustc.
  const env = { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: tmp };
  const script = `
    const { Proclet } = require('proclet');
    const p = new Proclet(function () { this.send(require('path').basename(__filename)); });
    p.parent.on('message', (m) => console.log(m));
    p.run();
  `;
  fs.writeFileSync(path.join(app, 'main.js'), script);
  const result = await runNode([path.join(app, 'main.js')], { cwd: app, env });
  expect(result.stderr).toBe('');
  expect(result.stdout).toBe('main.js\n');
  expect(require.resolve('proclet', { paths: [app] })).toBe(path.join(app, 'node_modules', 'proclet', 'index.js'));
}, 180000);

test('without a binary for this platform, require() says what is missing', async () => {
  const copy = path.join(tmp, 'no-binary');
  fs.mkdirSync(copy);
  fs.copyFileSync(path.join(root, 'index.js'), path.join(copy, 'index.js'));
  fs.cpSync(path.join(root, 'lib'), path.join(copy, 'lib'), { recursive: true });
  fs.writeFileSync(path.join(copy, 'proclet.darwin-arm64.node'), '');
  const result = await runNode(['-e', `try { require(${JSON.stringify(copy)}) } catch (e) { console.log(e.code); console.log(e.message) }`]);
  const [code, message] = result.stdout.split('\n');
  expect(code).toBe('ERR_PROCLET_BINARY_MISSING');
  expect(message).toContain(`no usable native binary for ${process.platform}-${process.arch}`);
  expect(message).toContain('This copy contains proclet.darwin-arm64.node, built for another platform');
  expect(message).toContain('build it from source with a Rust toolchain');
});
