'use strict';
// The README's Events, Calls, Lifecycle promises, Pools and peers, and Warm start examples: each is examples/<name>.js, shown in
// the README verbatim and followed by its exact output. Each run prints that output and exits by
// itself with code 0.

const fs = require('fs');
const path = require('path');
const { runNode } = require('./helpers');

const root = path.join(__dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

const EXAMPLES = {
  'events.js': [
    'any: job.start ["thumbs"]',
    'job.*: ["thumbs"]',
    'any: job.progress ["thumbs",50]',
    'job.*: ["thumbs",50]',
    'any: job.done ["resized to 640 by 0"]',
    'job.*: ["resized to 640 by 0"]',
    'exit 0',
  ],
  'calls.js': [
    'total: 10',
    'nope: ERR_PROCLET_UNKNOWN_METHOD',
    'wait: ERR_PROCLET_CALL_TIMEOUT',
    'wait saw its signal abort: ERR_PROCLET_CALL_TIMEOUT',
    'wait: ERR_PROCLET_CHANNEL_CLOSED',
    "exited: { code: null, signal: 'SIGTERM' }",
  ],
  'script-workers.js': ['done: cat.png@640', "child's stdout: resizing cat.png to 640 (--fast, MODE=thumbnail)", 'exit null SIGTERM'],
  'lifecycle.js': [
    'ready',
    'ERR_PROCLET_ALREADY_STARTED',
    '1',
    '4',
    '9',
    'flushed',
    'exited: { code: 0, signal: null }',
    'ready: ERR_PROCLET_CHANNEL_CLOSED',
    "exited: { code: null, signal: 'SIGKILL' }",
  ],
  'supervision.js': ['child: up', 'restart #1 after code 1, in 50 ms', 'child: up', 'restart #2 after code 1, in 100 ms', 'child: up', 'exit 0 null'],
  'stopping.js': ['child: closing connections', 'child: closed', 'stopped: { code: 0, signal: null }', "stopped: { code: null, signal: 'SIGKILL' }"],
  'pool.js': [
    'worker 2 stored k1, sent by worker 1',
    'stored k2, sent by 0, in worker 2',
    "[ 'ca978112', '3e23e816', '2e7d2c03' ]",
    'stopped: [ 1, 2 ]',
  ],
  'warm.js': ['hello, warm start', 'exit 0'],
};

describe.each(Object.entries(EXAMPLES))('examples/%s', (name, lines) => {
  const file = path.join(root, 'examples', name);
  const source = fs.readFileSync(file, 'utf8').trim();
  const output = lines.join('\n');

  test('prints exactly the output the README shows and exits by itself with code 0', async () => {
    const result = await runNode([file], { timeoutMs: 20000 });
    expect(result.hung).toBe(false);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${output}\n`);
    expect(result.code).toBe(0);
    expect(result.signal).toBe(null);
  });

  test('is in the README verbatim, in a js block followed by that output', () => {
    expect(readme).toContain(`\`\`\`js\n${source}\n\`\`\`\n\nprints\n\n\`\`\`text\n${output}\n\`\`\`\n`);
  });
});
