'use strict';
// One trial in a fresh process (so that its peak RSS belongs to this trial alone):
//   node bench/worker.js '{"scenario":"roundtrip","contender":"proclet","params":{...}}'
// Prints one line, RESULT_PREFIX + JSON, on stdout, and exits by itself once every child is gone.

const RESULT_PREFIX = '@@bench-result ';

if (require.main === module) {
  const fail = (error) => {
    // Loaded only if a scenario loaded it (it loads proclet, which the idle-pool scenario's
    // empty script must not).
    const contenders = require.cache[require.resolve('./contenders')];
    if (contenders) contenders.exports.killAll();
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
