'use strict';
// The task of the pool contenders: a small call, answered with a small value. tinypool loads
// this file's export; workerpool registers it when started as a worker script.

function echo(message) {
  return message.i;
}

if (process.argv.includes('--workerpool')) require('workerpool').worker({ echo });
else module.exports = echo;
