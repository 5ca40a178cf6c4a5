// A script worker for examples/script-workers.js: its export is called like a function worker.
module.exports = function (size) {
  this.on('job', function (name) {
    console.log(`resizing ${name} to ${size} (${process.argv.slice(2).join(' ')}, MODE=${process.env.MODE})`);
    this.emit('done', `${name}@${size}`);
  });
};
