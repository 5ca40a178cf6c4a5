'use strict';
// run() arguments that travel as a PACKED frame reach every child supervision starts, unchanged
// even if the caller changes them after run(); so do packed messages queued while no child runs.

const { Proclet, track, endAll } = require('../helpers');

afterEach(endAll);

test.each([['json'], ['advanced']])("serialization: '%s': every restarted child gets the same binary run() arguments", async (serialization) => {
  const bytes = Buffer.from('first');
  const p = track(
    new Proclet(
      function (arg) {
        this.send({ isBuffer: Buffer.isBuffer(arg.b), text: arg.b.toString(), big: arg.big.length });
        setTimeout(() => process.exit(1), 10);
      },
      { serialization, restart: 'on-failure', restartDelay: 0 },
    ),
  );
  const seen = [];
  p.parent.on('message', (m) => {
    seen.push(m);
    if (seen.length === 3) p.stop();
  });
  p.parent.on('error', () => {});
  p.run({ b: bytes, big: 'x'.repeat(100000) });
  bytes.write('xxxxx');
  await p.exited;
  expect(seen).toEqual(Array.from({ length: 3 }, () => ({ isBuffer: true, text: 'first', big: 100000 })));
});
