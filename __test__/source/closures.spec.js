'use strict';
// A worker or handler that uses a variable of the parent's scope fails in the child with a
// ReferenceError; the parent's 'error' says why, names the identifier and says how to pass data
// instead, with the original ReferenceError as `cause`.

const path = require('path');
const { proclet, next, nextMessages, endAll, runNode, fixture } = require('../helpers');

afterEach(endAll);

async function failure(p) {
  const errored = next(p.parent, 'error');
  if (p.pid === undefined) p.run();
  const [error] = await errored;
  const exit = await p.exited;
  return { error, exit };
}

function expectClosureError(error, name, who) {
  expect(error).toBeInstanceOf(ReferenceError);
  expect(error.code).toBe('ERR_PROCLET_CLOSURE');
  expect(error.identifier).toBe(name);
  expect(error.message).toContain(`proclet: \`${name}\` is not defined in the child process, but ${who} uses it.`);
  expect(error.message).toContain('in a separate Node.js process');
  expect(error.message).toContain("the variables, imports and functions around it in the parent's file do not exist there");
  expect(error.message).toContain('Pass data in a message instead (proclet.parent.send(data) in the parent');
  expect(error.cause).toBeInstanceOf(ReferenceError);
  expect(error.cause.message).toBe(`${name} is not defined`);
  expect(error.cause.code).toBeUndefined();
}

test("a worker that uses a variable of the parent's scope", async () => {
  const limit = 10;
  const p = proclet(function () {
    this.send(limit * 2);
  });
  const { error, exit } = await failure(p);
  expectClosureError(error, 'limit', 'the function passed to new Proclet()');
  expect(exit).toEqual({ code: 1, signal: null });
  // Where it failed in the child stays visible.
  expect(error.stack).toMatch(/^ReferenceError: proclet: `limit` is not defined/);
  expect(error.stack).toMatch(/\n\s+at /);
  expect(error.cause.stack).toMatch(/^ReferenceError: limit is not defined\n\s+at /);
});

test('an arrow worker that calls a function of the parent', async () => {
  function double(n) {
    return n * 2;
  }
  const p = proclet(() => this.send(double(21)));
  const { error } = await failure(p);
  expectClosureError(error, 'double', 'the function passed to new Proclet()');
});

test('a handler that uses a variable of the parent, after it handled messages that did not', async () => {
  const prefix = 'item:';
  const p = proclet(function () {});
  p.child.on('message', function (m) {
    if (m === 'use the closure') this.send(prefix + m);
    else this.send(`ok ${m}`);
  });
  const first = nextMessages(p, 1);
  p.run();
  p.parent.send('plain');
  expect(await first).toEqual(['ok plain']);
  p.parent.send('use the closure');
  const { error } = await failure(p);
  expectClosureError(error, 'prefix', "a child.on('message') handler");
});

test('an import of the parent: the message says to require() it inside the function', async () => {
  const p = proclet(function () {
    this.send(path.basename(__filename));
  });
  const { error } = await failure(p);
  expectClosureError(error, 'path', 'the function passed to new Proclet()');
  expect(error.message).toContain('require() modules inside the function');
});

test('an asynchronous use, after the worker sent messages', async () => {
  const config = { delay: 1 };
  const p = proclet(async function () {
    this.send('started');
    await new Promise((resolve) => setImmediate(resolve));
    this.send(config.delay);
  });
  const messages = [];
  p.parent.on('message', (m) => messages.push(m));
  const { error } = await failure(p);
  expectClosureError(error, 'config', 'the function passed to new Proclet()');
  expect(messages).toEqual(['started']);
});

test("inside an async function that Babel compiled into a wrapper", async () => {
  const total = 3;
  const wrapper = new Function(
    'asyncGeneratorStep',
    `function _asyncToGenerator(n) { return function () { var t = this, e = arguments; return new Promise(function (r, o) { var a = n.apply(t, e); function _next(n) { asyncGeneratorStep(a, r, o, _next, _throw, "next", n); } function _throw(n) { asyncGeneratorStep(a, r, o, _next, _throw, "throw", n); } _next(void 0); }); }; }
     return _asyncToGenerator(function* () { yield null; this.send(total); });`,
  )(() => {});
  void total;
  const { error } = await failure(proclet(wrapper));
  expectClosureError(error, 'total', 'the function passed to new Proclet()');
});

test('a name that a compiler made up gets a hint about compiling for a newer target', async () => {
  const p = proclet(new Function('this.send(_ref.value);'));
  const { error } = await failure(p);
  expectClosureError(error, '_ref', 'the function passed to new Proclet()');
  expect(error.message).toContain(
    "If you did not write `_ref` yourself, a compiler (Babel, TypeScript) or another tool added it to the parent's file: " +
      "compile for a newer target (Babel targets { node: 'current' }, TypeScript target ES2018 or later)",
  );
});

test("a function of the parent's whose name a compiler also uses is still a closure, not a compiler helper", async () => {
  // Babel has a helper named _get; this worker means the parent's own _get (or lodash/get).
  const p = proclet(new Function('this.send(_get({ a: { b: 1 } }, "a.b"));'));
  const { error } = await failure(p);
  expectClosureError(error, '_get', 'the function passed to new Proclet()');
  const imported = proclet(new Function('this.send((0, _get.default)({ a: 1 }, "a"));'));
  expectClosureError((await failure(imported)).error, '_get', 'the function passed to new Proclet()');
});

test("Babel's hoisted tagged template strings are named as such", async () => {
  const p = proclet(new Function('this.send(String.raw(_templateObject()));'));
  const { error } = await failure(p);
  expectClosureError(error, '_templateObject', 'the function passed to new Proclet()');
  expect(error.message).toContain('Babel moved the strings of a tagged template out of the function');
});

test('a ReferenceError inside a module the worker required is not called a closure', async () => {
  const p = proclet(function () {
    // Resolved from __test__/helpers.js, which created the Proclet.
    require('./fixtures/source/closures/broken-module')();
  });
  const { error } = await failure(p);
  expect(error).toBeInstanceOf(ReferenceError);
  expect(error.message).toBe('notDefinedInThisModule is not defined');
  expect(error.code).toBeUndefined();
  expect(error.cause).toBeUndefined();
});

test('a name the worker has only in strings, comments and property names is not called its closure', async () => {
  const p = proclet(function () {
    // notDefinedInThisModule
    this.send(['notDefinedInThisModule', { notDefinedInThisModule: 1 }.notDefinedInThisModule]);
    require('./fixtures/source/closures/broken-module')();
  });
  const { error } = await failure(p);
  expect(error).toBeInstanceOf(ReferenceError);
  expect(error.message).toBe('notDefinedInThisModule is not defined');
  expect(error.code).toBeUndefined();
});

test('other errors are not touched', async () => {
  const p = proclet(function () {
    throw new TypeError('missing is not defined');
  });
  const { error } = await failure(p);
  expect(error).toBeInstanceOf(TypeError);
  expect(error.message).toBe('missing is not defined');
  expect(error.code).toBeUndefined();
});

test("with no 'error' listener, the explanation is what reaches stderr", async () => {
  const result = await runNode([fixture('source', 'closures', 'no-listener.js')]);
  expect(result.hung).toBe(false);
  expect(result.stderr).toMatch(/proclet: unhandled 'error' from child process \d+/);
  expect(result.stderr).toContain('proclet: `settings` is not defined in the child process');
  expect(result.stderr).toContain("code: 'ERR_PROCLET_CLOSURE'");
  expect(result.code).toBe(0);
});

test("esbuild's name for an import is named as such, and its helpers are not closures", async () => {
  const p = proclet(new Function("this.send(import_fs.default.existsSync('.'));"));
  const { error } = await failure(p);
  expectClosureError(error, 'import_fs', 'the function passed to new Proclet()');
  expect(error.message).toContain("`import_fs` was not written by you: esbuild (which tsx runs) made it of an `import` at the top of the parent's file.");
  expect(error.message).not.toContain('newer target');

  // tsx's keepNames: __name(fn, "name") runs in the child.
  const named = proclet(new Function('function cube(x) { return x ** 3; } __name(cube, "cube3"); this.send(cube.name);'));
  const [message] = await new Promise((resolve) => {
    named.parent.once('message', (...args) => resolve(args));
    named.run();
  });
  expect(message).toBe('cube3');
});

test("TypeScript's name for an import is named as such", async () => {
  const { error } = await failure(proclet(new Function('this.send(fs_1.existsSync("."));')));
  expectClosureError(error, 'fs_1', 'the function passed to new Proclet()');
  expect(error.message).toContain('it is how TypeScript (tsc) names a module that the parent\'s file imports');
});
