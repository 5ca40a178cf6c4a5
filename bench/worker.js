'use strict';
// One trial in a fresh process (so that its peak RSS belongs to this trial alone):
//   node bench/worker.js '{"scenario":"roundtrip","contender":"proclet","params":{...}}'
// Prints one line, RESULT_PREFIX + JSON, on stdout, and exits by itself once every child is gone.

const RESULT_PREFIX = '@@bench-result ';

if (require.main === module) {
  const { killAll } = require('./contenders');
  const fail = (error) => {
    killAll();
    process.stderr.write(`bench worker: ${(error && error.stack) || error}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);

  const { scenario, contender, params } = JSON.parse(process.argv[2]);
  require(`./scenarios/${scenario}`)
    .run(contender, params)
    .then((result) => {
      result.parentMaxRSS = process.resourceUsage().maxRSS * 1024;
      process.stdout.write(RESULT_PREFIX + JSON.stringify(result) + '\n');
    }, fail);
}

module.exports = { RESULT_PREFIX };
