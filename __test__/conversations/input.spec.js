'use strict';
// Bad input is refused synchronously with a TypeError and a code, in the parent and in the child,
// and leaves the proclet usable.

const { Proclet, make, endAll, thrown, nextMessages } = require('./harness');

jest.setTimeout(20000);
afterEach(endAll);

function expectTypeError(error, code) {
  expect(error).toBeInstanceOf(TypeError);
  expect(error.code).toBe(code);
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
}

/** A child that answers 'ping' events and calls, to show a proclet still works after refusals. */
function responsive() {
  const p = make(function () {});
  p.child.on('ping', function (x) {
    this.send(['pong', x]);
  });
  p.child.expose({
    echo(x) {
      return x;
    },
  });
  return p;
}

async function stillWorks(p) {
  if (p.pid === undefined) p.run();
  p.child.emit('ping', 1);
  expect(await nextMessages(p, 1)).toEqual([['pong', 1]]);
  expect(await p.child.call('echo', 'ok')).toBe('ok');
}

describe('in the parent', () => {
  test.each([
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
    ['a symbol', Symbol('tune')],
    ['an object', { name: 'tune' }],
  ])('an event name that is %s: ERR_PROCLET_INVALID_EVENT from child.on and child.emit', async (_, name) => {
    const p = responsive();
    expectTypeError(thrown(() => p.child.on(name, function () {})), 'ERR_PROCLET_INVALID_EVENT');
    expectTypeError(thrown(() => p.child.emit(name, 1)), 'ERR_PROCLET_INVALID_EVENT');
    p.run();
    expectTypeError(thrown(() => p.child.emit(name, 1)), 'ERR_PROCLET_INVALID_EVENT');
    await stillWorks(p);
  });

  test.each([
    ['a string', 'not a function'],
    ['a number', 42],
    ['null', null],
    ['an object', { handler() {} }],
    ['a native function', Math.max],
  ])('a handler or method that is %s: ERR_PROCLET_INVALID_FUNCTION', async (_, bad) => {
    const p = responsive();
    expectTypeError(thrown(() => p.child.on('tune', bad)), 'ERR_PROCLET_INVALID_FUNCTION');
    expectTypeError(thrown(() => p.child.onAny(bad)), 'ERR_PROCLET_INVALID_FUNCTION');
    expectTypeError(thrown(() => p.child.expose({ resize: bad })), 'ERR_PROCLET_INVALID_FUNCTION');
    if (bad !== Math.max) {
      // Parent methods and listeners run in the parent: a native function is fine there.
      expectTypeError(thrown(() => p.parent.expose({ lookup: bad })), 'ERR_PROCLET_INVALID_FUNCTION');
      expectTypeError(thrown(() => p.parent.onAny(bad)), 'ERR_PROCLET_INVALID_FUNCTION');
    }
    await stillWorks(p);
  });

  test('a refused expose() installs none of its methods', async () => {
    const p = responsive();
    expectTypeError(
      thrown(() =>
        p.child.expose({
          good() {
            return 'good';
          },
          bad: 'nope',
        }),
      ),
      'ERR_PROCLET_INVALID_FUNCTION',
    );
    p.run();
    const error = await p.child.call('good').then(
      () => null,
      (e) => e,
    );
    expect(error && error.code).toBe('ERR_PROCLET_UNKNOWN_METHOD');
    await stillWorks(p);
  });

  test('exposing a name already exposed: ERR_PROCLET_DUPLICATE_METHOD, before and after run(), on both sides; the first method stays', async () => {
    const p = responsive();
    p.child.expose({
      resize() {
        return 'first';
      },
    });
    p.parent.expose({ lookup: () => 'first' });
    expectTypeError(thrown(() => p.child.expose({ resize() { return 'second'; } })), 'ERR_PROCLET_DUPLICATE_METHOD');
    expectTypeError(thrown(() => p.child.expose({ echo() {} })), 'ERR_PROCLET_DUPLICATE_METHOD');
    expectTypeError(thrown(() => p.parent.expose({ lookup: () => 'second' })), 'ERR_PROCLET_DUPLICATE_METHOD');
    p.run();
    expectTypeError(thrown(() => p.child.expose({ resize() { return 'third'; } })), 'ERR_PROCLET_DUPLICATE_METHOD');
    expectTypeError(thrown(() => p.parent.expose({ lookup: () => 'third' })), 'ERR_PROCLET_DUPLICATE_METHOD');
    expect(await p.child.call('resize')).toBe('first');
    await stillWorks(p);
  });

  test.each([
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
    ['an object', { name: 'echo' }],
  ])('a method name that is %s: ERR_PROCLET_INVALID_METHOD, thrown by call and callWith', async (_, name) => {
    const p = responsive();
    p.run();
    expectTypeError(thrown(() => p.child.call(name, 1)), 'ERR_PROCLET_INVALID_METHOD');
    expectTypeError(thrown(() => p.child.callWith({ timeout: 1000 }, name, 1)), 'ERR_PROCLET_INVALID_METHOD');
    await stillWorks(p);
  });

  test.each([
    ['a negative timeout', { timeout: -1 }, /timeout/],
    ['a string timeout', { timeout: '1000' }, /timeout/],
    ['a NaN timeout', { timeout: NaN }, /timeout/],
    ['a signal that is not an AbortSignal', { signal: { aborted: false } }, /signal/],
    ['options that are not an object', 'fast', /option/i],
  ])('callWith with %s: ERR_PROCLET_INVALID_OPTION naming it', async (_, options, names) => {
    const p = responsive();
    p.run();
    const error = thrown(() => p.child.callWith(options, 'echo', 1));
    expectTypeError(error, 'ERR_PROCLET_INVALID_OPTION');
    expect(error.message).toMatch(names);
    await stillWorks(p);
  });

  test.each([
    ['an unknown option', { wildcards: true }, /wildcards/],
    ['another unknown option', { retries: 3 }, /retries/],
    ['wildcard that is not a boolean', { wildcard: 'yes' }, /wildcard/],
    ['an empty delimiter', { wildcard: true, delimiter: '' }, /delimiter/],
    ['a delimiter that is not a string', { wildcard: true, delimiter: 5 }, /delimiter/],
    ['a negative startTimeout', { startTimeout: -5 }, /startTimeout/],
    ['a startTimeout that is not a number', { startTimeout: '5s' }, /startTimeout/],
    ['options that are not an object', 'fast', /option/i],
  ])('new Proclet(fn, options) with %s: ERR_PROCLET_INVALID_OPTION naming it', (_, options, names) => {
    const error = thrown(() => new Proclet(function () {}, options));
    expectTypeError(error, 'ERR_PROCLET_INVALID_OPTION');
    expect(error.message).toMatch(names);
  });

  test('valid options are accepted', () => {
    for (const options of [undefined, {}, { wildcard: true }, { wildcard: false, delimiter: ':' }, { startTimeout: 0 }, { startTimeout: 5000 }]) {
      expect(() => new Proclet(function () {}, options)).not.toThrow();
    }
  });
});

test('in the child: bad input throws a TypeError with the same codes, synchronously, and the child carries on', async () => {
  const p = make(function () {
    const attempt = (label, fn) => {
      try {
        const result = fn();
        if (result && typeof result.catch === 'function') result.catch(() => {});
        return [label, 'no error'];
      } catch (e) {
        return [label, e instanceof TypeError, e.code];
      }
    };
    const noop = function () {};
    this.expose({ taken() {} });
    this.send([
      attempt('emit(42)', () => this.emit(42)),
      attempt('on(42, fn)', () => this.on(42, noop)),
      attempt("on('x', 'nope')", () => this.on('x', 'nope')),
      attempt('onAny(7)', () => this.onAny(7)),
      attempt('expose({ m: 1 })', () => this.expose({ m: 1 })),
      attempt('expose(taken)', () => this.expose({ taken() {} })),
      attempt('call(42)', () => this.call(42)),
      attempt("callWith({ timeout: -1 }, 'm')", () => this.callWith({ timeout: -1 }, 'm')),
      attempt("emit('exit')", () => this.emit('exit')),
    ]);
    this.emit('carried on', 'yes');
  });
  const carriedOn = new Promise((resolve) => p.parent.once('carried on', resolve));
  p.run();
  const [report] = await nextMessages(p, 1);
  expect(report).toEqual([
    ['emit(42)', true, 'ERR_PROCLET_INVALID_EVENT'],
    ['on(42, fn)', true, 'ERR_PROCLET_INVALID_EVENT'],
    ["on('x', 'nope')", true, 'ERR_PROCLET_INVALID_FUNCTION'],
    ['onAny(7)', true, 'ERR_PROCLET_INVALID_FUNCTION'],
    ['expose({ m: 1 })', true, 'ERR_PROCLET_INVALID_FUNCTION'],
    ['expose(taken)', true, 'ERR_PROCLET_DUPLICATE_METHOD'],
    ['call(42)', true, 'ERR_PROCLET_INVALID_METHOD'],
    ["callWith({ timeout: -1 }, 'm')", true, 'ERR_PROCLET_INVALID_OPTION'],
    ["emit('exit')", true, 'ERR_PROCLET_RESERVED_EVENT'],
  ]);
  expect(await carriedOn).toBe('yes');
});
