'use strict';
// The typings, checked by a real `tsc --strict` over consumer files.

const path = require('path');
const { runNode, fixture } = require('./helpers');

const tsc = path.join(__dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc');

function compile(file) {
  return runNode(
    [tsc, '--strict', '--noEmit', '--target', 'es2022', '--module', 'node16', '--types', 'node', fixture('ts', file)],
    { timeoutMs: 60000 },
  );
}

test('a strict consumer of the whole API compiles', async () => {
  const result = await compile('consumer.ts');
  expect(result.stdout + result.stderr).toBe('');
  expect(result.code).toBe(0);
});

test("a typo on the child context (this.sendd) fails under tsc --strict", async () => {
  const result = await compile('typo.ts');
  expect(result.code).not.toBe(0);
  expect(result.stdout).toMatch(/Property 'sendd' does not exist on type 'ChildContext/);
});

test('typed message directions are checked', async () => {
  const result = await compile('wrong-types.ts');
  expect(result.code).not.toBe(0);
  expect(result.stdout).toMatch(/wrong-types\.ts\(4,/); // this.send(42) where string is expected
  expect(result.stdout).toMatch(/wrong-types\.ts\(6,/); // parent.send('...') where { n } is expected
  expect(result.stdout).toMatch(/wrong-types\.ts\(7,/); // exit listener with a wrong signature
});
