'use strict';
// One-way transfers shared by the throughput and bulk scenarios (not a scenario itself).

/** Asks the child to pump n messages (`pump` fields: see child.js) and waits for all of them. */
function fromChild(conn, n, pump, check) {
  return new Promise((resolve, reject) => {
    let i = 0;
    conn.onMessage = (message) => {
      if (!check(message, i)) reject(new Error(`message ${i} from the child is wrong`));
      else if (++i === n) resolve();
    };
    conn.send({ cmd: 'pump', n, ...pump });
  });
}

/** Sends make(0) .. make(n - 1) and waits until the child has received them all. */
async function toChild(conn, n, make) {
  const done = new Promise((resolve, reject) => {
    conn.onMessage = (message) => (message === 'done' ? resolve() : reject(new Error(`unexpected ${message}`)));
  });
  conn.send({ cmd: 'expect', n });
  await conn.sendAll(n, make);
  await done;
}

module.exports = { fromChild, toChild };
