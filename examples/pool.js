const { once } = require('events');
const { ProcletPool } = require('proclet');

const pool = new ProcletPool(
  function () {
    this.expose({ hash: (s) => require('crypto').createHash('sha256').update(s).digest('hex').slice(0, 8) });
    // Handlers get the sender's id last: 0 for the parent, else a worker's id.
    this.on('shard', function (key, from) {
      this.emit('stored', key, from);
    });
    if (this.id === 1) this.to(2).emit('shard', 'k1'); // worker to worker, not through the parent's JS
  },
  { size: 2 },
);

(async () => {
  pool.run();
  // Listeners on pool.parent get the worker's id after the event's own arguments.
  const [key, from, id] = await once(pool.parent, 'stored');
  console.log(`worker ${id} stored ${key}, sent by worker ${from}`);
  pool.to(2).emit('shard', 'k2');
  console.log('stored %s, sent by %d, in worker %d', ...(await once(pool.parent, 'stored')));
  console.log(await Promise.all(['a', 'b', 'c'].map((s) => pool.child.call('hash', s))));
  console.log('stopped:', (await pool.stop()).map((exit) => exit.id));
})();
