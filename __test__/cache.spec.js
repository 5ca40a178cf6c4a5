'use strict';
// The script cache: naming, permissions, verification before reuse, and refusal of unsafe
// directories. Each test gets its own TMPDIR; the proclets run in child node processes, because
// Jest gives tests a copy of process.env that never reaches the addon.

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { runNode, fixture } = require('./helpers');

let tmp;
const uid = process.getuid();
const cacheDir = () => path.join(tmp, `proclet-${uid}`);
// The scripts (the directory also holds .lock and .swept, for cleanup).
const cacheFiles = () => fs.readdirSync(cacheDir()).filter((name) => name.endsWith('.cjs')).sort();

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proclet-cache-test-'));
});

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs worker `name` of fixtures/cache-run.js with TMPDIR = tmp; returns what the parent saw. */
async function run(name) {
  const result = await runNode([fixture('cache-run.js'), name], { env: { TMPDIR: tmp } });
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n')[0]);
}

async function answer(name) {
  return (await run(name)).message;
}

test('the script is stored as <sha512>.cjs in a private per-user directory', async () => {
  expect(await answer('a')).toBe('genuine');
  const dir = fs.statSync(cacheDir());
  expect(dir.mode & 0o777).toBe(0o700);
  expect(dir.uid).toBe(uid);
  const [name] = cacheFiles();
  const contents = fs.readFileSync(path.join(cacheDir(), name));
  expect(name).toBe(`${crypto.createHash('sha512').update(contents).digest('hex')}.cjs`);
  expect(contents.toString()).toContain("this.send('genuine')");
  const file = fs.statSync(path.join(cacheDir(), name));
  expect(file.mode & 0o777).toBe(0o600);
});

test('identical functions share one file; different ones get their own', async () => {
  await answer('a');
  await answer('a');
  expect(cacheFiles()).toHaveLength(1);
  await answer('b');
  expect(cacheFiles()).toHaveLength(2);
});

test('an altered cache file is rewritten, never run', async () => {
  await answer('a');
  const [name] = cacheFiles();
  const file = path.join(cacheDir(), name);
  const genuine = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, "require('fs').writeFileSync(process.env.TMPDIR + '/pwned', '1');");
  expect(await answer('a')).toBe('genuine');
  expect(fs.existsSync(path.join(tmp, 'pwned'))).toBe(false);
  expect(fs.readFileSync(file, 'utf8')).toBe(genuine);
});

test('a cache file replaced by a symlink is replaced, not followed', async () => {
  await answer('a');
  const [name] = cacheFiles();
  const file = path.join(cacheDir(), name);
  const elsewhere = path.join(tmp, 'elsewhere.js');
  fs.writeFileSync(elsewhere, "require('fs').writeFileSync(process.env.TMPDIR + '/pwned', '1');");
  fs.rmSync(file);
  fs.symlinkSync(elsewhere, file);
  expect(await answer('a')).toBe('genuine');
  expect(fs.lstatSync(file).isSymbolicLink()).toBe(false);
  expect(fs.existsSync(path.join(tmp, 'pwned'))).toBe(false);
});

describe('an unsafe cache directory is refused with ERR_PROCLET_CACHE and nothing runs', () => {
  async function refusal() {
    const seen = await run('pwn');
    expect(fs.existsSync(path.join(tmp, 'pwned'))).toBe(false);
    expect(seen.error).toBe('ERR_PROCLET_CACHE');
    expect(seen.text).toContain(cacheDir());
    return { message: seen.text };
  }

  test('group/world-writable', async () => {
    fs.mkdirSync(cacheDir(), { mode: 0o700 });
    fs.chmodSync(cacheDir(), 0o777);
    expect((await refusal()).message).toMatch(/mode is 777; it must not be accessible to group or others/);
  });

  test('a symlink to a directory', async () => {
    const real = path.join(tmp, 'real');
    fs.mkdirSync(real, { mode: 0o700 });
    fs.symlinkSync(real, cacheDir());
    expect((await refusal()).message).toMatch(/symbolic link/);
  });

  test('not a directory', async () => {
    fs.writeFileSync(cacheDir(), '');
    expect((await refusal()).message).toMatch(/not a directory/);
  });

  (uid === 0 ? test : test.skip)('owned by another user', async () => {
    fs.mkdirSync(cacheDir(), { mode: 0o700 });
    fs.chownSync(cacheDir(), 65534, 65534);
    expect((await refusal()).message).toMatch(/owned by uid 65534, not by the current user/);
  });
});

test('eight processes starting the same function at once all run and leave one complete file', async () => {
  const script = `
    const { Proclet } = require('proclet');
    new Proclet(function () { this.send('x'.repeat(1000) + process.pid); })
      .run().parent.on('message', (m) => console.log(m.length));
  `;
  const results = await Promise.all(
    Array.from({ length: 8 }, () => runNode(['-e', script], { env: { TMPDIR: tmp } })),
  );
  for (const r of results) {
    expect(r.code).toBe(0);
    expect(Number(r.stdout.trim())).toBeGreaterThan(1000);
  }
  const files = cacheFiles();
  expect(files).toHaveLength(1);
  const contents = fs.readFileSync(path.join(cacheDir(), files[0]));
  expect(files[0]).toBe(`${crypto.createHash('sha512').update(contents).digest('hex')}.cjs`);
});

describe('cleanup', () => {
  const DAY = 24 * 60 * 60 * 1000;
  /** A script-named file last used `days` ago. */
  function script(days, text = `old ${days}`) {
    const file = path.join(cacheDir(), `${crypto.createHash('sha512').update(text).digest('hex')}.cjs`);
    fs.writeFileSync(file, text, { mode: 0o600 });
    const then = new Date(Date.now() - days * DAY);
    fs.utimesSync(file, then, then);
    return file;
  }

  test('scripts unused for 7 days are removed; recent ones and the one that runs stay', async () => {
    fs.mkdirSync(cacheDir(), { mode: 0o700 });
    const stale = script(8);
    const recent = script(6);
    expect(await answer('a')).toBe('genuine');
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(recent)).toBe(true);
    expect(cacheFiles()).toHaveLength(2);
  });

  test('a directory is swept at most once a day', async () => {
    fs.mkdirSync(cacheDir(), { mode: 0o700 });
    expect(await answer('a')).toBe('genuine');
    const stale = script(8);
    // Another process, the same day: the marker says the sweep is done.
    expect(await answer('b')).toBe('other');
    expect(fs.existsSync(stale)).toBe(true);
    // A day later it runs again.
    const yesterday = new Date(Date.now() - 2 * DAY);
    fs.utimesSync(path.join(cacheDir(), '.swept'), yesterday, yesterday);
    expect(await answer('b')).toBe('other');
    expect(fs.existsSync(stale)).toBe(false);
  });

  test('reusing a script counts as a use', async () => {
    expect(await answer('a')).toBe('genuine');
    const [name] = cacheFiles();
    const file = path.join(cacheDir(), name);
    const old = new Date(Date.now() - 30 * DAY);
    fs.utimesSync(file, old, old);
    expect(await answer('a')).toBe('genuine');
    expect(Date.now() - fs.statSync(file).mtimeMs).toBeLessThan(DAY);
  });
});
