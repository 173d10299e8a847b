'use strict';
// A cluster worker that sends its primary handles (process.send(msg, handle)),
// for the tests of what the primary does with them. Messages it takes:
//   {cmd: "server"}  listens on a server of its own (exclusive, 127.0.0.1, any
//                    port) that answers "from worker ID\n"; sends {server: PORT}
//                    with the server as the handle
//   {cmd: "socket"}  listens the same way and sends {socket_server: PORT}; the
//                    first connection to it goes to the primary as
//                    {socket: true} with the connection as the handle
//   {cmd: "dgram"}   binds a UDP socket of its own (exclusive) on 127.0.0.1;
//                    sends {dgram: PORT} with it
const cluster = require('node:cluster');
const dgram = require('node:dgram');
const net = require('node:net');

const id = cluster.isWorker ? cluster.worker.id : 0;

function ownServer(onConnection, then) {
  const server = net.createServer(onConnection);
  server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => then(server));
}

process.on('message', (m) => {
  if (m.cmd === 'server') {
    ownServer((c) => c.end(`from worker ${id}\n`),
      (s) => process.send({ server: s.address().port }, s));
  } else if (m.cmd === 'socket') {
    let sent = false;
    ownServer((c) => {
      if (!sent) process.send({ socket: true }, c);
      sent = true;
    }, (s) => process.send({ socket_server: s.address().port }));
  } else if (m.cmd === 'dgram') {
    const u = dgram.createSocket('udp4');
    u.bind({ port: 0, address: '127.0.0.1', exclusive: true },
      () => process.send({ dgram: u.address().port }, u));
  }
});
process.send({ ready: id });
