'use strict';
// The hello server, written as any Node cluster app is: the primary forks,
// each worker serves HTTP. Under musterd (NODE_UNIQUE_ID set) only the worker
// branch runs. Behaviour for the tests, chosen by the app's `env`:
//   HELLO_PORT   port to listen on (default 0); HELLO_HOST: host (default none)
//   HELLO_PATH   a unix socket path to listen on instead of a port
//   HELLO_MAX_CONNECTIONS  the server's maxConnections
//   HELLO_TLS_KEY, HELLO_TLS_CERT  PEM files: serve HTTPS instead of HTTP
//   HELLO_ERROR_EXIT  exit code after reporting a server 'error' (default 17)
//   HELLO_GREETINGS   a JSON array: each element is sent with process.send()
//                     at start, before the server listens
// Messages it sends (process.send):
//   {listening: PORT, worker: ID}           once its server listens (PORT: the
//                                           path for a unix socket); with TLS
//                                           also ticketKeys: HEX
//   {error: CODE, worker: ID}               when listen fails (then it exits)
//   {echo: MESSAGE, worker: ID}             for every message it receives
//   {held: N, worker: ID}                   when GET /hold arrives (never answered)
//   {closed: true, worker: ID}              when its server has closed
// The message {cmd: "disconnect"} makes it call cluster.worker.disconnect();
// {cmd: "close"} closes its server (the process stays); {cmd: "listen"}
// listens again as at start;
// {cmd: "send-handle"} sends the primary a message with a handle (a server of
// its own, exclusive: true), then {after_handle: true, worker: ID};
// {cmd: "big", size: N} makes it send {big: "xxx..."} (N characters).
const cluster = require('node:cluster');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');

if (cluster.isPrimary) {
  for (let i = 0; i < 2; i++) cluster.fork();
} else {
  const id = cluster.worker.id;
  const port = Number(process.env.HELLO_PORT || 0);
  const host = process.env.HELLO_HOST || undefined;
  const held = [];
  for (const greeting of JSON.parse(process.env.HELLO_GREETINGS || '[]')) {
    process.send(greeting);
  }
  const tls = process.env.HELLO_TLS_KEY ? {
    key: fs.readFileSync(process.env.HELLO_TLS_KEY),
    cert: fs.readFileSync(process.env.HELLO_TLS_CERT),
  } : null;
  const handler = (req, res) => {
    if (req.url === '/hold') {
      held.push(res);
      process.send({ held: held.length, worker: id });
      return;
    }
    res.setHeader('Content-Type', 'text/plain');
    res.end(`hello from worker ${id}\n`);
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  server.on('error', (err) => {
    const code = Number(process.env.HELLO_ERROR_EXIT || 17);
    process.send({ error: err.code, worker: id }, () => process.exit(code));
  });
  if (process.env.HELLO_MAX_CONNECTIONS) {
    server.maxConnections = Number(process.env.HELLO_MAX_CONNECTIONS);
  }
  const listening = () => {
    const address = server.address();
    const report = { listening: typeof address === 'string' ? address : address.port, worker: id };
    if (tls) report.ticketKeys = server.getTicketKeys().toString('hex');
    process.send(report);
  };
  const listen = () => {
    if (process.env.HELLO_PATH) server.listen(process.env.HELLO_PATH, listening);
    else server.listen(port, host, listening);
  };
  listen();
  process.on('message', (m) => {
    if (m && m.cmd === 'disconnect') {
      cluster.worker.disconnect();
      return;
    }
    if (m && m.cmd === 'close') {
      server.close(() => process.send({ closed: true, worker: id }));
      return;
    }
    if (m && m.cmd === 'listen') {
      listen();
      return;
    }
    if (m && m.cmd === 'send-handle') {
      const own = net.createServer();
      own.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
        process.send({ with_handle: true, worker: id }, own, () => {
          process.send({ after_handle: true, worker: id });
        });
      });
      return;
    }
    if (m && m.cmd === 'big') {
      process.send({ big: 'x'.repeat(m.size), worker: id });
      return;
    }
    process.send({ echo: m, worker: id });
  });
}
