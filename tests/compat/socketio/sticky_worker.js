'use strict';
// The same app as worker.js with @socket.io/sticky's worker side: it does
// not listen; the sticky primary passes it connections. Usage: node sticky_worker.js PORT
const cluster = require('node:cluster');
const http = require('node:http');
const { Server } = require('socket.io');
const { setupWorker } = require('@socket.io/sticky');

const worker = cluster.worker.id;
const io = new Server(http.createServer());
setupWorker(io);
io.on('connection', (socket) => {
  socket.emit('welcome', { worker });
  socket.on('echo', (data, ack) => ack({ worker, data }));
});
process.send('ready');
