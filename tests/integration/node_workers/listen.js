'use strict';
// A cluster worker that listens the way LISTEN_SPEC (JSON) says and reports
// what it sees, for comparing Node's primary with musterd
// (tests/compat/test_compat_listen.py, test_compat_dgram.py and
// tests/integration/test_node_listen.py). LISTEN_SPEC:
//   {"kind": "tcp", "port": P, ...rest}   net server.listen({port: P, ...rest})
//                                         (rest: host, ipv6Only, exclusive);
//                                         "args": [P, HOST] calls listen(P, HOST)
//                                         positionally instead.
//   {"kind": "udp4"|"udp6", "port": P, "address": A, "exclusive": E,
//    "reuseAddr": R, "ipv6Only": I}       dgram socket.bind({port, address,
//                                         exclusive})
// A TCP client gets "worker ID\n"; a datagram is answered with
// "worker ID: <datagram>". Messages (process.send):
//   {listening: server.address(), worker: ID}   once listening / bound
//   {error: CODE, worker: ID}                   on a listen or bind error
// Under a Node primary (no NODE_UNIQUE_ID) it forks LISTEN_WORKERS workers (2).
// LISTEN_CLOSE_ON_TERM=1: on SIGTERM the worker closes its TCP server first
// (what an app that binds its own socket must do to lose no connection: one
// it has accepted when SIGTERM's default action ends it is lost: the
// worker holds it, not the primary), then ends by SIGTERM all the same.
const cluster = require('node:cluster');
const dgram = require('node:dgram');
const net = require('node:net');

if (cluster.isPrimary) {
  for (let i = 0; i < Number(process.env.LISTEN_WORKERS || 2); i++) cluster.fork();
} else {
  const id = cluster.worker.id;
  const { kind, args, ...options } = JSON.parse(process.env.LISTEN_SPEC);
  const report = (server) => () => process.send({ listening: server.address(), worker: id });
  const failed = (err) => process.send({ error: err.code, worker: id });
  if (kind === 'tcp') {
    const server = net.createServer((socket) => socket.end(`worker ${id}\n`));
    server.on('error', failed);
    server.on('listening', report(server));
    if (process.env.LISTEN_CLOSE_ON_TERM) {
      process.once('SIGTERM', () =>
        server.close(() => process.kill(process.pid, 'SIGTERM')));
    }
    if (args) server.listen(...args);
    else server.listen(options);
  } else {
    const { reuseAddr, ipv6Only, ...bind } = options;
    const socket = dgram.createSocket({ type: kind, reuseAddr, ipv6Only });
    socket.on('error', failed);
    socket.on('listening', report(socket));
    socket.on('message', (msg, rinfo) =>
      socket.send(`worker ${id}: ${msg}`, rinfo.port, rinfo.address));
    socket.bind(bind);
  }
}
