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
// frame), or before it for a function defined earlier and passed by name. A file that a tool
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
 * The call site below proclet's own frames: `{ file, line, column }` (1-based, as V8 reports
 * them), or undefined (REPL, `node -e`). `isOwn(file)` says which files are proclet's.
 */
function callSite(below, isOwn) {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let frames = [];
  try {
    Error.stackTraceLimit = 32;
    Error.prepareStackTrace = (_, callSites) => callSites;
    const holder = {};
    Error.captureStackTrace(holder, below);
    frames = holder.stack;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  for (const frame of Array.isArray(frames) ? frames : []) {
    const file = frame.getFileName();
    if (!file || file.startsWith('node:') || !(path.isAbsolute(file) || file.startsWith('file:'))) continue;
    if (isOwn(file)) continue;
    return { file, line: frame.getLineNumber(), column: frame.getColumnNumber() };
  }
  return undefined;
}

/**
 * Where `source` (a function's exact text) is written in the file of `site` (callSite's):
 * `{ line, column }`, 0-based, or undefined when the file does not contain it as it is.
 */
function locate(source, site) {
  if (!site || !source) return undefined;
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
  return { line: foundLine, column: foundColumn };
}

module.exports = { callSite, locate };
