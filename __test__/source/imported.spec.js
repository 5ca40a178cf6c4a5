'use strict';
// Workers (`export function`, `export async function`) and a handler written in one TypeScript file (workers.ts) and passed to proclet in
// another (main.ts), run by tsx, and in plain JavaScript (workers.js, main.js), run by node: the frames of the errors revived in the parent name the file
// where the code was written (workers.ts) at the line and column of each `new XError(`, not the
// calling file, nor the cached child script.

const fs = require('fs');
const path = require('path');
const { runNode, fixture } = require('../helpers');

const root = path.join(__dirname, '..', '..');
const main = fixture('source', 'imported', 'main.ts');
const plainMain = fixture('source', 'imported', 'main.js');
const plainWorkers = fixture('source', 'imported', 'workers.js');
const workers = fixture('source', 'imported', 'workers.ts');

/** 'file:line:column' of the only line of `file` that contains `made`. */
function whereMade(file, made) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  expect(lines.filter((line) => line.includes(made))).toHaveLength(1);
  const index = lines.findIndex((line) => line.includes(made));
  return `${file}:${index + 1}:${lines[index].indexOf(made) + 1}`;
}

test('tsx: workers (export function, export async function) and a handler imported from another file throw at their own file, line and column', async () => {
  const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const result = await runNode([tsx, main], { cwd: path.dirname(main), timeoutMs: 60000 });
  expect({ stderr: result.stderr, code: result.code }).toEqual({ stderr: '', code: 0 });
  const frames = JSON.parse(result.stdout);
  expect(frames).toEqual({
    worker: `at Object.worker (${whereMade(workers, 'new RangeError(')})`,
    asyncWorker: `at Object.asyncWorker (${whereMade(workers, 'new SyntaxError(')})`,
    handler: `at Object.handler (${whereMade(workers, 'new TypeError(')})`,
  });
});

test('node: a worker and a child.expose method imported from another .js file throw at their own file, line and column', async () => {
  const result = await runNode([plainMain]);
  expect({ stderr: result.stderr, code: result.code }).toEqual({ stderr: '', code: 0 });
  expect(JSON.parse(result.stdout)).toEqual({
    worker: `at Object.worker (${whereMade(plainWorkers, 'new RangeError(')})`,
    method: `at Object.boom (${whereMade(plainWorkers, 'new TypeError(')})`,
  });
});
