'use strict';
// The benchmark's child: the same logic runs under every contender, so that only the transport
// differs. `benchChild` is written once here and shipped as source: run as a script (the
// child_process.fork contenders) this file starts it directly; contenders.js embeds its source
// in the Proclet worker function (a Proclet runs source, not closures). It must therefore stay
// self-contained: no references to anything outside it. One file, so that neither child loads
// more modules than the other.
//
// Protocol (parent -> child; every command is an object with a `cmd`):
//   { cmd: 'pump', n, bytes, buffer }  send n messages back as fast as the transport allows:
//                              { i, s: <string of `bytes` characters> } if `bytes` is set,
//                              { i, b: <Buffer of `bytes` bytes> } with `buffer` too, else
//                              { i, s: 'hello' }
//   { cmd: 'expect', n }       count the next n messages (of any shape), then send 'done'
//   { cmd: 'stats' }           send { maxRSS } (bytes) and exit
//   anything else              is echoed back
// The child sends 'ready' as soon as it starts.

/**
 * @param {(message: unknown) => boolean} send  false: the transport asks the sender to slow down
 * @param {(message: unknown) => Promise<void>} sendAndWait  sends, and resolves once everything
 *   sent so far is written: the backpressure a careful user waits on (process.send's callback,
 *   a Proclet's this.flush())
 * @param {(last: unknown) => void} finish      sends `last`, then exits once it is delivered
 * @returns {(message: any) => void} the message handler
 */
function benchChild(send, sendAndWait, finish) {
  let expecting = 0;

  // When send() says "slow down", the next message is sent with a callback and the loop waits
  // for it: neither child has a 'drain' event.
  function pump(n, make) {
    let i = 0;
    (function next() {
      while (i < n) {
        if (!send(make(i++)) && i < n) {
          sendAndWait(make(i++)).then(next);
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
        if (message.bytes && message.buffer) {
          const bytes = Buffer.alloc(message.bytes, 'x');
          pump(message.n, (i) => ({ i, b: bytes }));
        } else if (message.bytes) {
          const text = 'x'.repeat(message.bytes);
          pump(message.n, (i) => ({ i, s: text }));
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
      (message) => new Promise((resolve, reject) => process.send(message, (error) => (error ? reject(error) : resolve()))),
      (last) => process.send(last, () => process.exit(0)),
    ),
  );
} else {
  module.exports = { benchChild };
}
