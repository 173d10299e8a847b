'use strict';
// The hello server, written as any Node cluster app is: the primary forks,
// each worker serves HTTP. Under musterd (NODE_UNIQUE_ID set) only the worker
// branch runs. Behaviour for the tests, chosen by the app's `env`:
//   HELLO_PORT   port to listen on (default 0); HELLO_HOST: host (default none)
//   HELLO_ERROR_EXIT  exit code after reporting a server 'error' (default 17)
// Messages it sends (process.send):
//   {listening: PORT, worker: ID}           once its server listens
//   {error: CODE, worker: ID}               when listen fails (then it exits)
//   {echo: MESSAGE, worker: ID}             for every message it receives
//   {held: N, worker: ID}                   when GET /hold arrives (never answered)
// The message {cmd: "disconnect"} makes it call cluster.worker.disconnect().
const cluster = require('node:cluster');
const http = require('node:http');

if (cluster.isPrimary) {
  for (let i = 0; i < 2; i++) cluster.fork();
} else {
  const id = cluster.worker.id;
  const port = Number(process.env.HELLO_PORT || 0);
  const host = process.env.HELLO_HOST || undefined;
  const held = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/hold') {
      held.push(res);
      process.send({ held: held.length, worker: id });
      return;
    }
    res.setHeader('Content-Type', 'text/plain');
    res.end(`hello from worker ${id}\n`);
  });
  server.on('error', (err) => {
    const code = Number(process.env.HELLO_ERROR_EXIT || 17);
    process.send({ error: err.code, worker: id }, () => process.exit(code));
  });
  server.listen(port, host, () => {
    process.send({ listening: server.address().port, worker: id });
  });
  process.on('message', (m) => {
    if (m && m.cmd === 'disconnect') {
      cluster.worker.disconnect();
      return;
    }
    process.send({ echo: m, worker: id });
  });
}
