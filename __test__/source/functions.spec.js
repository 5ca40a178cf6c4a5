'use strict';
// Functions that cannot run in another process are refused when the Proclet is created, with a
// message that says what to pass instead; recovering Babel's async wrappers runs none of the
// user's code in the parent.

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

describe('refused at construction, saying what to pass instead', () => {
  test.each([
    ['nothing', () => new Proclet(), 'got nothing', 'Pass a function written in JavaScript source'],
    ['a string of code', () => new Proclet('this.send(1)'), "got 'this.send(1)'", 'Pass a function written in JavaScript source'],
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
