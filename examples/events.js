const { Proclet } = require('proclet');

const p = new Proclet(
  function (name) {
    this.emit('job.start', name);
    this.emit('job.progress', name, 50);
  },
  { wildcard: true },
);
p.child.on('resize', function (width, from) {
  // runs in the child; `from` is the sender's id, 0 for the parent
  this.emit('job.done', `resized to ${width} by ${from}`);
  this.close(0);
});
p.parent.onAny((event, ...args) => console.log('any:', event, JSON.stringify(args)));
p.parent.on('job.*', (...args) => console.log('job.*:', JSON.stringify(args)));
p.parent.on('exit', (code) => console.log('exit', code));
p.run('thumbs');
p.child.emit('resize', 640);
