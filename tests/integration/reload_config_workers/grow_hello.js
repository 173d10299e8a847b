'use strict';
// A Node cluster HTTP worker whose memory grows when asked (protocol = "node").
//   GET /       "hello from worker ID"
//   GET /grow   allocates GROW_MIB MiB (default 160; every byte written, so
//               resident) and keeps it; answers "worker ID grew to RSS" (bytes)
// It listens on port HELLO_PORT (default 0: the app's ephemeral socket).
const cluster = require('node:cluster');
const http = require('node:http');

if (cluster.isPrimary) {
  cluster.fork();
} else {
  const id = cluster.worker.id;
  const hoard = [];
  const server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    if (req.url === '/grow') {
      hoard.push(Buffer.alloc(Number(process.env.GROW_MIB || 160) * 1024 * 1024, 1));
      res.end(`worker ${id} grew to ${process.memoryUsage().rss}\n`);
      return;
    }
    res.end(`hello from worker ${id}\n`);
  });
  server.listen(Number(process.env.HELLO_PORT || 0));
}
