'use strict';
// Functions that cannot run in another process are refused when the Proclet is created, with a
// message that says what to pass instead; recovering Babel's async wrappers runs none of the
// user's code in the parent.

const babel = require('@babel/core');
const ts = require('typescript');
const esbuild = require('esbuild');
const swc = require('@swc/core');
const { proclet, nextMessages, next, endAll, Proclet } = require('../helpers');

afterEach(endAll);

function refusal(create) {
  try {
    create();
  } catch (error) {
    return error;
  }
  throw new Error('not refused');
}

class WithPrivate {
  #secret = 42;
  read() {
    return this.#secret;
  }
  readWithText() {
    return ['import.meta', this.#secret];
  }
}

const GENERATOR_HINT =
  'Calling a generator function only creates a generator, and nothing in the child iterates it, so none of its body would run. ' +
  'Pass a regular or async function instead (function () {...}, async function () {...}) and call this.send(value) where it would yield a value.';

describe('refused at construction, saying what to pass instead', () => {
  test.each([
    ['nothing', () => new Proclet(), 'got nothing', 'Pass a function written in JavaScript source'],
    ['a native function', () => new Proclet(Math.max), 'got a native function (max)', 'wrap the call in a function of your own'],
    [
      'a bound function',
      () => new Proclet(function work() {}.bind({ n: 1 })),
      'got a bound function (bound work)',
      'pass the original function and send what you bound as a message',
    ],
    [
      'a class',
      () => new Proclet(class Worker {}),
      'got a class (Worker)',
      'Pass a function instead: define the class inside it, or require() the module that exports the class there.',
    ],
    ['a Proxy', () => new Proclet(new Proxy(function () {}, {})), 'got a Proxy', 'pass the function it wraps'],
    [
      'a method that uses private class members',
      () => new Proclet(new WithPrivate().read),
      'got a function whose source cannot be turned back into a function',
      'It uses private class members (#name), which exist only inside the body of their class',
    ],
    [
      'a method that uses private class members and has "import.meta" in a string',
      () => new Proclet(new WithPrivate().readWithText),
      'got a function whose source cannot be turned back into a function',
      'It uses private class members (#name), which exist only inside the body of their class',
    ],
    [
      'a generator function',
      () =>
        new Proclet(function* () {
          this.send('x');
        }),
      'got a generator function (anonymous)',
      GENERATOR_HINT,
    ],
    [
      'an async generator function',
      () =>
        new Proclet(async function* produce() {
          this.send('x');
        }),
      'got an async generator function (produce)',
      GENERATOR_HINT,
    ],
    [
      'a generator method',
      () =>
        new Proclet(
          {
            *gen() {
              this.send('x');
            },
          }.gen,
        ),
      'got a generator function (gen)',
      GENERATOR_HINT,
    ],
    [
      'an async generator method',
      () =>
        new Proclet(
          {
            async *gen() {
              this.send('x');
            },
          }.gen,
        ),
      'got an async generator function (gen)',
      GENERATOR_HINT,
    ],
  ])('%s', (_, create, got, instead) => {
    const error = refusal(create);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_PROCLET_INVALID_FUNCTION');
    expect(error.message).toMatch(/^proclet: new Proclet\(fn\) expects a function, /);
    expect(error.message).toContain(got);
    expect(error.message).toContain(instead);
  });

  test('the same for handlers', () => {
    const p = new Proclet(function () {});
    const error = refusal(() => p.child.on('message', function () {}.bind(null)));
    expect(error.code).toBe('ERR_PROCLET_INVALID_FUNCTION');
    expect(error.message).toMatch(/^proclet: child\.on\('message', handler\) expects a function, got a bound function/);
    expect(error.message).toContain('send what you bound as a message');
  });

  test('a generator as a handler; the proclet stays usable', async () => {
    const p = proclet(function () {});
    for (const [handler, got] of [
      [function* () {}, 'a generator function (anonymous)'],
      [async function* onMessage() {}, 'an async generator function (onMessage)'],
    ]) {
      const error = refusal(() => p.child.on('message', handler));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe('ERR_PROCLET_INVALID_FUNCTION');
      expect(error.message).toBe(`proclet: child.on('message', handler) expects a function, got ${got}. ${GENERATOR_HINT}`);
    }
    p.child.on('message', function (m) {
      this.send(m + 1);
      this.close();
    });
    const got = nextMessages(p.run(), 1);
    p.parent.send(1);
    expect(await got).toEqual([2]);
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });
});

describe('generator functions as compilers rewrite them are refused too', () => {
  const SOURCE = `
    exports.generator = function* counter() { this.send(1); };
    exports.method = { *gen() { this.send(2); } }.gen;
    exports.asyncGenerator = async function* producer() { this.send(3); };
    async function* declared() { this.send(4); }
    exports.declared = declared;
    exports.asyncMethod = { async *gen() { this.send(5); } }.gen;
    // Not a generator: still runs (__test__/source/compiled.spec.js runs the compiled async functions).
    exports.asyncFunction = async function () { this.send(await 6); };
  `;
  /** The module's exports once compiled: functions as a compiled file holds them. */
  function load(code) {
    const module = { exports: {} };
    new Function('exports', 'module', 'require', code)(module.exports, module, require);
    return module.exports;
  }
  const compiledBy = {
    'Babel for Node 6': () => babel.transformSync(SOURCE, { configFile: false, babelrc: false, presets: [['@babel/preset-env', { targets: { node: '6' } }]] }).code,
    'Babel for Internet Explorer 11': () =>
      babel.transformSync(SOURCE, { configFile: false, babelrc: false, presets: [['@babel/preset-env', { targets: { ie: '11' } }]] }).code,
    'tsc for ES5': () => ts.transpileModule(SOURCE, { compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.CommonJS } }).outputText,
    'tsc for ES2015': () => ts.transpileModule(SOURCE, { compilerOptions: { target: ts.ScriptTarget.ES2015, module: ts.ModuleKind.CommonJS } }).outputText,
    'tsc for ES5 with importHelpers': () =>
      ts.transpileModule(SOURCE, { compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.CommonJS, importHelpers: true } }).outputText,
    'esbuild for ES2017': () => esbuild.transformSync(SOURCE, { loader: 'js', format: 'cjs', target: 'es2017' }).code,
    'SWC for ES5': () => swc.transformSync(SOURCE, { swcrc: false, jsc: { target: 'es5' }, module: { type: 'commonjs' } }).code,
    'SWC for ES2017 with @swc/helpers': () =>
      swc.transformSync(SOURCE, { swcrc: false, jsc: { target: 'es2017', externalHelpers: true }, module: { type: 'commonjs' } }).code,
  };
  // What each compiler leaves of each kind of generator; a native one (Babel for Node 6 and tsc
  // for ES2015 keep generators) is named as such.
  const expected = {
    'Babel for Node 6': {
      generator: 'a generator function (counter).',
      method: 'a generator function (gen).',
      asyncGenerator: 'an async generator function (producer) as Babel compiles it (_wrapAsyncGenerator).',
      declared: 'an async generator function (declared) as Babel compiles it (_wrapAsyncGenerator).',
      asyncMethod: 'an async generator function (gen) as Babel compiles it (_wrapAsyncGenerator).',
    },
    'Babel for Internet Explorer 11': {
      generator: 'a generator function (counter).',
      method: 'a generator function (gen).',
      asyncGenerator: 'an async generator function (producer) as Babel compiles it (_wrapAsyncGenerator).',
      declared: 'an async generator function (declared) as Babel compiles it (_wrapAsyncGenerator).',
      asyncMethod: 'an async generator function (gen) as Babel compiles it (_wrapAsyncGenerator).',
    },
    'tsc for ES5': {
      generator: 'a generator function (counter) as TypeScript compiles it (__generator).',
      method: 'a generator function (gen) as TypeScript compiles it (__generator).',
      asyncGenerator: 'an async generator function (producer) as TypeScript compiles it (__asyncGenerator).',
      declared: 'an async generator function (declared) as TypeScript compiles it (__asyncGenerator).',
      asyncMethod: 'an async generator function (gen) as TypeScript compiles it (__asyncGenerator).',
    },
    'tsc for ES2015': {
      generator: 'a generator function (counter).',
      method: 'a generator function (gen).',
      asyncGenerator: 'an async generator function (producer) as TypeScript compiles it (__asyncGenerator).',
      declared: 'an async generator function (declared) as TypeScript compiles it (__asyncGenerator).',
      asyncMethod: 'an async generator function (gen) as TypeScript compiles it (__asyncGenerator).',
    },
  };
  expected['tsc for ES5 with importHelpers'] = expected['tsc for ES5'];
  expected['esbuild for ES2017'] = {
    generator: 'a generator function (counter).',
    method: 'a generator function (gen).',
    asyncGenerator: 'an async generator function (producer) as esbuild compiles it (__asyncGenerator).',
    declared: 'an async generator function (declared) as esbuild compiles it (__asyncGenerator).',
    asyncMethod: 'an async generator function (gen) as esbuild compiles it (__asyncGenerator).',
  };
  expected['SWC for ES5'] = {
    generator: 'a generator function (counter) as SWC compiles it (_ts_generator).',
    method: 'a generator function (gen) as SWC compiles it (_ts_generator).',
    asyncGenerator: 'an async generator function (producer) as SWC compiles it (_wrap_async_generator).',
    declared: 'an async generator function (declared) as SWC compiles it (_wrap_async_generator).',
    asyncMethod: 'an async generator function (gen) as SWC compiles it (_wrap_async_generator).',
  };
  expected['SWC for ES2017 with @swc/helpers'] = {
    ...expected['SWC for ES5'],
    generator: 'a generator function (counter).',
    method: 'a generator function (gen).',
  };

  test.each(Object.keys(compiledBy))('%s', (compiler) => {
    const functions = load(compiledBy[compiler]());
    const got = {};
    for (const name of Object.keys(expected[compiler])) {
      const error = refusal(() => new Proclet(functions[name]));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe('ERR_PROCLET_INVALID_FUNCTION');
      expect(error.message).toContain(GENERATOR_HINT);
      got[name] = error.message.replace(/^proclet: new Proclet\(fn\) expects a function, got /, '').replace(` ${GENERATOR_HINT}`, '');
    }
    expect(got).toEqual(expected[compiler]);
    expect(() => new Proclet(functions.asyncFunction)).not.toThrow();
  });
});

// Babel's helper, as it inlines it into a compiled file (7.24 and later).
const BABEL_ASYNC_HELPERS = `
function asyncGeneratorStep(n, t, e, r, o, a, c) { try { var i = n[a](c), u = i.value; } catch (n) { return void e(n); } i.done ? t(u) : Promise.resolve(u).then(r, o); }
function _asyncToGenerator(n) { return function () { var t = this, e = arguments; return new Promise(function (r, o) { var a = n.apply(t, e); function _next(n) { asyncGeneratorStep(a, r, o, _next, _throw, "next", n); } function _throw(n) { asyncGeneratorStep(a, r, o, _next, _throw, "throw", n); } _next(void 0); }); }; }
`;

describe("Babel's async wrappers", () => {
  afterEach(() => {
    delete globalThis.__procletRanInParent;
  });

  test('the generator inside is found and shipped; none of it runs in the parent', async () => {
    const wrapper = new Function(`${BABEL_ASYNC_HELPERS}
      return _asyncToGenerator(function* (m) {
        globalThis.__procletRanInParent = true;
        const value = yield Promise.resolve('unwrapped');
        this.send(value);
      });`)();
    expect(Function.prototype.toString.call(wrapper)).toMatch(/^function \(\) \{ var t = this, e = arguments; return new Promise/);
    const p = proclet(wrapper);
    const got = nextMessages(p.run(), 1);
    expect(await got).toEqual(['unwrapped']);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(globalThis.__procletRanInParent).toBeUndefined();
  });

  test.each([['impl'], ['_impl']])(
    "a function of the same shape that is not Babel's (%s.apply(this, arguments)) is shipped as it is, without running anything",
    async (name) => {
      const work = new Function(name, `return function work() { return ${name}.apply(this, arguments); };`)(function () {
        globalThis.__procletRanInParent = true;
      });
      const p = proclet(work);
      const [error] = await next(p.run().parent, 'error');
      expect(globalThis.__procletRanInParent).toBeUndefined();
      expect(error.code).toBe('ERR_PROCLET_CLOSURE');
      expect(error.message).toContain(`\`${name}\` is not defined in the child process`);
    },
  );

  test.each([
    ['a helper name only in a string', "(globalThis.__procletRanInParent = true, 'asyncToGenerator')"],
    ["Babel's helper called with code of the user's", '_asyncToGenerator((globalThis.__procletRanInParent = true, function* () {}))'],
  ])("a function shaped like Babel's that runs code in its initializer is not run in the parent: %s", async (_, assigned) => {
    const work = new Function(`${BABEL_ASYNC_HELPERS}
      function _work() { _work = ${assigned}; return _work.apply(this, arguments); }
      return function work() { return _work.apply(this, arguments); };`)();
    const p = proclet(work);
    expect(globalThis.__procletRanInParent).toBeUndefined();
    // Shipped as it is: the child has no _work.
    const [error] = await next(p.run().parent, 'error');
    expect(error.code).toBe('ERR_PROCLET_CLOSURE');
    expect(error.message).toContain('`_work` is not defined in the child process');
    expect(globalThis.__procletRanInParent).toBeUndefined();
  });

  test('a wrapper whose function cannot be found is refused, saying how to configure Babel', () => {
    const wrapper = new Function(`${BABEL_ASYNC_HELPERS}
      return _asyncToGenerator(function () {
        globalThis.__procletRanInParent = true;
        return { next() { return { done: true }; } };
      });`)();
    const error = refusal(() => new Proclet(wrapper));
    expect(globalThis.__procletRanInParent).toBeUndefined();
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_PROCLET_INVALID_FUNCTION');
    expect(error.message).toContain('got a wrapper that Babel generated around an async function (_asyncToGenerator)');
    expect(error.message).toContain("@babel/preset-env with targets { node: 'current' }");
  });

  test('Function.prototype.apply is left as it was', () => {
    const before = Object.getOwnPropertyDescriptor(Function.prototype, 'apply');
    const wrapper = new Function(`${BABEL_ASYNC_HELPERS} return _asyncToGenerator(function* () {});`)();
    new Proclet(wrapper);
    const realmApply = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(wrapper), 'apply');
    expect(Object.getOwnPropertyDescriptor(Function.prototype, 'apply')).toEqual(before);
    expect(realmApply.value).toBe(before.value);
  });
});

test('compiler helpers that a source names are shipped with it', async () => {
  const p = proclet(new Function('this.send(_objectSpread(_defineProperty({}, "a", 1), { b: 2 }));'));
  expect(await nextMessages(p.run(), 1)).toEqual([{ a: 1, b: 2 }]);
});
