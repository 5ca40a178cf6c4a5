'use strict';
// Errors in the child arrive in the parent as real Errors; the parent survives all of them.

const { proclet, next, endAll, runNode, fixture } = require('./helpers');

afterEach(endAll);

async function firstError(fn, setup) {
  const p = proclet(fn);
  if (setup) setup(p);
  const errored = next(p.parent, 'error');
  p.run();
  const [error] = await errored;
  const exit = await p.exited;
  return { error, exit, p };
}

test('an exception thrown by the worker: name, message, stack, then exit code 1', async () => {
  const { error, exit } = await firstError(function () {
    function deepInTheWorker() {
      throw new RangeError('out of range in child');
    }
    deepInTheWorker();
  });
  expect(error).toBeInstanceOf(RangeError);
  expect(error.name).toBe('RangeError');
  expect(error.message).toBe('out of range in child');
  expect(error.stack).toMatch(/^RangeError: out of range in child\n\s+at deepInTheWorker/);
  expect(exit).toEqual({ code: 1, signal: null });
});

test('an unhandled rejection in an async worker', async () => {
  const { error, exit } = await firstError(async function () {
    await null;
    throw new TypeError('async failure');
  });
  expect(error).toBeInstanceOf(TypeError);
  expect(error.message).toBe('async failure');
  expect(exit.code).toBe(1);
});

test('an unhandled rejection of a floating promise', async () => {
  const { error } = await firstError(function () {
    Promise.reject(new Error('floating'));
  });
  expect(error.message).toBe('floating');
});

test('an exception in a child handler, after earlier messages were delivered', async () => {
  const got = [];
  const { error, exit } = await firstError(
    function () {},
    (p) => {
      p.child.on('message', function (m) {
        this.send(`ok:${m}`);
        if (m === 'boom') throw new Error(`handler failed on ${m}`);
      });
      p.parent.on('message', (m) => got.push(m));
      p.parent.send('fine');
      p.parent.send('boom');
      p.parent.send('never handled');
    },
  );
  expect(got).toEqual(['ok:fine', 'ok:boom']);
  expect(error.message).toBe('handler failed on boom');
  expect(exit.code).toBe(1);
});

test('custom error classes keep their name, code, cause and own properties', async () => {
  const { error } = await firstError(function () {
    class DatabaseError extends Error {
      constructor(message, options) {
        super(message, options);
        this.name = 'DatabaseError';
        this.code = 'E_DB';
        this.retryable = true;
        this.details = { table: 'users', attempts: [1, 2] };
      }
    }
    const root = new TypeError('socket closed');
    root.errno = -32;
    throw new DatabaseError('query failed', { cause: root });
  });
  expect(error).toBeInstanceOf(Error);
  expect(error.name).toBe('DatabaseError');
  expect(error.message).toBe('query failed');
  expect(error.stack).toMatch(/^DatabaseError: query failed/);
  expect(error.code).toBe('E_DB');
  expect(error.retryable).toBe(true);
  expect(error.details).toEqual({ table: 'users', attempts: [1, 2] });
  expect(error.cause).toBeInstanceOf(TypeError);
  expect(error.cause.message).toBe('socket closed');
  expect(error.cause.errno).toBe(-32);
  expect(Object.keys(error)).not.toContain('cause');
});

test('AggregateError keeps its errors', async () => {
  const { error } = await firstError(function () {
    throw new AggregateError([new Error('one'), new RangeError('two')], 'many');
  });
  expect(error).toBeInstanceOf(AggregateError);
  expect(error.errors.map((e) => [e.name, e.message])).toEqual([
    ['Error', 'one'],
    ['RangeError', 'two'],
  ]);
});

test('a thrown non-Error value becomes an Error that shows it', async () => {
  const { error } = await firstError(function () {
    throw { reason: 'plain object' };
  });
  expect(error).toBeInstanceOf(Error);
  expect(error.message).toMatch(/threw a non-Error value: \{ reason: 'plain object' \}/);
  expect(error.value).toEqual({ reason: 'plain object' });
});

describe('what the child throws arrives as what it threw', () => {
  // The values live in the handler (it runs in the child); the parent names one per message.
  function thrower() {
    const p = proclet(function () {});
    p.child.on('message', function ([name, how]) {
      const values = {
        undefined: undefined,
        null: null,
        NaN: NaN,
        zero: 0,
        minusZero: -0,
        number: 42,
        infinity: -Infinity,
        string: 'undefined',
        empty: '',
        object: { a: 1, nested: { b: [1, 'two'] } },
        array: [1, 2],
        bigint: 10n,
        boolean: false,
      };
      if (how === 'reject') Promise.reject(values[name]);
      else throw values[name];
    });
    return p;
  }

  test.each([
    ['undefined', undefined],
    ['null', null],
    ['NaN', NaN],
    ['zero', 0],
    ['minusZero', -0],
    ['number', 42],
    ['infinity', -Infinity],
    ['string', 'undefined'],
    ['empty', ''],
    ['object', { a: 1, nested: { b: [1, 'two'] } }],
    ['array', [1, 2]],
    ['bigint', 10n],
    ['boolean', false],
  ])('%s, thrown and rejected', async (name, value) => {
    for (const how of ['throw', 'reject']) {
      const p = thrower();
      const errored = next(p.parent, 'error');
      p.run();
      p.parent.send([name, how]);
      const [error] = await errored;
      expect(error).toBeInstanceOf(Error);
      expect(error.value).toEqual(value);
      expect(error.message).toMatch(/threw a non-Error value: /);
      expect((await p.exited).code).toBe(1);
    }
  });

  test('an Error whose properties cannot be read still arrives as its class, name and message', async () => {
    const { error } = await firstError(function () {
      const e = new TypeError('half readable');
      e.kept = 'yes';
      Object.defineProperty(e, 'broken', {
        enumerable: true,
        get() {
          throw new Error('no reading this');
        },
      });
      throw e;
    });
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('half readable');
    expect(error.kept).toBe('yes');
    expect('broken' in error).toBe(false);
  });

  test('a Proxy around an Error whose traps throw still arrives as its class and message', async () => {
    const { error } = await firstError(function () {
      throw new Proxy(new RangeError('behind a proxy'), {
        ownKeys() {
          throw new Error('no keys');
        },
      });
    });
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('behind a proxy');
  });
});

test("a user's own uncaughtException listener in the child takes precedence", async () => {
  const p = proclet(function () {
    process.on('uncaughtException', (e) => {
      this.send(`handled: ${e.message}`);
      this.close(0);
    });
    setTimeout(() => {
      throw new Error('caught by the user');
    }, 1);
  });
  const errors = [];
  const messages = [];
  p.parent.on('error', (e) => errors.push(e));
  p.parent.on('message', (m) => messages.push(m));
  p.run();
  expect(await p.exited).toEqual({ code: 0, signal: null });
  expect(messages).toEqual(['handled: caught by the user']);
  expect(errors).toEqual([]);
});

test('a child killed by a signal it was not sent by proclet: an error says what happened', async () => {
  const p = proclet(function () {
    this.send('up');
    setInterval(() => {}, 1000);
  });
  const errored = next(p.parent, 'error');
  p.parent.once('message', () => process.kill(p.pid, 'SIGKILL'));
  p.run();
  const [error] = await errored;
  expect(error.code).toBe('ERR_PROCLET_CHILD_KILLED');
  expect(error.message).toContain(`child process ${p.pid} was killed by SIGKILL`);
  expect(await p.exited).toEqual({ code: null, signal: 'SIGKILL' });
});

test('listener exceptions in the parent do not cost other messages', async () => {
  // As with any EventEmitter, a throwing listener stops the later listeners of that one emit;
  // the later messages and the exit are still delivered, and the exception surfaces uncaught.
  const result = await runNode([fixture('throwing-listener.js')]);
  const lines = result.stdout.trim().split('\n');
  expect(lines).toContain('uncaught: listener failed on 1');
  expect(lines.filter((l) => l.startsWith('got') || l.startsWith('exit'))).toEqual(['got 2', 'got 3', 'exit 0']);
  expect(result.code).toBe(0);
});

test("an exception in a parent listener is reported at the user's line, not inside proclet", async () => {
  const file = fixture('throwing-exit-listener.js');
  const result = await runNode([file]);
  expect(result.code).toBe(1);
  const lines = result.stderr.split('\n');
  // Node's report starts with the file and line of the throw, then that line and a caret.
  expect(lines[0]).toBe(`${file}:9`);
  expect(lines[1]).toBe("  throw new Error('thrown by my exit listener');");
  expect(result.stderr).toContain('Error: thrown by my exit listener');
});

test("with no 'error' listener the error goes to stderr and the parent carries on", async () => {
  const result = await runNode([fixture('unhandled-child-error.js')]);
  expect(result.hung).toBe(false);
  expect(result.stderr).toMatch(/proclet: unhandled 'error' from child process \d+/);
  expect(result.stderr).toContain('Error: nobody listens');
  expect(result.stdout).toBe('parent still alive, child exit code 1\n');
  expect(result.code).toBe(0);
});
