'use strict';
// The constructor, run(), kill(), pid: argument checks and the accepted kinds of function.

const { proclet, nextMessages, endAll, Proclet } = require('./helpers');

afterEach(endAll);

function expectTypeError(fn, code, messagePart) {
  let thrown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(TypeError);
  expect(thrown.code).toBe(code);
  if (messagePart) expect(thrown.message).toMatch(messagePart);
  return thrown;
}

describe('new Proclet(fn) refuses what cannot run in another process', () => {
  test.each([
    ['a missing argument', () => new Proclet(), /got nothing/],
    ['null', () => new Proclet(null), /got null/],
    ['an object', () => new Proclet({ run() {} }), /got \{/],
    ['a native function', () => new Proclet(Math.max), /native function \(max\)/],
    ['a bound function', () => new Proclet(function work() {}.bind(null)), /bound function \(bound work\)/],
    ['a class', () => new Proclet(class Worker {}), /a class \(Worker\)/],
    ['an anonymous class', () => new Proclet(class {}), /a class/],
  ])('%s', (_, create, message) => {
    const error = expectTypeError(create, 'ERR_PROCLET_INVALID_FUNCTION', message);
    expect(error.message).toMatch(/^proclet: new Proclet\(fn\) expects a function/);
  });
});

describe('new Proclet(fn) accepts every kind of JS function', () => {
  async function resultOf(fn) {
    const p = proclet(fn);
    const failed = new Promise((_, reject) => p.parent.on('error', reject));
    const [message] = await Promise.race([
      Promise.all([nextMessages(p, 1).then((m) => m[0]), p.run().exited]),
      failed,
    ]);
    return message;
  }

  test('a function declaration', async () => {
    function work() {
      this.send('declaration');
    }
    expect(await resultOf(work)).toBe('declaration');
  });

  test('a function expression', async () => {
    expect(await resultOf(function () { this.send('expression'); })).toBe('expression');
  });

  test('an arrow function (this is the context, lexically)', async () => {
    expect(await resultOf(() => this.send('arrow'))).toBe('arrow');
  });

  test('an async function, awaited work included', async () => {
    expect(
      await resultOf(async function () {
        await new Promise((resolve) => setTimeout(resolve, 10));
        this.send('async');
      }),
    ).toBe('async');
  });

  test('an async arrow function', async () => {
    expect(await resultOf(async () => this.send(await Promise.resolve('async arrow')))).toBe('async arrow');
  });

  test('method shorthand, whose source is not an expression on its own', async () => {
    const worker = { work() { this.send('method'); } }.work;
    expect(await resultOf(worker)).toBe('method');
  });

  test('async method shorthand', async () => {
    const worker = { async work() { this.send(await 'async method'); } }.work;
    expect(await resultOf(worker)).toBe('async method');
  });

  test('a method with a computed name', async () => {
    const worker = { ['comp' + 'uted']() { this.send('computed'); } }.computed;
    expect(await resultOf(worker)).toBe('computed');
  });

  test('a function with a trailing line comment', async () => {
    // eslint-disable-next-line
    const worker = new Function("this.send('comment') // trailing");
    expect(await resultOf(worker)).toBe('comment');
  });
});

describe('run()', () => {
  test('returns the proclet and sets pid', async () => {
    const p = proclet(function () {});
    expect(p.pid).toBeUndefined();
    expect(p.run()).toBe(p);
    expect(Number.isInteger(p.pid) && p.pid > 0).toBe(true);
    await p.exited;
  });

  test('a second call is a clear error and the first child is unaffected', async () => {
    const p = proclet(function () {
      setTimeout(() => this.send('still here'), 50);
    });
    p.run();
    let error;
    try {
      p.run();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('ERR_PROCLET_ALREADY_STARTED');
    expect(error.message).toContain(`child process ${p.pid}`);
    expect(await nextMessages(p, 1)).toEqual(['still here']);
    await p.exited;
    expect(() => p.run()).toThrow(expect.objectContaining({ code: 'ERR_PROCLET_ALREADY_STARTED' }));
  });

  test('the worker runs with the argv a script would see', async () => {
    const p = proclet(function () {
      this.send(process.argv.length);
    });
    const [length] = await nextMessages(p.run(), 1);
    expect(length).toBe(2);
  });

  test('a spawn failure arrives as error then exit, and the parent carries on', async () => {
    const realExecPath = process.execPath;
    const p = proclet(function () {});
    const events = [];
    p.parent.on('error', (e) => events.push(['error', e.code, e.message]));
    p.parent.on('exit', (code, signal) => events.push(['exit', code, signal]));
    Object.defineProperty(process, 'execPath', { value: '/nonexistent/node', configurable: true });
    try {
      p.run();
    } finally {
      Object.defineProperty(process, 'execPath', { value: realExecPath, configurable: true });
    }
    await p.exited;
    expect(events).toEqual([
      ['error', 'ERR_PROCLET_SPAWN', expect.stringContaining('/nonexistent/node')],
      ['exit', null, null],
    ]);
    expect(p.pid).toBeUndefined();
    expect(() => p.parent.send(1)).toThrow(/never started/);
  });
});

describe('kill(signal)', () => {
  test('ends the child with the signal, reported on exit with no error', async () => {
    const p = proclet(function () {
      setInterval(() => {}, 1000);
      this.send('up');
    });
    const errors = [];
    p.parent.on('error', (e) => errors.push(e));
    p.run();
    await nextMessages(p, 1);
    expect(p.kill()).toBe(true);
    expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(errors).toEqual([]);
    expect(p.kill()).toBe(false);
  });

  test('accepts signal numbers', async () => {
    const p = proclet(function () {
      setInterval(() => {}, 1000);
      this.send('up');
    });
    p.run();
    await nextMessages(p, 1);
    expect(p.kill(9)).toBe(true);
    expect(await p.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });

  test('refuses unknown signals with a TypeError', () => {
    const p = proclet(function () {});
    expectTypeError(() => p.kill('SIGNOPE'), 'ERR_PROCLET_INVALID_SIGNAL', /SIGNOPE/);
    expectTypeError(() => p.kill(1.5), 'ERR_PROCLET_INVALID_SIGNAL');
    expectTypeError(() => p.kill({}), 'ERR_PROCLET_INVALID_SIGNAL');
  });

  test('before run() it does nothing', () => {
    const p = proclet(function () {});
    expect(p.kill()).toBe(false);
  });
});

describe('child.on(event, handler)', () => {
  test('refuses event names that are not non-empty strings', () => {
    const p = proclet(function () {});
    expectTypeError(() => p.child.on(42, function () {}), 'ERR_PROCLET_INVALID_EVENT', /non-empty string, got 42/);
    expectTypeError(() => p.child.on('', function () {}), 'ERR_PROCLET_INVALID_EVENT');
  });

  test('refuses handlers that cannot run in the child', () => {
    const p = proclet(function () {});
    expectTypeError(() => p.child.on('message'), 'ERR_PROCLET_INVALID_FUNCTION', /child\.on\('message', handler\)/);
    expectTypeError(() => p.child.on('message', Math.min), 'ERR_PROCLET_INVALID_FUNCTION');
    expectTypeError(() => p.child.on('message', class {}), 'ERR_PROCLET_INVALID_FUNCTION');
  });

  test('returns the handlers object for chaining', () => {
    const p = proclet(function () {});
    expect(p.child.on('message', () => {})).toBe(p.child);
  });
});
