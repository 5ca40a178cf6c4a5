'use strict';
// lib/ ships as one file, dist/proclet.js (scripts/bundle.js): `require('proclet')` loads it and
// no module of lib/; it is what scripts/bundle.js builds from lib/ now (Jest's globalSetup rebuilt
// it); classes and functions keep lib's names in stack traces; and proclet's own frames, now the
// bundle's, are still skipped when the calling file is looked for.

const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');
const { options, OUTFILE } = require('../scripts/bundle');
const { runNode, nextMessages, track, Proclet } = require('./helpers');

const root = path.join(__dirname, '..');

test("require('proclet') loads index.js, the bundle and the addon, and no module of lib/", async () => {
  const script = `
    const before = new Set(Object.keys(require.cache));
    require('proclet');
    console.log(JSON.stringify(Object.keys(require.cache).filter((f) => !before.has(f))));
  `;
  const result = await runNode(['-e', script], { cwd: root });
  expect(result.stderr).toBe('');
  const loaded = JSON.parse(result.stdout).map((f) => path.relative(root, f));
  expect(loaded).toEqual(['index.js', path.join('dist', 'proclet.js'), `proclet.${process.platform}-${process.arch}-gnu.node`]);
});

test('dist/proclet.js is what scripts/bundle.js builds from lib/ now', async () => {
  const { outputFiles } = await esbuild.build({ ...options(), write: false });
  expect(outputFiles).toHaveLength(1);
  expect(fs.readFileSync(OUTFILE, 'utf8')).toBe(outputFiles[0].text);
  // The large, rarely needed compiler helpers stay out, and are required from lib/ by a path
  // relative to the bundle.
  expect(outputFiles[0].text).toContain('require("../lib/source/helpers.js")');
  expect(outputFiles[0].text).not.toContain('"_arrayLikeToArray"');
});

test("stack traces and names show lib's classes and functions under their own names", async () => {
  // In a process of its own: Jest rewrites stacks.
  const script = `
    const { Proclet, ProcletPool, warmup } = require('proclet');
    console.log(JSON.stringify([Proclet.name, ProcletPool.name, warmup.name]));
    try {
      new Proclet(42);
    } catch (e) {
      console.log(e.stack);
    }
  `;
  const file = path.join(root, 'target', `bundle-spec-${process.pid}.js`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, script);
  try {
    const result = await runNode([file], { cwd: root });
    expect(result.stderr).toBe('');
    const [names, ...stack] = result.stdout.trim().split('\n');
    expect(JSON.parse(names)).toEqual(['Proclet', 'ProcletPool', 'warmup']);
    expect(stack[0]).toMatch(/^TypeError: proclet: new Proclet\(fn\) expects a function, got 42/);
    const frames = stack.filter((line) => /^\s+at /.test(line));
    const own = frames.filter((line) => line.includes(OUTFILE));
    expect(own.map((line) => /^\s+at (.*) \(/.exec(line)[1])).toEqual([
      'makeError',
      'Object.invalidFunction',
      'functionSource',
      'shippedSource',
      'new Proclet',
    ]);
    // Below proclet's frames: the user's file, where the Proclet was made.
    expect(frames[own.length]).toContain(`${file}:5:`);
  } finally {
    fs.rmSync(file, { force: true });
  }
});

test("the calling file is found below the bundle's frames: require() in the child resolves from it", async () => {
  // ./fixtures/project/lib/sibling.js exists only here: resolved from this file, not from dist/.
  const p = track(
    new Proclet(function () {
      this.send(require('path').relative(__dirname, require.resolve('./fixtures/project/lib/sibling')));
    }),
  );
  p.run();
  expect(await nextMessages(p, 1)).toEqual([path.join('fixtures', 'project', 'lib', 'sibling.js')]);
});

test("an error thrown deep inside proclet still shows the user's line below proclet's frames", async () => {
  // A function found deep in a message sent through a pool: a dozen of proclet's frames, more
  // than V8's default stackTraceLimit of 10, which used to leave the user's file out entirely.
  const script = `
    const { ProcletPool } = require('proclet');
    const pool = new ProcletPool(function () {}, { size: 1 });
    try {
      pool.to(1).send({ a: [{ b: [{ c: () => 1 }] }] });
    } catch (e) {
      console.log(e.stack);
    }
  `;
  const file = path.join(root, 'target', `bundle-spec-deep-${process.pid}.js`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, script);
  try {
    const result = await runNode([file], { cwd: root });
    expect(result.stderr).toBe('');
    const stack = result.stdout.trim().split('\n');
    expect(stack[0]).toMatch(/^TypeError: proclet: .*message\.a\[0\]\.b\[0\]\.c is a function/);
    const frames = stack.filter((line) => /^\s+at /.test(line));
    const own = frames.filter((line) => line.includes(OUTFILE));
    expect(own.length).toBeGreaterThan(10);
    expect(frames.slice(0, own.length)).toEqual(own);
    expect(frames[own.length]).toContain(`${file}:5:`);
    // Below the user's frame, as many as Error.stackTraceLimit asks for, no more.
    expect(frames.length - own.length).toBeLessThanOrEqual(10);
  } finally {
    fs.rmSync(file, { force: true });
  }
});
