'use strict';
// Script workers (API.md section 1): `new Proclet('./worker.js')` names a module file, resolved
// as require.resolve() would resolve it from the file that called new Proclet(). The child's
// runtime loads that file itself (require or import, runtime/script.js), so its stack traces and
// coverage are the file's own; only its absolute path travels, in the INIT frame.

const path = require('path');
const { createRequire } = require('module');
const { fileURLToPath } = require('url');
const errors = require('./shared/errors');

const OPERATION = 'new Proclet(worker)';

/** A worker that names a module: a string or a URL (a function is not one). */
function isScriptWorker(worker) {
  return typeof worker === 'string' || worker instanceof URL;
}

/**
 * The absolute path of the script worker `worker`, or a TypeError: ERR_PROCLET_WORKER_NOT_FOUND
 * for a module that is not there, ERR_PROCLET_INVALID_FUNCTION for a URL that is not file:.
 */
function resolveScript(worker, caller) {
  const specifier = worker instanceof URL ? worker.href : worker;
  if (specifier.startsWith('file:')) {
    let file;
    try {
      file = fileURLToPath(specifier);
    } catch (cause) {
      throw errors.workerNotFound(OPERATION, specifier, describeCaller(caller), cause);
    }
    return resolveFrom(file, specifier, caller);
  }
  if (/^[a-z][a-z0-9+.-]+:/i.test(specifier) && !path.isAbsolute(specifier)) {
    throw errors.invalidFunction(
      OPERATION,
      `the URL ${JSON.stringify(specifier)}`,
      'A script worker is a path or a file: URL of a module on this machine.',
    );
  }
  if (specifier === '') throw errors.workerNotFound(OPERATION, specifier, describeCaller(caller));
  return resolveFrom(specifier, specifier, caller);
}

function resolveFrom(request, specifier, caller) {
  try {
    return createRequire(caller).resolve(request);
  } catch (cause) {
    throw errors.workerNotFound(OPERATION, specifier, describeCaller(caller), cause);
  }
}

function describeCaller(caller) {
  const file = caller.startsWith('file:') ? fileURLToPath(caller) : caller;
  return path.basename(file) === '[proclet]' ? `the working directory ${path.dirname(file)}` : file;
}

module.exports = { isScriptWorker, resolveScript };
