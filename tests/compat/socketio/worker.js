'use strict';
// A socket.io server as its docs write one for a cluster
// (https://socket.io/docs/v4/cluster-adapter/): the worker listens on PORT
// with @socket.io/cluster-adapter, whose messages travel through the primary.
// Besides socket.io it answers, on the same port:
//   GET /check  -> {worker, sockets: [ids io.fetchSockets() sees],
//                   acks: [answers to serverSideEmitWithAck('ping')] | {error}}
//   GET /emit?t=TOKEN -> io.emit('broadcast', TOKEN); {worker}
//   GET /emit-binary?t=TOKEN -> io.emit('binary', BYTES), BYTES a Buffer of
//                    TOKEN then the bytes 0..255; {worker}
// Every client gets 'welcome' {worker} on connect; 'echo' is acked with
// {worker, data}. Usage: node worker.js PORT
const cluster = require('node:cluster');
const http = require('node:http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/cluster-adapter');

const port = Number(process.argv[2]);
const worker = cluster.worker ? cluster.worker.id : 0;

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const reply = (body) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/check') {
    const sockets = (await io.fetchSockets()).map((s) => s.id);
    // The adapter times the request out after requestsTimeout.
    io.serverSideEmit('ping', (err, acks) =>
      reply({ worker, sockets, acks: err ? { error: String(err.message || err) } : acks }));
    return;
  }
  if (url.pathname === '/emit') {
    io.emit('broadcast', url.searchParams.get('t'));
    return reply({ worker });
  }
  if (url.pathname === '/emit-binary') {
    const bytes = Buffer.concat([Buffer.from(url.searchParams.get('t')),
                                 Buffer.from([...Array(256).keys()])]);
    io.emit('binary', bytes);
    return reply({ worker });
  }
  if (!url.pathname.startsWith('/socket.io/')) {
    res.statusCode = 404;
    res.end();
  }
});

const io = new Server(server, {
  adapter: createAdapter({ requestsTimeout: 1500, heartbeatInterval: 1000 }),
});
io.on('connection', (socket) => {
  socket.emit('welcome', { worker });
  socket.on('echo', (data, ack) => ack({ worker, data }));
});
io.on('ping', (ack) => ack(worker));
server.listen(port);
