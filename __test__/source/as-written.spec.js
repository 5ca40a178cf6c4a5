'use strict';
// What proclet changes in compiled code (the `void 0` that compilers write for `this`, the
// helpers it ships) is decided on the code: strings, template literals, regular expressions and
// comments reach the child exactly as written, and code the user wrote runs as written.

const { proclet, nextMessages, endAll } = require('../helpers');

afterEach(endAll);

/** The first message of a new proclet running `fn`, and its exit. */
async function firstMessage(fn) {
  const p = proclet(fn);
  const [message] = await nextMessages(p.run(), 1);
  expect(await p.exited).toEqual({ code: 0, signal: null });
  return message;
}

describe('text that looks like compiled code is left as it is', () => {
  test("an arrow function's string: (void 0).x", async () => {
    expect(await firstMessage(() => this.send('(void 0).x'))).toBe('(void 0).x');
  });

  test("a function's string: __awaiter(void 0, 1)", async () => {
    expect(
      await firstMessage(function () {
        this.send('__awaiter(void 0, 1)');
      }),
    ).toBe('__awaiter(void 0, 1)');
  });

  test('template literals, regular expressions and String.raw', async () => {
    const sent = await firstMessage(() => {
      const x = 'x';
      this.send([`(void 0).${x}`, /\(void 0\)\.x/.source, String.raw`__awaiter(void 0, 2)`, `${'(void 0)'}[0]`]);
    });
    expect(sent).toEqual(['(void 0).x', '\\(void 0\\)\\.x', '__awaiter(void 0, 2)', '(void 0)[0]']);
  });

  test('in compiler output, the code is rewritten and its strings are not', async () => {
    // What Babel's CommonJS transform writes for `() => { this.send(...) }` at the top level of
    // a module, nested arrow included ...
    const babel = new Function(
      "return () => { [0].forEach(() => (void 0).send(['(void 0).send', `(void 0)[0]`, /(void 0)?.x/.source])); };",
    )();
    expect(await firstMessage(babel)).toEqual(['(void 0).send', '(void 0)[0]', '(void 0)?.x']);
    // ... and what tsc writes for an async arrow function there (the helper is shipped).
    const tsc = new Function("return () => __awaiter(void 0, void 0, void 0, function* () { this.send('__awaiter(void 0, 3)'); });")();
    expect(await firstMessage(tsc)).toBe('__awaiter(void 0, 3)');
  });

  test('helper names in strings and comments ship nothing: the function sees no binding of that name', async () => {
    // A shipped helper would be visible to eval() in the function's scope.
    const seen = await firstMessage(function () {
      // _objectSpread({}, x); regeneratorRuntime.mark(f); tslib_1.__awaiter(void 0, void 0, void 0, f); _asyncToGenerator2.default
      const names = ['_objectSpread', '_this', 'regeneratorRuntime', '__awaiter', '_asyncToGenerator2', 'tslib_1'];
      this.send(names.map((name) => eval(`typeof ${name}`)));
    });
    expect(seen).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
  });
});

describe("code the user wrote runs as written", () => {
  test('f(void 0).x is a call, not a `this` that a compiler replaced', async () => {
    expect(
      await firstMessage(() => {
        const wrap = (value) => ({ missing: value === undefined });
        this.send(wrap(void 0).missing);
      }),
    ).toBe(true);
  });

  test("(void 0).x inside a function of an arrow function is not the arrow's `this`", async () => {
    expect(
      await firstMessage(() => {
        function read() {
          try {
            return (void 0).x;
          } catch (error) {
            return error.constructor.name;
          }
        }
        this.send(read());
      }),
    ).toBe('TypeError');
  });
});
