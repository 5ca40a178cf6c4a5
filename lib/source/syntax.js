'use strict';
// The parser's view of a function's source, for lib/source/index.js. What proclet decides about
// compiled code (which helpers to ship, which `void 0` stands for `this`, whether a function
// names an identifier) is decided on tokens and syntax trees from acorn, a standard ECMAScript
// parser, never on the text: a helper's name or `void 0` inside a string, template literal,
// regular expression or comment is the user's data, and the child must run the code exactly as
// it was written.
//
// acorn is loaded on first use: index.js only parses a source that a cheap look at its text
// says may need something, so a plain function never pays for loading acorn (tens of
// milliseconds) or for a parse.

let acorn;
let walk;
function load() {
  if (!acorn) {
    acorn = require('acorn');
    walk = require('acorn-walk');
  }
}

// Sloppy script code, as the child compiles a function (vm.compileFunction); every syntax acorn
// knows, so that what Node accepts is read (a source acorn cannot read is shipped as written).
const OPTIONS = { ecmaVersion: 'latest', sourceType: 'script' };

/**
 * Parses a function's source the way the child compiles it: `(source)`, or `({source})` for
 * method shorthand. Returns `{ root, tokens, offset, text }` (the function's node, every token,
 * how far the source is shifted in the parsed text, and that text), or null if acorn cannot read
 * it.
 */
function parseFunction(source, method) {
  load();
  // The same line breaks as the child's wrapper (runtime/handlers.js), so that a line comment
  // ends where it ends there.
  const open = method ? '({\n' : '(\n';
  const close = method ? '\n})' : '\n)';
  const text = open + source + close;
  const tokens = [];
  let program;
  try {
    program = acorn.parse(text, { ...OPTIONS, onToken: tokens });
  } catch {
    return null;
  }
  const statement = program.body.length === 1 ? program.body[0] : null;
  if (!statement || statement.type !== 'ExpressionStatement') return null;
  let root = statement.expression;
  if (method) {
    if (root.type !== 'ObjectExpression' || root.properties.length !== 1) return null;
    root = root.properties[0].value;
  }
  return { root, tokens, offset: open.length, text };
}

/** `parseFunction` for a source that may be method shorthand or not. */
function parseAnyFunction(source) {
  return parseFunction(source, false) || parseFunction(source, true);
}

// ---- helpers and `this` -------------------------------------------------------------------

const isName = (token) => token.type === acorn.tokTypes.name;
const isDot = (token) => token !== undefined && (token.type === acorn.tokTypes.dot || token.type === acorn.tokTypes.questionDot);

/**
 * What the code of a parsed source names, for the helper decision:
 * - `words`: every identifier token (variables, and property names too, as in `tslib_1.__awaiter`);
 * - `imports`: `[variable, member]` for `_x.default` and `_x.default.member` (`member` undefined
 *   for the first), a variable of the parent's file that holds an @babel/runtime module;
 * - `tslibModules`: `tslib` or `tslib_1` before a `.` (tsc --importHelpers);
 * - `swcModules`: `_x` in `_x._(...)`, a variable of the parent's file that holds an @swc/helpers
 *   module (SWC's externalHelpers, CommonJS output);
 * - `esbuildShapes`: whether esbuild's `new __await(...)` or `__asyncGenerator(this, null, ...)`
 *   occurs (helper names that tslib has too).
 */
function names(tokens) {
  const words = new Set();
  const imports = [];
  const tslibModules = new Set();
  const swcModules = new Set();
  let esbuildShapes = false;
  const tt = acorn.tokTypes;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (!isName(token)) continue;
    words.add(token.value);
    const variable = !isDot(tokens[i - 1]);
    // esbuild's `new __await(x)` and `__asyncGenerator(this, null, ...)`; tslib calls `__await(x)`
    // and passes `arguments`.
    if (variable && token.value === '__await' && tokens[i - 1] && tokens[i - 1].type === tt._new) esbuildShapes = true;
    if (variable && token.value === '__asyncGenerator' && tokens[i + 3] && tokens[i + 3].type === tt.comma && tokens[i + 4] && tokens[i + 4].type === tt._null) {
      esbuildShapes = true;
    }
    if (!variable || !isDot(tokens[i + 1])) continue;
    if (token.value.startsWith('_') && tokens[i + 2] && tokens[i + 2].value === '_' && tokens[i + 3] && tokens[i + 3].type === tt.parenL) {
      swcModules.add(token.value);
    } else if (token.value.startsWith('_') && tokens[i + 2] && tokens[i + 2].value === 'default') {
      const member = isDot(tokens[i + 3]) && tokens[i + 4] ? tokens[i + 4].value : undefined;
      imports.push([token.value, typeof member === 'string' ? member : undefined]);
    } else if (/^tslib(?:_\d+)?$/.test(token.value)) {
      tslibModules.add(token.value);
    }
  }
  return { words, imports, tslibModules, swcModules, esbuildShapes };
}

/** The name a call's callee ends in: `f` for `f(...)`, `a.f(...)` and `(0, a.f)(...)`. */
function calleeName(node) {
  while (node.type === 'SequenceExpression') node = node.expressions[node.expressions.length - 1];
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'MemberExpression' && !node.computed && node.property.type === 'Identifier') return node.property.name;
  return undefined;
}

/** `void 0` spelled as compilers spell it (index.js only parses a source whose text contains that). */
function isVoidZero(node, text) {
  return node !== undefined && node.type === 'UnaryExpression' && text.slice(node.start, node.end) === 'void 0';
}

/**
 * Where a compiler wrote `void 0` for `this`, as [start, end] ranges of the source:
 * - the first argument of `__awaiter(void 0, ...)` (tsc, for an async arrow function at the top
 *   level of a module; also inside the functions tsc makes of nested arrows for ES5);
 * - with `arrow`, SWC's `_async_to_generator(function* () {...}).call(void 0)` in the arrow's own
 *   scope;
 * - with `arrow`, an object `(void 0).x`, `(void 0)[x]`, `(void 0)?.x` that means the arrow's own
 *   `this` (Babel's CommonJS transform, at the top level of a module): not inside a function,
 *   class field or static block of the arrow, where `this` is another value and Babel leaves it
 *   alone. Anything else that reads `void 0` is the user's code.
 */
function voidThis({ root, offset, text }, arrow) {
  const ranges = [];
  walk.ancestor(root, {
    CallExpression(node, _, ancestors) {
      if (node.arguments.length > 1 && isVoidZero(node.arguments[0], text) && calleeName(node.callee) === '__awaiter') {
        ranges.push([node.arguments[0].start - offset, node.arguments[0].end - offset]);
      }
      // SWC, for an async arrow function at the top level of a CommonJS module:
      // `_async_to_generator(function* () {...}).call(void 0)`.
      if (arrow && node.arguments.length === 1 && isVoidZero(node.arguments[0], text) && isSwcAsyncCall(node.callee) && ownThis(ancestors)) {
        ranges.push([node.arguments[0].start - offset, node.arguments[0].end - offset]);
      }
    },
    MemberExpression(node, _, ancestors) {
      if (arrow && isVoidZero(node.object, text) && ownThis(ancestors)) ranges.push([node.object.start - offset, node.object.end - offset]);
    },
  });
  return ranges;
}

/**
 * SWC's async arrow function at the top level of a module, `() => _async_to_generator(function* () {...})()`:
 * the generator is called without `this` (a module's `this` is undefined). Returns the range of
 * that `()` (to become `.call(this)`, the arrow's `this`, the context), or undefined.
 */
function swcAsyncArrow({ root, offset }) {
  if (root.type !== 'ArrowFunctionExpression' || !root.expression) return undefined;
  const call = root.body;
  if (call.type !== 'CallExpression' || call.arguments.length !== 0 || call.callee.type !== 'CallExpression') return undefined;
  if (!isSwcAsync(call.callee)) return undefined;
  return [call.callee.end - offset, call.end - offset];
}

/** `_async_to_generator(function* () {...})`, the helper inline or from @swc/helpers (`_async_to_generator._`). */
function isSwcAsync(node) {
  if (node.type !== 'CallExpression' || node.arguments.length !== 1 || node.arguments[0].type !== 'FunctionExpression' || !node.arguments[0].generator) return false;
  let callee = node.callee;
  while (callee.type === 'SequenceExpression') callee = callee.expressions[callee.expressions.length - 1];
  const named = (n) => n.type === 'Identifier' && /^_async_to_generator\d*$/.test(n.name);
  return named(callee) || (callee.type === 'MemberExpression' && !callee.computed && callee.property.name === '_' && named(callee.object));
}

/** `<isSwcAsync>.call` */
function isSwcAsyncCall(node) {
  return node.type === 'MemberExpression' && !node.computed && node.property.name === 'call' && isSwcAsync(node.object);
}

/**
 * Whether the arrow function `root` uses `exports` as a variable it does not declare: esbuild (and
 * so tsx) writes `exports` for `this` at the top level of a CommonJS module, as Node defines it
 * there. The child has no `exports`: in such an arrow it can only be that `this`.
 */
function exportsAsThis({ root }) {
  if (root.type !== 'ArrowFunctionExpression') return false;
  let used = false;
  walk.ancestor(root, {
    Identifier(node, _, ancestors) {
      const parent = ancestors[ancestors.length - 2];
      // `{ exports }` is the user's own: esbuild writes no shorthand for `this`.
      if (node.name === 'exports' && !(parent && parent.type === 'Property' && parent.shorthand)) used = true;
    },
  });
  return used && !declares(root, 'exports');
}

/** Whether a function declares `name` anywhere in it (a parameter, variable, function or class, or a catch binding). */
function declares(root, name) {
  let found = false;
  const visit = (node) => {
    if (node.name === name) found = true;
  };
  walk.simple(root, { VariablePattern: visit });
  walk.full(root, (node) => {
    if ((node.type === 'FunctionDeclaration' || node.type === 'ClassDeclaration' || node.type === 'FunctionExpression' || node.type === 'ClassExpression') && node.id && node.id.name === name) found = true;
    if (node.params) for (const param of node.params) if (param.type === 'Identifier' && param.name === name) found = true;
  });
  return found;
}

/** Whether `this` at the end of `ancestors` (root first) is the root arrow function's. */
function ownThis(ancestors) {
  for (let i = 1; i < ancestors.length; i++) {
    const node = ancestors[i];
    if (node.type === 'FunctionExpression' || node.type === 'FunctionDeclaration' || node.type === 'StaticBlock') return false;
    if (node.type === 'PropertyDefinition' && ancestors[i + 1] === node.value) return false;
  }
  return true;
}

// ---- Babel's async functions ----------------------------------------------------------------

/** `_asyncToGenerator`, `_asyncToGenerator2.default`, `(0, _asyncToGenerator2.default)`: a variable matching `pattern`. */
function isHelperReference(node, pattern) {
  if (node.type === 'SequenceExpression') {
    const [first, last] = node.expressions;
    return node.expressions.length === 2 && first.type === 'Literal' && first.value === 0 && isHelperReference(last, pattern);
  }
  if (node.type === 'MemberExpression') {
    return !node.computed && node.property.type === 'Identifier' && node.property.name === 'default' && isHelperReference(node.object, pattern);
  }
  return node.type === 'Identifier' && pattern.test(node.name);
}

const REGENERATOR = /^_regenerator(?:Runtime)?\d*$/;

/**
 * The generator Babel hands to `_asyncToGenerator`: a generator function expression, or
 * regenerator's `mark` of a function (`_regenerator().m(function _callee() {...})`,
 * `_regeneratorRuntime().mark(...)`, `regeneratorRuntime.mark(...)`, `_regenerator.default.mark(...)`,
 * `(0, _regenerator2.default)().m(...)`).
 */
function isGeneratorExpression(node) {
  if (node.type === 'FunctionExpression') return node.generator;
  if (node.type !== 'CallExpression' || node.arguments.length !== 1 || node.arguments[0].type !== 'FunctionExpression') return false;
  const { callee } = node;
  if (callee.type !== 'MemberExpression' || callee.computed || !['m', 'mark'].includes(callee.property.name)) return false;
  const runtime = callee.object;
  if (runtime.type === 'Identifier' && runtime.name === 'regeneratorRuntime') return true;
  if (runtime.type === 'CallExpression') return runtime.arguments.length === 0 && isHelperReference(runtime.callee, REGENERATOR);
  return isHelperReference(runtime, REGENERATOR);
}

/**
 * Whether `source` is the function Babel puts behind the stub it leaves for an async function
 * declaration, exactly:
 *   function _work() { _work = _asyncToGenerator(<generator>); return _work.apply(this, arguments); }
 * 'async function' for that, 'async generator' for the same with `_wrapAsyncGenerator` (an
 * `async function*` declaration), undefined for anything else. index.js calls this function in
 * the parent to reach the generator, which runs the assignment: only Babel's own helpers may be
 * called there, never code of the user's that resembles it (a helper's name in a string or
 * comment included).
 */
function asyncInitializer(source) {
  const parsed = parseFunction(source, false);
  if (!parsed) return undefined;
  const { root } = parsed;
  if (root.type !== 'FunctionExpression' || !root.id || root.params.length > 0 || root.async || root.generator) return undefined;
  const name = root.id.name;
  const body = root.body.body;
  if (body.length !== 2 || body[0].type !== 'ExpressionStatement' || body[1].type !== 'ReturnStatement') return undefined;
  const assignment = body[0].expression;
  if (assignment.type !== 'AssignmentExpression' || assignment.operator !== '=') return undefined;
  if (assignment.left.type !== 'Identifier' || assignment.left.name !== name) return undefined;
  const call = assignment.right;
  if (call.type !== 'CallExpression' || call.arguments.length !== 1 || !isGeneratorExpression(call.arguments[0])) return undefined;
  let kind;
  if (isHelperReference(call.callee, /^_asyncToGenerator\d*$/)) kind = 'async function';
  else if (isHelperReference(call.callee, /^_wrapAsyncGenerator\d*$/)) kind = 'async generator';
  else return undefined;
  // return _work.apply(this, arguments)
  const result = body[1].argument;
  const applied =
    result !== null &&
    result.type === 'CallExpression' &&
    result.callee.type === 'MemberExpression' &&
    !result.callee.computed &&
    result.callee.object.type === 'Identifier' &&
    result.callee.object.name === name &&
    result.callee.property.name === 'apply' &&
    result.arguments.length === 2 &&
    result.arguments[0].type === 'ThisExpression' &&
    result.arguments[1].type === 'Identifier' &&
    result.arguments[1].name === 'arguments';
  return applied ? kind : undefined;
}

// ---- generators ---------------------------------------------------------------------------

/**
 * For a function that a compiler made of a generator function, `{ async, helper }`: whether it
 * was an async generator, and the helper whose call gives it away. Such a function only declares
 * its variables and returns what the helper makes of its body:
 * - TypeScript (target ES5, or before ES2018 for async generators):
 *   `return __generator(this, function (_a) {...})`, `return __asyncGenerator(this, arguments, function* () {...})`;
 * - Babel, for an async generator method: `return _wrapAsyncGenerator(function* () {...})()`;
 * - SWC: `return _ts_generator(this, function (_state) {...})` (ES5),
 *   `return _wrap_async_generator(function () {...}).call(this)`;
 * - esbuild: `return __asyncGenerator(this, null, function* () {...})`.
 * `tool` names the compiler.
 * Undefined for anything else.
 */
function compiledGenerator({ root }) {
  if (root.type !== 'FunctionExpression' || root.generator) return undefined;
  const body = root.body.body;
  const last = body[body.length - 1];
  if (!last || last.type !== 'ReturnStatement' || !last.argument || last.argument.type !== 'CallExpression') return undefined;
  if (!body.slice(0, -1).every((s) => s.type === 'VariableDeclaration' || s.type === 'FunctionDeclaration')) return undefined;
  const { callee, arguments: args } = last.argument;
  const isFunction = (node) => node !== undefined && node.type === 'FunctionExpression';
  if (args.length === 0 && callee.type === 'CallExpression') {
    if (callee.arguments.length !== 1 || !isGeneratorExpression(callee.arguments[0])) return undefined;
    return isHelperReference(callee.callee, /^_wrapAsyncGenerator\d*$/) ? { async: true, helper: '_wrapAsyncGenerator', tool: 'Babel' } : undefined;
  }
  if (!args[0] || args[0].type !== 'ThisExpression') return undefined;
  // SWC: `return _wrap_async_generator(function () {...}).call(this)`.
  if (args.length === 1 && callee.type === 'MemberExpression' && !callee.computed && callee.property.name === 'call' && callee.object.type === 'CallExpression') {
    const wrap = callee.object;
    const wrapped = wrap.arguments.length === 1 && isFunction(wrap.arguments[0]);
    return wrapped && isSwcHelper(wrap.callee, '_wrap_async_generator') ? { async: true, helper: '_wrap_async_generator', tool: 'SWC' } : undefined;
  }
  const name = calleeName(callee);
  if (name === '__generator' && isFunction(args[1])) return { async: false, helper: name, tool: 'TypeScript' };
  if (isSwcHelper(callee, '_ts_generator') && isFunction(args[1])) return { async: false, helper: '_ts_generator', tool: 'SWC' };
  if (name === '__asyncGenerator' && args[1] && isFunction(args[2])) {
    if (args[1].type === 'Identifier' && args[1].name === 'arguments') return { async: true, helper: name, tool: 'TypeScript' };
    if (args[1].type === 'Literal' && args[1].value === null) return { async: true, helper: name, tool: 'esbuild' };
  }
  return undefined;
}

/** SWC's helper `name`, inline (`name`) or from @swc/helpers (`name._`, `(0, name._)`). */
function isSwcHelper(node, name) {
  while (node.type === 'SequenceExpression') node = node.expressions[node.expressions.length - 1];
  if (node.type === 'Identifier') return node.name === name;
  return node.type === 'MemberExpression' && !node.computed && node.property.name === '_' && node.object.type === 'Identifier' && node.object.name === name;
}

// ---- explanations -------------------------------------------------------------------------

/**
 * Whether the code of a function's source uses `name` as an identifier (a variable it reads,
 * calls or assigns; not a property name, and not text in a string or comment). False for a
 * source acorn cannot read.
 */
function usesIdentifier(source, name) {
  const parsed = parseAnyFunction(source);
  if (!parsed) return false;
  let found = false;
  const visit = (node) => {
    if (node.name === name) found = true;
  };
  // A variable that is assigned is visited as a VariablePattern, one that is read as an Identifier.
  walk.simple(parsed.root, { Identifier: visit, VariablePattern: visit });
  return found;
}

/**
 * Syntax in `source` that exists only where the function was written: `import.meta` (module
 * code) and private names (`#x`, class bodies). Read from tokens, so text in strings and comments
 * does not count; a source that cannot be tokenized to the end reports what came before.
 */
function placeBoundSyntax(source) {
  load();
  const { tokTypes: tt } = acorn;
  const found = { importMeta: false, privateName: false };
  let previous = [];
  try {
    for (const token of acorn.tokenizer(source, { ecmaVersion: 'latest', sourceType: 'module' })) {
      if (token.type === tt.privateId) found.privateName = true;
      const [beforeDot, dot] = previous;
      if (token.type === tt.name && token.value === 'meta' && dot && dot.type === tt.dot && beforeDot && beforeDot.type === tt._import) {
        found.importMeta = true;
      }
      previous = [previous[1], token];
    }
  } catch {}
  return found;
}

/**
 * How far into a function's source V8 places the function ([[FunctionLocation]]): 0 for an
 * arrow function, the `(` of the parameters for any other; undefined if acorn cannot read it.
 */
function locationOffset(source, method) {
  const parsed = parseFunction(source, method);
  if (!parsed) return undefined;
  const { root, tokens, offset } = parsed;
  if (root.type === 'ArrowFunctionExpression') return root.start - offset;
  // A method's function starts at its parameters; a function expression's at `function` or `async`.
  if (method) return root.start - offset;
  const after = root.id ? root.id.end : root.start;
  const paren = tokens.find((token) => token.start >= after && token.type === acorn.tokTypes.parenL);
  return paren ? paren.start - offset : undefined;
}

/** The names that the top-level declarations of the script `code` declare (a prelude of helpers). */
function declaredNames(code) {
  load();
  const names = new Set();
  const program = acorn.parse(code, OPTIONS);
  for (const node of program.body) {
    if (node.type === 'FunctionDeclaration' || node.type === 'ClassDeclaration') names.add(node.id.name);
    else if (node.type === 'VariableDeclaration') for (const d of node.declarations) if (d.id.type === 'Identifier') names.add(d.id.name);
  }
  return [...names];
}

module.exports = {
  declaredNames,
  locationOffset,
  parseFunction,
  names,
  voidThis,
  swcAsyncArrow,
  exportsAsThis,
  asyncInitializer,
  compiledGenerator,
  usesIdentifier,
  placeBoundSyntax,
};
