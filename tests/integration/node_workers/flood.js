'use strict';
// A cluster worker that floods its primary with small messages, as fast as
// the channel takes them (a burst of 1000, the next when the last is written),
// until it is sent {cmd: "stop"}; then it sends {flood_done: COUNT, worker: ID}
// and idles (it stays alive, so it is not restarted).
const cluster = require('node:cluster');

if (cluster.isPrimary) {
  cluster.fork();
} else {
  const id = cluster.worker.id;
  let sent = 0;
  let stop = false;
  function burst() {
    if (stop) {
      process.send({ flood_done: sent, worker: id });
      return;
    }
    for (let i = 0; i < 999; i++) process.send({ flood: ++sent });
    process.send({ flood: ++sent }, () => setImmediate(burst));
  }
  process.on('message', (m) => {
    if (m && m.cmd === 'stop') stop = true;
  });
  process.send({ flood_start: true, worker: id });
  burst();
  setInterval(() => {}, 1 << 30);
}
