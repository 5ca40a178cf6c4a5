const { Proclet } = require('proclet');

// './resize-worker.js' is resolved from this file, wherever the process was started.
const p = new Proclet('./resize-worker.js', {
  args: ['--fast'],
  env: { MODE: 'thumbnail' },
  stdio: 'pipe',
});
const output = [];
p.parent.on('stdout', (chunk) => output.push(chunk));
p.parent.on('done', (result) => {
  console.log('done:', result);
  p.kill();
});
p.parent.on('exit', (code, signal) => {
  // Every byte the child wrote arrives before 'exit'.
  process.stdout.write(`child's stdout: ${Buffer.concat(output)}`);
  console.log('exit', code, signal);
});
p.run(640);
p.child.emit('job', 'cat.png');
