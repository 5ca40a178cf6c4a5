'use strict';
// The benchmark's child: the same logic runs under every contender, so that only the transport
// differs. `benchChild` is written once here and shipped as source: run as a script (the
// child_process.fork contenders) this file starts it directly; contenders.js embeds its source
// in the Proclet worker function (a Proclet runs source, not closures). It must therefore stay
// self-contained: no references to anything outside it. One file, so that neither child loads
// more modules than the other.
//
// Protocol (parent -> child; every command is an object with a `cmd`):
//   { cmd: 'pump', n, bytes }  send n messages back as fast as the transport allows: a string of
//                              `bytes` characters if `bytes` is set, else { i, s: 'hello' }
//   { cmd: 'expect', n }       count the next n messages (of any shape), then send 'done'
//   { cmd: 'stats' }           send { maxRSS } (bytes) and exit
//   anything else              is echoed back
// The child sends 'ready' as soon as it starts.

/**
 * @param {(message: unknown) => boolean} send  false: the transport asks the sender to slow down
 * @param {(last: unknown) => void} finish      sends `last`, then exits once it is delivered
 * @returns {(message: any) => void} the message handler
 */
function benchChild(send, finish) {
  let expecting = 0;

  // Neither child has a 'drain' event: when send() says "slow down", yield to the event loop
  // (which lets the transport write) and carry on.
  function pump(n, make) {
    let i = 0;
    (function next() {
      while (i < n) {
        if (!send(make(i++))) {
          setImmediate(next);
          return;
        }
      }
    })();
  }

  send('ready');

  return function onMessage(message) {
    if (expecting > 0) {
      if (--expecting === 0) send('done');
      return;
    }
    switch (message.cmd) {
      case 'expect':
        expecting = message.n;
        break;
      case 'pump':
        if (message.bytes) {
          const text = 'x'.repeat(message.bytes);
          pump(message.n, () => text);
        } else {
          pump(message.n, (i) => ({ i, s: 'hello' }));
        }
        break;
      case 'stats':
        finish({ maxRSS: process.resourceUsage().maxRSS * 1024 });
        break;
      default:
        send(message);
    }
  };
}

if (require.main === module) {
  // child_process.fork child ('json' or 'advanced' serialization is set up by fork itself).
  process.on(
    'message',
    benchChild(
      (message) => process.send(message),
      (last) => process.send(last, () => process.exit(0)),
    ),
  );
} else {
  module.exports = { benchChild };
}
