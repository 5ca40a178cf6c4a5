'use strict';
// Where a shipped function was written: its file, line and column, so that the child compiles
// it at that place (vm.compileFunction's `lineOffset`, and its first line indented to its
// column) and every stack frame inside it names the user's file, line and column, as in the
// parent.
//
// The function's source text (Function.prototype.toString) is an exact slice of the script V8
// compiled. For a file that Node runs as it is on disk (plain JavaScript, CommonJS or ES
// module), that is the file's text: the function is found there, at or after the place that
// called proclet (the `new Proclet(`, `child.on(` or `child.expose(` of the caller's stack
// frame), or before it for a function defined earlier and passed by name; if that file does not
// hold it, in the files of the frames further out (a helper of the user's that creates proclets
// for functions written elsewhere). A file that a tool
// compiled before Node ran it (TypeScript through tsx or ts-node, Babel, Jest's and Vitest's
// transforms) holds other text: the function is not found and its frames keep the positions
// of the code that runs (README, "Stack traces").

const fs = require('fs');
const path = require('path');
const { fileURLToPath } = require('url');

// The last few files read, with their modification time: a long-running parent that creates
// many proclets in one file reads it once.
const files = new Map(); // path -> { mtimeMs, size, text, lineStarts }
const MAX_FILES = 16;
// Files larger than this are not searched (a bundle): frames then keep the cache file's positions.
const MAX_BYTES = 8 * 1024 * 1024;

function readFile(file) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    return undefined;
  }
  if (!stat.isFile() || stat.size > MAX_BYTES) return undefined;
  const cached = files.get(file);
  if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached;
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const entry = { mtimeMs: stat.mtimeMs, size: stat.size, text, lineStarts };
  files.delete(file);
  files.set(file, entry);
  if (files.size > MAX_FILES) files.delete(files.keys().next().value);
  return entry;
}

/** 0-based [line, column] of `offset` in a file read by readFile. */
function position(entry, offset) {
  const { lineStarts } = entry;
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (lineStarts[mid] <= offset) low = mid;
    else high = mid - 1;
  }
  return [low, offset - lineStarts[low]];
}

/**
 * The call sites below proclet's own frames, innermost first: `[{ file, line, column }]`
 * (1-based, as V8 reports them); none from a REPL or `node -e`. `isOwn(file)` says which files
 * are proclet's.
 */
function callSites(below, isOwn) {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let frames = [];
  try {
    Error.stackTraceLimit = 32;
    Error.prepareStackTrace = (_, sites) => sites;
    const holder = {};
    Error.captureStackTrace(holder, below);
    frames = holder.stack;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  const sites = [];
  for (const frame of Array.isArray(frames) ? frames : []) {
    const file = frame.getFileName();
    if (!file || file.startsWith('node:') || !(path.isAbsolute(file) || file.startsWith('file:'))) continue;
    if (isOwn(file)) continue;
    sites.push({ file, line: frame.getLineNumber(), column: frame.getColumnNumber() });
  }
  return sites;
}

/**
 * Where `source` (a function's exact text) is written: in the file of the first of `sites`
 * (callSites') whose file contains it, at or after that call, else before it.
 * `{ file, line, column }` (0-based line and column), or undefined when no file holds it as it is.
 */
function locate(source, sites) {
  if (!source) return undefined;
  const tried = new Set();
  for (const site of sites) {
    if (tried.has(site.file)) continue;
    tried.add(site.file);
    const found = locateIn(source, site);
    if (found) return found;
  }
  return undefined;
}

function locateIn(source, site) {
  let file = site.file;
  if (file.startsWith('file:')) {
    try {
      file = fileURLToPath(file);
    } catch {
      return undefined;
    }
  }
  const entry = readFile(file);
  if (!entry) return undefined;
  const { text, lineStarts } = entry;
  const line = Math.min(Math.max((site.line || 1) - 1, 0), lineStarts.length - 1);
  const at = lineStarts[line] + Math.max((site.column || 1) - 1, 0);
  // The first occurrence at or after the call, else the last one before it.
  let found = text.indexOf(source, at);
  if (found === -1) found = text.lastIndexOf(source, at);
  if (found === -1) return undefined;
  const [foundLine, foundColumn] = position(entry, found);
  return { file: site.file, line: foundLine, column: foundColumn };
}

// ---- compiled files with a source map ----------------------------------------------------------
//
// A file that a tool compiled on its way into Node with a source map that Node knows
// (module.findSourceMap: tsx, ts-node, `node --enable-source-maps` with a compiler's
// `//# sourceMappingURL`) holds other text than the code that runs: there the function is placed
// where it is in the code that runs, found by V8 itself ([[FunctionLocation]], through the
// inspector protocol in this thread), and the file's source map goes with it. The child compiles
// it as part of a module of that file with that map, so that Node maps its frames to the
// original (.ts) file, line and column when source maps are enabled there (they are in a child
// of tsx, which inherits tsx's flags), as it does the parent's.

let session = null;

/** 0-based { line, column } where V8 says `fn` starts (the `(` of its parameters, or an arrow's first token). */
function functionLocation(fn) {
  let inspector;
  try {
    inspector = require('inspector');
    if (session === null) {
      session = new inspector.Session();
      session.connect();
    }
  } catch {
    return undefined;
  }
  // Reached from the main context, where the protocol evaluates (proclet may run in a vm
  // context, as under Jest): the inspector module is the same object in every context.
  const key = '__procletLocate';
  inspector[key] = fn;
  let location;
  try {
    let objectId;
    session.post('Runtime.evaluate', { expression: `process.getBuiltinModule('inspector').${key}` }, (error, result) => {
      if (!error && result && result.result) objectId = result.result.objectId;
    });
    if (objectId === undefined) return undefined;
    session.post('Runtime.getProperties', { objectId, ownProperties: true }, (error, result) => {
      const found = !error && result && result.internalProperties && result.internalProperties.find((p) => p.name === '[[FunctionLocation]]');
      if (found && found.value && found.value.value) {
        const { lineNumber, columnNumber, scriptId } = found.value.value;
        location = { line: lineNumber, column: columnNumber, scriptId };
      }
    });
    session.post('Runtime.releaseObject', { objectId }, () => {});
  } catch {
    return undefined;
  } finally {
    delete inspector[key];
  }
  if (location) location.url = scriptUrl(location.scriptId);
  return location;
}

// scriptId -> URL of the script, as the debugger reported it when it was last enabled.
const scriptUrls = new Map();

/**
 * The URL (or path) of the script V8 knows as `scriptId`: the file the function was written in,
 * which may be another file than the caller's (a function imported from another module). The
 * debugger reports every script when it is enabled; it is enabled only for a script not seen yet,
 * and disabled again at once.
 */
function scriptUrl(scriptId) {
  if (scriptId === undefined) return undefined;
  if (!scriptUrls.has(scriptId)) {
    const onParsed = (message) => {
      const { params } = message;
      if (params && params.scriptId !== undefined) scriptUrls.set(params.scriptId, params.url);
    };
    session.on('Debugger.scriptParsed', onParsed);
    try {
      session.post('Debugger.enable', () => {});
      session.post('Debugger.disable', () => {});
    } catch {
    } finally {
      session.off('Debugger.scriptParsed', onParsed);
    }
  }
  return scriptUrls.get(scriptId);
}

/**
 * For a function whose text no file holds: `{ file, line, column, map }` when the file V8 says it
 * was written in (`location`, functionLocation's) has a source map that Node knows, placing the
 * function where it is in the code that runs (0-based), with that map (its payload, without the
 * sources' text); else undefined.
 * `offsetOf()` says how far into `source` V8's location of the function is (syntax.js's
 * locationOffset).
 */
function locateCompiled(fn, source, offsetOf, location) {
  const { findSourceMap } = require('module');
  if (typeof findSourceMap !== 'function') return undefined;
  const startOffset = offsetOf();
  // The function's own line breaks before its location: its first line is then not known.
  if (startOffset === undefined || source.slice(0, startOffset).includes('\n')) return undefined;
  if (!location || location.column < startOffset || typeof location.url !== 'string') return undefined;
  // The script the function was written in, which need not be the caller's (a function imported
  // from another module): a file Node has a source map for, else it is not placed.
  const file = location.url;
  if (!(path.isAbsolute(file) || file.startsWith('file:'))) return undefined;
  let map;
  try {
    map = findSourceMap(file);
  } catch {}
  if (!map || !map.payload) return undefined;
  // A last check that this is the function's text: the map leads from its start, on the same
  // line of the code that ran, to the same first word in that file.
  const start = { line: location.line, column: location.column - startOffset };
  if (!mapsToSameWord(map, start, file, /^(?:[\w$]+|[^])/.exec(source)[0])) return undefined;
  return { file, ...start, map: mapPayload(map) };
}

/**
 * For a function that the files of `sites` do not hold: the file V8 says it was written in (a
 * function imported from another module), asked only then. `{ file, line, column, map? }`
 * (0-based) when that file holds its text as it is (`map`: the file's source map, when Node knows
 * one), or when it is compiled code with a source map that Node knows (locateCompiled); else
 * undefined.
 */
function locateOwn(fn, source, offsetOf, sites) {
  if (typeof process.getBuiltinModule !== 'function' || sites.length === 0) return undefined;
  // Asking V8 costs an inspector session and, for a script not seen yet, the debugger's list of
  // every script (tens to hundreds of ms under a test runner that loads thousands): only where it
  // can find something, when the caller runs compiled code with a source map that Node knows, or
  // runs its file as written (the call site's position is at a call there; under Jest's
  // transform the code that runs is another text, and the function is found in no file).
  if (!sites.some(hasSourceMap) && !runsAsWritten(sites[0])) return undefined;
  const location = functionLocation(fn);
  if (!location || typeof location.url !== 'string') return undefined;
  let file = location.url;
  if (!(path.isAbsolute(file) || file.startsWith('file:'))) return undefined;
  // The debugger names every script by URL; Node's frames name a CommonJS module by its path.
  if (file.startsWith('file:')) {
    try {
      const asPath = fileURLToPath(file);
      if (require.cache[asPath]) file = asPath;
    } catch {}
  }
  if (!sites.some((site) => site.file === file)) {
    const found = locateIn(source, { file, line: location.line + 1, column: 1 });
    if (found) return withSourceMap(found);
  }
  return locateCompiled(fn, source, offsetOf, location);
}

function hasSourceMap(site) {
  const { findSourceMap } = require('module');
  try {
    return typeof findSourceMap === 'function' && Boolean(findSourceMap(site.file));
  } catch {
    return false;
  }
}

/** Whether the file of `site` (a call of proclet's) holds a call at the site's line and column. */
function runsAsWritten(site) {
  let file = site.file;
  try {
    if (file.startsWith('file:')) file = fileURLToPath(file);
  } catch {
    return false;
  }
  const entry = readFile(file);
  if (!entry || !site.line || site.line > entry.lineStarts.length) return false;
  const at = entry.lineStarts[site.line - 1] + Math.max((site.column || 1) - 1, 0);
  return /^(?:new\s|[\w$]+\s*\()/.test(entry.text.slice(at, at + 256));
}

/**
 * Whether `map` maps `location` (0-based, in the code that ran; the nearest mapping before it on
 * its line) into `file` at text that starts with `word`.
 */
function mapsToSameWord(map, location, file, word) {
  let entry;
  try {
    entry = map.findEntry(location.line, location.column);
  } catch {
    return false;
  }
  if (!entry || typeof entry.originalSource !== 'string' || entry.generatedLine !== location.line) return false;
  const asPath = (name) => {
    try {
      return name.startsWith('file:') ? fileURLToPath(name) : name;
    } catch {
      return undefined;
    }
  };
  const original = asPath(entry.originalSource);
  if (!original || original !== asPath(file)) return false;
  const read = readFile(original);
  if (!read || entry.originalLine >= read.lineStarts.length) return false;
  let at = read.lineStarts[entry.originalLine] + entry.originalColumn;
  // A compiler maps an exported declaration's start to its `export` (`export async function`,
  // `export default function`): the function's own first word comes after it.
  const exported = /^export\s+(?:default\s+)?/.exec(read.text.slice(at, at + 64));
  if (exported && !word.startsWith('export')) at += exported[0].length;
  return read.text.startsWith(word, at);
}

/** A source map's payload without the sources' text (the child needs none of it). */
function mapPayload(map) {
  const { sourcesContent, ...payload } = map.payload;
  return payload;
}

/**
 * `at` (locate's) with the source map of its file when Node knows one: the file found holding
 * the function is then code compiled from another (a compiler's output run with
 * --enable-source-maps), and the child maps its frames as the parent does.
 */
function withSourceMap(at) {
  // Node keeps source maps only with --enable-source-maps (process.sourceMapsEnabled) or while
  // collecting coverage (NODE_V8_COVERAGE); otherwise there is nothing to find, and loading
  // Node's source-map cache would cost the first Proclet a millisecond.
  if (!at || (process.sourceMapsEnabled === false && !process.env.NODE_V8_COVERAGE)) return at;
  const { findSourceMap } = require('module');
  if (typeof findSourceMap !== 'function') return at;
  let map;
  try {
    map = findSourceMap(at.file);
  } catch {}
  return map && map.payload ? { ...at, map: mapPayload(map) } : at;
}

module.exports = { callSites, locate, locateOwn, withSourceMap };
