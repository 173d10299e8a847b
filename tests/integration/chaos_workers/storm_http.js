'use strict';
// An HTTP worker for the kill storm (test_chaos.py, scripts/soak). Before
// anything reads a connection it notes the client's address in
// $STORM_LOG_DIR/accepted-PID (one line each, written synchronously, so a
// SIGKILL cannot lose a line of a connection that was touched). Every client
// of the storm connects from an address of its own (127.x.y.z), so a failed
// request can be traced to the worker that had it -- or to none: then the
// daemon lost it. Answers "ok PID".
const cluster = require('node:cluster');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

if (cluster.isPrimary) {
  cluster.fork();
} else {
  const log = fs.openSync(path.join(process.env.STORM_LOG_DIR, `accepted-${process.pid}`), 'a');
  const server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(`ok ${process.pid}\n`);
  });
  // A connection handed over by the primary (rr) is noted when its handle
  // arrives, before Node's cluster code answers {accepted: true}: after that
  // answer the primary closes its copy, so a worker killed between the
  // answer and the 'connection' event had the connection in its own hands.
  // (lib/internal/cluster/child.js: onconnection() sends the ack, then calls
  // server.onconnection().)
  process.prependListener('internalMessage', (message, handle) => {
    if (message && message.cmd === 'NODE_CLUSTER' && message.act === 'newconn' && handle) {
      const peer = {};
      if (handle.getpeername && handle.getpeername(peer) === 0) fs.writeSync(log, `${peer.address}\n`);
    }
  });
  // First listener of 'connection' (the shared-socket case): runs before
  // http's own starts reading.
  server.prependListener('connection', (socket) => {
    fs.writeSync(log, `${socket.remoteAddress}\n`);
  });
  server.listen(Number(process.env.STORM_PORT || 0));
}
