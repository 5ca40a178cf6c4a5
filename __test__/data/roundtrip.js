'use strict';
// Sends values every way a value travels (message, event argument, call argument and result,
// run() argument) in one serialization mode, and returns what each side saw, as fingerprints.

const { Proclet, track, nextMessages } = require('../helpers');
const { fingerprint } = require('./fingerprint');

/**
 * A child that reports what arrives and sends it back, in `serialization` mode; `p.runSeen`
 * resolves with the fingerprint of `runArg` as the worker received it.
 */
function echoer(serialization, runArg) {
  const p = track(
    new Proclet(
      function (arg) {
        const { fingerprint } = require('./fingerprint');
        this.send({ run: fingerprint(arg) });
        this.expose({
          echo(value) {
            return value;
          },
          seen(value) {
            return fingerprint(value);
          },
          callParent(value) {
            return this.call('parentEcho', value);
          },
        });
      },
      { serialization },
    ),
  );
  p.child.on('message', function (m) {
    this.send(m);
  });
  p.child.on('ping', function (value) {
    this.emit('pong', value, require('./fingerprint').fingerprint(value));
  });
  p.parent.expose({ parentEcho: (value) => value });
  p.errors = [];
  p.parent.on('error', (error) => p.errors.push(error));
  p.runSeen = nextMessages(p, 1).then(([m]) => m.run);
  p.run(runArg);
  return p;
}

/** Every way `value` can travel, there and back: [way, fingerprint seen] pairs. */
async function travel(p, value) {
  await p.runSeen;
  const seen = [];
  // Message: the child echoes it; the parent sees the echo.
  const echoed = new Promise((resolve) => p.parent.once('message', resolve));
  p.parent.send(value);
  seen.push(['message there and back', fingerprint(await echoed)]);
  // Event: the child fingerprints what arrived and emits it back.
  const pong = new Promise((resolve) => p.parent.once('pong', (back, there) => resolve([there, back])));
  p.child.emit('ping', value);
  const [there, back] = await pong;
  seen.push(['event argument, in the child', there]);
  seen.push(['event argument, back in the parent', fingerprint(back)]);
  // Calls: an argument seen by the child, a result seen by the parent, and the child calling the parent.
  seen.push(['call argument, in the child', await p.child.call('seen', value)]);
  seen.push(['call result', fingerprint(await p.child.call('echo', value))]);
  seen.push(['child calls the parent, argument and result', fingerprint(await p.child.call('callParent', value))]);
  return seen;
}

module.exports = { echoer, travel, fingerprint };
