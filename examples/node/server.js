// An ordinary Node.js cluster app, unmodified: under `node server.js` its
// primary forks the workers; under musterd (protocol = "node") musterd is the
// primary and only the worker branch runs.
const cluster = require('node:cluster');
const http = require('node:http');

if (cluster.isPrimary) {
  for (let i = 0; i < 2; i++) cluster.fork();
} else {
  const port = Number(process.env.PORT || 8000);
  http.createServer((req, res) => {
    res.end(`Hello from Node worker ${cluster.worker.id} (pid ${process.pid})\n`);
  }).listen(port);
  process.on('message', (msg) => process.send({ echo: msg }));
}
