'use strict';
// bulk: large messages one way, as objects { i, s: <string> } or { i, b: <Buffer> } (the shapes
// real messages have: a bare string is proclet's TEXT fast path, an object is not). MB/s counts
// the string's characters or the Buffer's bytes (1 MB = 10^6 bytes).
//
// fork json is left out of the Buffer cases: it sends a Buffer as the JSON of an array of its
// bytes ({ type: 'Buffer', data: [...] }, about 3.6 bytes of JSON per byte), so it neither
// delivers a Buffer nor finishes 160 MiB in reasonable time and memory; the Buffer targets are
// against fork advanced.

const { performance } = require('perf_hooks');

const { launch } = require('../contenders');
const { toChild, fromChild } = require('./transfer');

const MiB = 1024 * 1024;

exports.cases = (options) =>
  options.bulk.flatMap(({ count, mib, buffer }) =>
    ['c2p', 'p2c'].map((direction) => ({
      id: `bulk ${buffer ? 'buffer' : 'string'} ${mib} MiB ${direction}`,
      scenario: 'bulk',
      title: `bulk ${direction === 'c2p' ? 'child -> parent' : 'parent -> child'}: ${count} x { i, ${buffer ? 'b: <Buffer' : 's: <string'} of ${mib} MiB> }`,
      params: { n: count, bytes: mib * MiB, direction, buffer: Boolean(buffer) },
      contenders: buffer ? ['proclet', 'proclet-advanced', 'fork-advanced'] : undefined,
      metric: { key: 'mbPerSec', unit: 'MB/s', better: 'higher' },
    })),
  );

exports.run = async (contender, { n, bytes, direction, buffer }) => {
  const conn = launch(contender);
  await conn.ready;
  let make = null;
  if (direction === 'p2c') {
    const data = buffer ? Buffer.alloc(bytes, 'x') : 'x'.repeat(bytes);
    make = buffer ? (i) => ({ i, b: data }) : (i) => ({ i, s: data });
  }
  const check = buffer
    ? (message, i) => message.i === i && Buffer.isBuffer(message.b) && message.b.length === bytes
    : (message, i) => message.i === i && message.s.length === bytes;
  const startedAt = performance.now();
  if (direction === 'c2p') {
    await fromChild(conn, n, { bytes, buffer }, check);
  } else {
    await toChild(conn, n, make);
  }
  const seconds = (performance.now() - startedAt) / 1000;
  return { mbPerSec: (n * bytes) / 1e6 / seconds, childMaxRSS: await conn.stop() };
};
