'use strict';
// The source boundary. proclet ships a function's source text to a fresh process, and in a
// project that compiles its code that text is the compiler's output: it refers to things that
// lived in the parent's file and do not exist in the child. This module makes the common cases
// run and explains the rest:
//
// - Helper functions that Babel, TypeScript, esbuild (tsx) and SWC put at the top of a compiled
//   file (`_asyncToGenerator`, `_regenerator`, `_objectSpread`, `__awaiter`, `__generator`,
//   `__name`, `__async`, `__publicField`, `_async_to_generator`, `_ts_decorate`, ...): the ones the
//   source names are shipped with it, from lib/source/helpers.js (generated from Babel's, tslib's,
//   esbuild's and @swc/helpers' own code), compiled in the child apart from the function and
//   passed to it as parameters (the function's text stays where it was written). Only what is
//   referenced is added, so a plain function's script is unchanged. They are embedded rather than
//   loaded from the user's project because a project that compiles with inline helpers (the
//   default of these tools) need not have @babel/runtime, tslib or @swc/helpers installed.
// - Babel's async-to-generator transform turns `async function () {}` into a wrapper whose body
//   stays in the parent's closure (`_asyncToGenerator(function* () {...})` returns
//   `function () { ... n.apply(t, e) ... }`). The generator it wraps is recovered without running
//   any of it (`unwrapAsync`), and shipped as `_asyncToGenerator(<generator>)`.
// - Rewrites of `this`: compilers turn an arrow function's `this` into `_this` (Babel, and
//   TypeScript for ES5), `void 0` (Babel's CommonJS transform at the top level of a module),
//   `exports` (esbuild, at the top level of a CommonJS module), pass `void 0` to `__awaiter`
//   (TypeScript) or to `_async_to_generator(...).call` (SWC), or call SWC's generator without it.
//   proclet gives arrow functions the context as `this`, so these are bound or rewritten back to
//   `this`.
// - Generator functions that a compiler rewrote into plain functions (TypeScript's `__generator`,
//   `__asyncGenerator`, Babel's `_wrapAsyncGenerator`, esbuild's `__asyncGenerator`, SWC's
//   `_ts_generator` and `_wrap_async_generator`) are refused, like the native ones that
//   lib/source/function.js refuses: nothing in the child iterates what they return.
// - Coverage counters (`cov_1x2y3z().s[0]++`) are provided by the child runtime itself
//   (runtime/coverage.js) and merged back by lib/source/coverage.js.
// - What remains is a closure: `explainChildError` turns the child's "X is not defined" into
//   an error that says so.
//
// All of this is decided on the code, parsed by acorn (lib/source/syntax.js), never on the text:
// what a string, template literal, regular expression or comment contains is the user's and
// reaches the child as written. The text is only looked at first, to skip the parse for a source
// that cannot need anything (a plain function); that look may see a name in a string, but never
// misses one in the code. (Babel's wrapper shapes below are the exception, for the reason given
// there.)
//
// The messages this module builds are made by lib/shared/errors.js ("proclet: ..." and a stable
// code).

// Every word of the text, in code or not: the first look (see above).
const WORD = /[A-Za-z_$][\w$]*/g;
// Nothing below applies to a source without one of these (most hand-written functions).
const MAY_BE_COMPILED = /_|void 0|regeneratorRuntime|\.apply\(|\bexports\b/;

let helperTables;
function helpers() {
  if (!helperTables) helperTables = require('./helpers');
  return helperTables;
}

const errors = require('../shared/errors');
const { makeError } = errors;
const syntax = require('./syntax');

/** True if the code of the function source `text` uses `name` as an identifier (strings and comments do not count). */
function mentions(text, name) {
  return syntax.usesIdentifier(text, name);
}

// ---- Babel's async wrappers -------------------------------------------------------------------
//
// These shapes are matched on the text because each is anchored at the start of a function's
// source and spells out code up to the point where it is stopped (`n.apply(t, e)` in the wrapper,
// `_work.apply(this, arguments)` in the stub): no string or comment can stand in that part, and
// nothing before it runs. The initializer, whose assignment does run, is checked on its syntax
// tree (syntax.asyncInitializer).

// `_asyncToGenerator`'s inner function (Babel 7, inlined or from @babel/runtime; minified or not):
//   function () { var t = this, e = arguments; return new Promise(function (r, o) {
//     var a = n.apply(t, e); function _next(n) { asyncGeneratorStep(...) } ... }); }
const ASYNC_WRAPPER =
  /^function\s*\(\)\s*\{\s*var\s+([\w$]+)\s*=\s*this\s*,\s*([\w$]+)\s*=\s*arguments\s*;\s*return\s+new\s+Promise\(\s*function\s*\(\s*[\w$]+\s*,\s*[\w$]+\s*\)\s*\{\s*var\s+[\w$]+\s*=\s*[\w$]+\.apply\(\s*\1\s*,\s*\2\s*\)\s*;[^]*\basyncGeneratorStep\([^]*\}$/;
// Babel 6's: function () { var gen = fn.apply(this, arguments); return new Promise(...) }
const ASYNC_WRAPPER_6 =
  /^function\s*\(\)\s*\{\s*var\s+[\w$]+\s*=\s*[\w$]+\.apply\(\s*this\s*,\s*arguments\s*\)\s*;\s*return\s+new\s+Promise\(\s*function\s*\(\s*[\w$]+\s*,\s*[\w$]+\s*\)\s*\{[^]*\}$/;
// What Babel leaves in place of an async function declaration or a named async function:
//   function work() { return _work.apply(this, arguments); }
// (Babel's names for the function behind it start with `_`: `_work`, `_ref`, `_ref3`.)
const ASYNC_STUB = /^function\s*[\w$]*\s*\([\w$,\s]*\)\s*\{\s*return\s+_[\w$]*\.apply\(\s*this\s*,\s*arguments\s*\)\s*;?\s*\}$/;
// ... and the function behind the stub, which replaces itself by a wrapper on its first call:
//   function _work() { _work = _asyncToGenerator(function* () {...}); return _work.apply(this, arguments); }
// (`_wrapAsyncGenerator` for an async generator; a first look at the text, syntax.asyncInitializer decides).
const ASYNC_INITIALIZER = /^function\s+([\w$]+)\s*\(\)\s*\{\s*\1\s*=[^]*(?:asyncToGenerator|wrapAsyncGenerator)/;
// What `_wrapAsyncGenerator` (Babel's async generator transform) returns for `async function* () {}`:
//   function () { return new AsyncGenerator(e.apply(this, arguments)); }
const ASYNC_GENERATOR_WRAPPER =
  /^function\s*\(\)\s*\{\s*return\s+new\s+_?AsyncGenerator\(\s*[\w$]+\.apply\(\s*this\s*,\s*arguments\s*\)\s*\)\s*;?\s*\}$/;

function sourceOf(fn) {
  try {
    return Function.prototype.toString.call(fn);
  } catch {
    return '';
  }
}

function isGeneratorFunction(fn) {
  return Object.prototype.toString.call(fn) === '[object GeneratorFunction]';
}

// What captureGenerator and unwrapAsync report for the stub of an `async function*` declaration.
const ASYNC_GENERATOR = Symbol('async generator');

/**
 * Finds the generator function inside a Babel async wrapper without running any of its code.
 *
 * The wrapper's first act is `generator.apply(this, arguments)`. With `Function.prototype.apply`
 * of the wrapper's realm replaced for the duration of one synchronous call, that call reports its
 * receiver (the generator) and throws instead of starting it. Only Babel's own pieces (the stub,
 * the initializer, the wrapper, recognized by their exact shapes above) are let through on the
 * way; anything else stops the attempt before it runs. The wrapper's promise, rejected by the
 * stop, is handled here. Returns the generator, null, or ASYNC_GENERATOR when the stub turned out
 * to stand for an async generator function.
 */
function captureGenerator(fn) {
  const functionPrototype = Object.getPrototypeOf(fn);
  const original = functionPrototype && Object.getOwnPropertyDescriptor(functionPrototype, 'apply');
  if (!original || typeof original.value !== 'function' || !original.configurable) return null;
  const stop = Symbol('stop');
  let captured = null;
  let steps = 0;
  // While proclet's own code runs inside the replacement (the parser that checks an initializer,
  // loaded in this realm too, e.g. under Jest), its calls of `apply` are its own: let them through.
  let checking = false;
  function apply(thisArg, args) {
    const target = this;
    if (checking) return Reflect.apply(target, thisArg, args == null ? [] : args);
    steps++;
    if (typeof target !== 'function' || steps > 6) throw stop;
    if (isGeneratorFunction(target)) {
      captured = target;
      throw stop;
    }
    const source = sourceOf(target);
    // A stub in front of an `async function*`: there is no generator to ship, only to refuse.
    if (ASYNC_GENERATOR_WRAPPER.test(source)) {
      captured = ASYNC_GENERATOR;
      throw stop;
    }
    let babels = ASYNC_WRAPPER.test(source) || ASYNC_WRAPPER_6.test(source);
    if (!babels && ASYNC_INITIALIZER.test(source)) {
      let kind;
      checking = true;
      try {
        kind = syntax.asyncInitializer(source);
      } finally {
        checking = false;
      }
      if (kind === 'async generator') captured = ASYNC_GENERATOR;
      babels = kind === 'async function';
    }
    if (babels) return Reflect.apply(target, thisArg, args == null ? [] : Array.from(args));
    throw stop;
  }
  let result;
  try {
    Object.defineProperty(functionPrototype, 'apply', { ...original, value: apply });
  } catch {
    return null;
  }
  try {
    result = Reflect.apply(fn, undefined, []);
  } catch (error) {
    if (error !== stop) captured = null;
  } finally {
    Object.defineProperty(functionPrototype, 'apply', original);
  }
  if (result !== null && (typeof result === 'object' || typeof result === 'function')) {
    try {
      if (typeof result.then === 'function') result.then(undefined, () => {});
    } catch {}
  }
  return captured;
}

/**
 * If `fn` is Babel's replacement for an async function, returns the source to ship instead:
 * `_asyncToGenerator(<the generator>)`. Returns null for anything else, `false` for a Babel
 * wrapper whose generator could not be found, and ASYNC_GENERATOR for Babel's stub of an
 * `async function*` declaration.
 */
function unwrapAsync(fn, source) {
  const wrapper = ASYNC_WRAPPER.test(source) || ASYNC_WRAPPER_6.test(source);
  if (!wrapper && !ASYNC_STUB.test(source)) return null;
  const generator = captureGenerator(fn);
  if (generator === ASYNC_GENERATOR) return ASYNC_GENERATOR;
  if (generator) {
    const generatorSource = sourceOf(generator);
    try {
      new Function(`return (\n${generatorSource}\n);`);
      return `_asyncToGenerator(\n${generatorSource}\n)`;
    } catch {}
  }
  // A stub-shaped function of the user's own is shipped as it is.
  return wrapper ? false : null;
}

// ---- helpers and `this` -----------------------------------------------------------------------

// The API of the regeneratorRuntime object (regenerator-runtime, @babel/runtime/regenerator).
const REGENERATOR_RUNTIME_MEMBER = /^(mark|wrap|async|awrap|keys|values|isGeneratorFunction|AsyncIterator)$/;
// Babel helper names that people give their own functions too (`const _get = require('lodash/get')`):
// a source that names one is more likely a closure than Babel's output (which today uses
// `_superPropGet`/`_superPropSet`), so it gets the explanation, not a helper. Still shipped as
// dependencies of other helpers.
const COMMON_NAMES = new Set(['_get', '_set', '_defaults', '_identity']);

const has = (table, name) => Object.prototype.hasOwnProperty.call(table, name);

/** The Babel helper that `word` names, if any. */
function babelName(word) {
  const { babel } = helpers();
  if (COMMON_NAMES.has(word)) return undefined;
  if (has(babel, word)) return word;
  // `_objectSpread2`: Babel's name for a helper when the file already had an `_objectSpread`.
  const base = /^(_[\w$]*?)\d+$/.exec(word);
  return base && has(babel, base[1]) ? base[1] : undefined;
}

/** Whether preludeFor could act on a source that names `word` (the first look; see the top). */
function mayNeedPrelude(word) {
  if (!(word.startsWith('_') || word.startsWith('templateObject_') || word === 'regeneratorRuntime' || word.startsWith('tslib'))) return false;
  const { tslib, esbuild, swc } = helpers();
  return (
    /^_this\d*$/.test(word) ||
    /^templateObject_\d+$/.test(word) ||
    /^tslib(?:_\d+)?$/.test(word) ||
    word === 'regeneratorRuntime' ||
    has(tslib, word) ||
    has(esbuild, word) ||
    swcName(word) !== undefined ||
    babelName(word) !== undefined
  );
}

/** The SWC helper that `word` names (`_async_to_generator`), if any and if Babel has none of that name. */
function swcName(word) {
  const { swc } = helpers();
  if (COMMON_NAMES.has(word) || !has(swc, word) || babelName(word) !== undefined) return undefined;
  return word;
}

/**
 * The declarations (helpers and bindings) that a source needs, in an order that works, from
 * what its code names (syntax.names: { words, imports, tslibModules }).
 */
function preludeFor({ words, imports, tslibModules, swcModules, esbuildShapes }) {
  const candidates = [...words].filter((w) => w.startsWith('_') || w.startsWith('templateObject_') || w === 'regeneratorRuntime');
  if (candidates.length === 0 && tslibModules.size === 0) return [];
  const { babel, tslib, esbuild, swc } = helpers();
  const tableKeys = new Map([[babel, 'b'], [tslib, 't'], [esbuild, 'e'], [swc, 's']]);
  // `__await`, `__asyncGenerator` and `__runInitializers` are both esbuild's and tslib's helpers
  // (different code): esbuild's when its shapes (syntax.names) or another of its helpers say so.
  const byEsbuild =
    esbuildShapes || candidates.some((w) => w.startsWith('__') && has(esbuild, w) && !has(tslib, w));

  /** The helper declarations for `roots` ([table, name]), each once, dependencies first. */
  const declarations = (roots) => {
    const code = [];
    const done = new Set();
    const visit = (table, name) => {
      const key = `${tableKeys.get(table)}:${name}`;
      if (done.has(key)) return;
      done.add(key);
      for (const dep of table[name].deps) visit(table, dep);
      code.push(table[name].code);
    };
    for (const [table, name] of roots) visit(table, name);
    return code;
  };

  const roots = [];
  const bindings = [];
  // @babel/plugin-transform-runtime: `(0, _asyncToGenerator2.default)(...)`, `_regenerator.default.mark(...)`,
  // variables of the parent's file holding @babel/runtime modules. Each becomes a module object
  // with its helpers in a scope of its own (their names may be the variable's).
  const imported = new Set();
  for (const [word, member] of imports) {
    const name = babelName(word);
    // transform-runtime's variables carry a number (`_asyncToGenerator2`), except regenerator's;
    // `_get.default` is someone's `import _get from 'lodash/get'`.
    if (!name || imported.has(word) || (name === word && word !== '_regenerator')) continue;
    imported.add(word);
    const runtimeObject = name === '_regenerator' && member !== undefined && REGENERATOR_RUNTIME_MEMBER.test(member);
    const root = runtimeObject ? '_regeneratorRuntime' : name;
    bindings.push(
      `var ${word} = (function () {\n${declarations([[babel, root]]).join('\n')}\nreturn { default: ${runtimeObject ? '_regeneratorRuntime()' : root} };\n})();`,
    );
  }

  // SWC with externalHelpers, in CommonJS: `_async_to_generator._(...)`, the variable holding
  // the @swc/helpers module `@swc/helpers/_/_async_to_generator`.
  // The helpers share one scope, as in @swc/helpers (`_overload_yield` is one class for all).
  const swcImports = [...swcModules].filter((word) => has(swc, word) && !COMMON_NAMES.has(word));
  if (swcImports.length > 0) {
    for (const word of swcImports) imported.add(word);
    const all = swcImports.map((word) => `${word}: ${word}`).join(', ');
    bindings.push(`var __proclet_swc = (function () {\n${declarations(swcImports.map((word) => [swc, word])).join('\n')}\nreturn { ${all} };\n})();`);
    bindings.push(...swcImports.map((word) => `var ${word} = { _: __proclet_swc.${word} };`));
  }

  for (const word of candidates) {
    if (imported.has(word)) continue;
    if (/^_this\d*$/.test(word)) {
      bindings.push(`var ${word} = this;`);
    } else if (/^templateObject_\d+$/.test(word)) {
      // tsc for ES5, in a module: `tag(templateObject_1 || (templateObject_1 = __makeTemplateObject(...)))`,
      // the cache being a variable of the file. It starts empty.
      bindings.push(`var ${word};`);

    } else if (word.startsWith('__')) {
      if (has(esbuild, word) && (byEsbuild || !has(tslib, word))) roots.push([esbuild, word]);
      else if (has(tslib, word)) roots.push([tslib, word]);
    } else if (word.startsWith('_')) {
      const name = babelName(word);
      if (name) {
        roots.push([babel, name]);
        if (name !== word) bindings.push(`var ${word} = ${name};`);
      } else if (swcName(word)) {
        roots.push([swc, word]);
      }
    } else if (word === 'regeneratorRuntime') {
      // The global that Babel before 7.18 expected (regenerator-runtime/runtime).
      roots.push([babel, '_regeneratorRuntime']);
      bindings.push('var regeneratorRuntime = _regeneratorRuntime();');
    }
  }
  // tsc --importHelpers: `tslib_1.__awaiter(...)`, tslib being a variable of the parent's file.
  if (tslibModules.size > 0) {
    const members = [...words].filter((w) => w.startsWith('__') && has(tslib, w) && !(byEsbuild && has(esbuild, w)));
    for (const name of tslibModules) bindings.push(`var ${name} = { ${members.map((m) => `${m}: ${m}`).join(', ')} };`);
  }
  return declarations(roots).concat(bindings);
}

/**
 * Makes a function's source ready to ship: `shipped` is what function.js's functionSource made of
 * `fn` ({ source, method }). Returns { source, method, original, prelude? } where `original` is
 * the function's own code (what closure explanations look in) and `prelude`, when the source
 * needs helpers or bindings, is `{ code, names }`: declarations to evaluate with `this` = the
 * context, and the names they declare, which the function gets as parameters. The source is
 * unchanged unless it needs something (then only `this` where a compiler wrote something else,
 * padded to the same length).
 */
function prepare(fn, shipped, what) {
  let source = shipped.source;
  let method = shipped.method;
  const asWritten = { source, method, original: source };
  if (!MAY_BE_COMPILED.test(source)) return asWritten;

  const unwrapped = unwrapAsync(fn, source);
  if (unwrapped === ASYNC_GENERATOR || ASYNC_GENERATOR_WRAPPER.test(source)) {
    throw compiledGeneratorError(what, fn, { async: true, helper: '_wrapAsyncGenerator' });
  }
  if (unwrapped === false) {
    throw makeError(
      TypeError,
      'ERR_PROCLET_INVALID_FUNCTION',
      `${what} got a wrapper that Babel generated around an async function (_asyncToGenerator), and the function inside it could not be found: ` +
        "its body is in the wrapper's closure, not in its source. Configure Babel to keep async functions " +
        "(@babel/preset-env with targets { node: 'current' }), or pass a regular function that calls the async code.",
    );
  }
  if (unwrapped) {
    source = unwrapped;
    method = false;
  }
  // What runs (the generator, for an unwrapped wrapper): where closure explanations look.
  const own = source;

  // The second look at the text: no helper's name and no `void 0` anywhere means nothing to do.
  if (!unwrapped && !source.includes('void 0') && !/\bexports\b/.test(source) && !(source.match(WORD) || []).some(mayNeedPrelude)) return asWritten;

  const parsed = syntax.parseFunction(source, method);
  let body = source;
  let scan;
  if (parsed) {
    const generator = syntax.compiledGenerator(parsed);
    if (generator) throw compiledGeneratorError(what, fn, generator);
    // `void 0` where the compiler wrote it for `this`, back to `this` (last first, so that the
    // ranges before stay where they are). An arrow function's own `this` only when it is the
    // function itself that is shipped, not the generator of a Babel wrapper.
    const arrow = !unwrapped && parsed.root.type === 'ArrowFunctionExpression';
    const replacements = syntax.voidThis(parsed, arrow).map(([start, end]) => [start, end, 'this']);
    const swcArrow = !unwrapped && syntax.swcAsyncArrow(parsed);
    if (swcArrow) replacements.push([...swcArrow, '.call(this)']);
    // A shorter replacement is padded with spaces: what follows stays in its column.
    for (const [start, end, text] of replacements.sort((a, b) => b[0] - a[0])) {
      body = `${body.slice(0, start)}${text.padEnd(end - start)}${body.slice(end)}`;
    }
    scan = syntax.names(parsed.tokens);
    scan.exportsAsThis = arrow && syntax.exportsAsThis(parsed);
  } else {
    // Syntax that acorn cannot read (newer than it): shipped as written, with only what proclet
    // itself put in it.
    scan = { words: new Set(unwrapped ? ['_asyncToGenerator'] : []), imports: [], tslibModules: new Set(), swcModules: new Set(), esbuildShapes: false };
  }

  const declarations = preludeFor(scan);
  if (scan.exportsAsThis) declarations.push('var exports = this;');
  if (declarations.length === 0) return { source: body, method, original: own };
  // The helpers and bindings are compiled in the child apart from the function (with `this` =
  // the context), and reach it as parameters: the function's own text stays where it was
  // written, line for line (lib/source/location.js).
  const code = declarations.join('\n');
  return { source: body, method, original: own, prelude: { code, names: syntax.declaredNames(code) } };
}

/** The refusal of a generator function as a compiler rewrote it (`helper` gives the compiler away). */
function compiledGeneratorError(what, fn, { async, helper, tool }) {
  const compiler = tool || (helper.startsWith('__') ? 'TypeScript' : 'Babel');
  const kind = async ? 'an async generator function' : 'a generator function';
  return errors.generatorFunction(what, `${kind} (${fn.name || 'anonymous'}) as ${compiler} compiles it (${helper})`);
}

// ---- explanations -----------------------------------------------------------------------------

/**
 * A better reason than "cannot be turned back into a function" for sources that only work where
 * they were written, or undefined.
 */
function sourceHint(source) {
  const found = syntax.placeBoundSyntax(source);
  if (found.importMeta) {
    return (
      'It uses import.meta, which exists only in the module it was written in; the function runs ' +
      'in the child as a function, where __filename, __dirname and require() are provided instead ' +
      '(rooted at the file that created the Proclet), and import() works.'
    );
  }
  if (found.privateName) {
    return (
      'It uses private class members (#name), which exist only inside the body of their class: pass a ' +
      'function that creates the object in the child instead, or send the data it needs as a message.'
    );
  }
  return undefined;
}

const NEWER_TARGET = "compile for a newer target (Babel targets { node: 'current' }, TypeScript target ES2018 or later)";

// Names that compilers create in the parent's file and a shipped function can refer to. The hint
// names the tool only where the name gives it away; a name several tools (or people) use gets
// none.
function compilerHint(name) {
  const notYours = (tool, what) => ` \`${name}\` was not written by you: ${tool} ${what}`;
  if (/^_excluded\d*$/.test(name)) {
    return (
      notYours('Babel', 'moved the keys of an object rest pattern (const { a, ...rest } = object) ') +
      `out of the function to the top of the parent's file. ${capitalize(NEWER_TARGET)}, or copy the object and delete the keys instead.`
    );
  }
  if (/^_templateObject\d*$/.test(name)) {
    return (
      notYours('Babel', "moved the strings of a tagged template out of the function to the top of the parent's file. ") +
      `${capitalize(NEWER_TARGET)}, or call the tag function directly.`
    );
  }
  if (/^import_[\w$]+$/.test(name)) {
    return notYours('esbuild (which tsx runs)', "made it of an `import` at the top of the parent's file. require() or import() the module inside the function.");
  }
  if (/^[A-Za-z$][\w$]*_\d+$/.test(name) && !/^templateObject_/.test(name)) {
    return (
      ` If you did not write \`${name}\` yourself, it is how TypeScript (tsc) names a module that the parent's file imports ` +
      '(import x from "x" becomes x_1 in CommonJS output): require() or import() the module inside the function.'
    );
  }
  const { babel, tslib, esbuild, swc } = helpers();
  const tools = [
    [esbuild, 'esbuild (which tsx runs)'],
    [tslib, 'TypeScript (tsc)'],
    [babel, 'Babel'],
    [swc, 'SWC'],
  ].filter(([table]) => has(table, name) && !COMMON_NAMES.has(name));
  if (tools.length === 1) {
    return (
      notYours(tools[0][1], `puts a helper of that name at the top of the parent's file, and proclet ships it only with a function it can read `) +
      '(this one has syntax that its parser, acorn, does not know): keep that syntax out of the function, or compile it for an older target.'
    );
  }
  if (/^_(?!_)/.test(name)) {
    return (
      ` If you did not write \`${name}\` yourself, a compiler (Babel, TypeScript) or another tool added it to the parent's file: ` +
      `${NEWER_TARGET} so that the function needs nothing from that file.`
    );
  }
  return '';
}

function capitalize(text) {
  return text[0].toUpperCase() + text.slice(1);
}

/**
 * The child's "X is not defined", when X is named by a function proclet shipped, becomes an
 * ERR_PROCLET_CLOSURE ReferenceError that says why; the original stays as `cause`. `shipped` is
 * [{ what, source }] for the worker and every handler (their sources before `prepare`).
 */
function explainChildError(error, shipped) {
  if (!(error instanceof ReferenceError)) return error;
  const match = /^([A-Za-z_$][\w$]*) is not defined$/.exec(error.message);
  if (!match) return error;
  const name = match[1];
  const users = [...new Set(shipped.filter((s) => mentions(s.source, name)).map((s) => s.what))];
  if (users.length === 0) return error;
  let message =
    `\`${name}\` is not defined in the child process, but ${users.join(' and ')} uses it. ` +
    `${users.length > 1 ? 'They run' : 'It runs'} in a separate Node.js process, made from ${users.length > 1 ? 'their' : 'its'} source text alone: ` +
    "the variables, imports and functions around it in the parent's file do not exist there. " +
    "Pass data in a message instead (proclet.parent.send(data) in the parent, received by a child.on('message', handler)), " +
    'and require() modules inside the function.';
  message += compilerHint(name);
  const explained = makeError(ReferenceError, 'ERR_PROCLET_CLOSURE', message, { cause: error });
  explained.identifier = name;
  const frames = typeof error.stack === 'string' ? error.stack.split('\n').filter((line) => /^\s+at /.test(line)) : [];
  Object.defineProperty(explained, 'stack', {
    value: [`ReferenceError: ${explained.message}`, ...frames].join('\n'),
    writable: true,
    configurable: true,
    enumerable: false,
  });
  return explained;
}

module.exports = { prepare, sourceHint, explainChildError, mentions };
