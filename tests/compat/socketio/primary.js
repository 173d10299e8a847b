'use strict';
// The reference: the socket.io app under its own Node primary, as socket.io's
// docs set it up. Usage: node primary.js WORKER_SCRIPT INSTANCES MODE PORT
//   MODE "cluster-adapter": cluster-adapter's setupPrimary() relays the
//        adapter's messages between workers (what relay = true replaces);
//   MODE "cluster-adapter-advanced": the same with serialization: 'advanced'
//        (what the adapter's docs ask for when packets carry binary data);
//   MODE "plain": no setupPrimary() (what musterd without relay does);
//   MODE "sticky": @socket.io/sticky's setupMaster: the primary listens on
//        PORT itself and passes each connection by its session (the worker
//        script then uses setupWorker and does not listen).
// Prints {"event":"listening","id":N} per worker (or per sticky worker
// ready), one JSON line each.
const cluster = require('node:cluster');
const http = require('node:http');

const [script, instances, mode, port] = process.argv.slice(2);
cluster.schedulingPolicy = cluster.SCHED_RR;
// sticky passes the request's first bytes as a Buffer: its docs require
// "advanced" serialization.
const advanced = mode === 'sticky' || mode === 'cluster-adapter-advanced';
cluster.setupPrimary({ exec: script, args: [port], serialization: advanced ? 'advanced' : 'json' });
if (mode.startsWith('cluster-adapter')) require('@socket.io/cluster-adapter').setupPrimary();
if (mode === 'sticky') {
  const server = http.createServer();
  require('@socket.io/sticky').setupMaster(server, { loadBalancingMethod: 'least-connection' });
  server.listen(Number(port));
}
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
cluster.on('listening', (w) => say({ event: 'listening', id: w.id }));
cluster.on('message', (w, m) => { if (m === 'ready') say({ event: 'listening', id: w.id }); });
for (let i = 0; i < Number(instances); i++) cluster.fork();
