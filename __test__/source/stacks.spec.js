'use strict';
// Stack traces of errors thrown in a worker, a handler, a method the worker exposes and a
// method shipped with child.expose name the user's file, line and column where the code was
// written, as revived in the parent: plain JavaScript with and without --enable-source-maps;
// TypeScript run by tsx (the .ts positions); esbuild output with an inline source map, run with
// --enable-source-maps (the .ts positions) and without (the positions in the compiled file).

const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');
const { runNode, fixture, proclet, endAll, next } = require('../helpers');

afterEach(endAll);

const root = path.join(__dirname, '..', '..');
const file = fixture('source', 'stacks', 'plain.js');
const typed = fixture('source', 'stacks', 'typed.ts');
let compiledDir;

beforeAll(() => {
  // Inside the repository (target/ is ignored), so that `proclet` resolves from the compiled file.
  fs.mkdirSync(path.join(root, 'target'), { recursive: true });
  compiledDir = fs.mkdtempSync(path.join(root, 'target', 'proclet-stacks-'));
});

afterAll(() => {
  if (compiledDir) fs.rmSync(compiledDir, { recursive: true, force: true });
});

// What each error is made by, once in each fixture (and in what esbuild makes of typed.ts).
const THROWS = { worker: 'new RangeError(', own: 'new Error(`own', shipped: 'new SyntaxError(', handler: 'new TypeError(' };

/** `{ worker: 'file:line:column', ... }`: where each error's `new` is in `text`. */
function expectedFrames(text, fileName) {
  const expected = {};
  const lines = text.split('\n');
  for (const [kind, made] of Object.entries(THROWS)) {
    const index = lines.findIndex((line) => line.includes(made));
    expect(lines.filter((line) => line.includes(made))).toHaveLength(1);
    expected[kind] = `${fileName}:${index + 1}:${lines[index].indexOf(made) + 1}`;
  }
  return expected;
}

/** `{ worker: 'file:line:column', ... }` from the frames the fixture printed. */
function printedFrames(stdout) {
  const frames = JSON.parse(stdout);
  return Object.fromEntries(Object.entries(frames).map(([kind, frame]) => [kind, /\((.*)\)$/.exec(frame)?.[1] ?? frame.replace(/^at /, '')]));
}

test.each([[[]], [['--enable-source-maps']]])('node %j: every frame at the line and column where the code was written', async (flags) => {
  const result = await runNode([...flags, file]);
  expect({ stderr: result.stderr, code: result.code }).toEqual({ stderr: '', code: 0 });
  const expected = expectedFrames(fs.readFileSync(file, 'utf8'), file);
  expect(Object.keys(expected).sort()).toEqual(['handler', 'own', 'shipped', 'worker']);
  expect(printedFrames(result.stdout)).toEqual(expected);
});

test('tsx: every frame at the line and column of the .ts file', async () => {
  const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const result = await runNode([tsx, typed], { cwd: root, timeoutMs: 60000 });
  expect({ stderr: result.stderr, code: result.code }).toEqual({ stderr: '', code: 0 });
  expect(printedFrames(result.stdout)).toEqual(expectedFrames(fs.readFileSync(typed, 'utf8'), typed));
});

test('tsx: a frame stays at the .ts line and column after a garbage collection in the child', async () => {
  // The child compiles a .ts file's function with that file's source map; Node forgets such a map
  // when nothing keeps the code it was compiled with, and the frame then showed the position in
  // tsx's output (typed.ts:2:624) whenever a collection came first.
  const collected = fixture('source', 'stacks', 'collected.ts');
  const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const result = await runNode([tsx, collected], { cwd: root, timeoutMs: 60000 });
  expect({ stderr: result.stderr, code: result.code }).toEqual({ stderr: '', code: 0 });
  const lines = fs.readFileSync(collected, 'utf8').split('\n');
  const line = lines.findIndex((l) => l.endsWith('// THROWS collected'));
  expect(result.stdout.trim()).toBe(`at Object.<anonymous> (${collected}:${line + 1}:${lines[line].indexOf('new ') + 1})`);
});

describe('esbuild output with an inline source map', () => {
  let compiled;
  let code;
  beforeAll(() => {
    compiled = path.join(compiledDir, 'typed.js');
    code = esbuild.transformSync(fs.readFileSync(typed, 'utf8'), { loader: 'ts', format: 'cjs', target: 'es2016', sourcemap: 'inline', sourcefile: typed }).code;
    fs.writeFileSync(compiled, code);
  });

  test('node --enable-source-maps: every frame at the line and column of the .ts file', async () => {
    const result = await runNode(['--enable-source-maps', compiled]);
    expect({ stderr: result.stderr, code: result.code }).toEqual({ stderr: '', code: 0 });
    expect(printedFrames(result.stdout)).toEqual(expectedFrames(fs.readFileSync(typed, 'utf8'), typed));
  });

  test('node: every frame at the line and column of the code that ran, in the compiled file', async () => {
    const result = await runNode([compiled]);
    expect({ stderr: result.stderr, code: result.code }).toEqual({ stderr: '', code: 0 });
    expect(printedFrames(result.stdout)).toEqual(expectedFrames(code, compiled));
  });
});

test('a function defined before the call and passed by name is found where it was written', async () => {
  const text = fs.readFileSync(__filename, 'utf8').split('\n');
  function defined() {
    throw new SyntaxError('defined earlier'); // THROWS defined
  }
  const p = proclet(defined);
  const errored = next(p.parent, 'error');
  p.run();
  const [error] = await errored;
  const line = text.findIndex((l) => l.endsWith('// THROWS defined'));
  expect(error.stack.split('\n')[1]).toContain(`${__filename}:${line + 1}:${text[line].indexOf('new ') + 1}`);
});
