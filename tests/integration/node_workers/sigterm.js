'use strict';
// A cluster worker with cleanup in its SIGTERM handler and a timer that keeps
// its loop alive (a database pool, say), for the stop-sequence rows of
// docs/compatibility.md. It sends {started: ID}; on SIGTERM it writes
// "$SIGTERM_NOTE.ID" (its cleanup ran) and exits 0. With LIFE_SERVER=1 it
// also serves HTTP on 127.0.0.1, port 0 (sends {listening: PORT, worker: ID}).
const cluster = require('node:cluster');
const fs = require('node:fs');
const http = require('node:http');

const id = cluster.worker.id;
setInterval(() => {}, 1 << 30);
process.on('SIGTERM', () => {
  fs.writeFileSync(`${process.env.SIGTERM_NOTE}.${id}`, 'cleaned up\n');
  process.exit(0);
});
process.send({ started: id });
if (process.env.LIFE_SERVER) {
  const server = http.createServer((req, res) => res.end(`hello from worker ${id}\n`));
  server.listen(0, '127.0.0.1', () =>
    process.send({ listening: server.address().port, worker: id }));
}
