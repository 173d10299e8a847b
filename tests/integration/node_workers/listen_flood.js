'use strict';
// A cluster worker that asks for many ports: net servers listening on
// FLOOD_HOST (default 127.0.0.1), ports FLOOD_FROM .. FLOOD_FROM+FLOOD_COUNT-1,
// all at once, as a buggy or hostile worker might (tests/integration/
// test_node_on_demand.py). It keeps every server that listens and reports once
// all have answered:
//   {flood: {listening: N, errors: {CODE: N, ...}}, worker: ID}
// Under a Node primary (no NODE_UNIQUE_ID) it forks one worker.
const cluster = require('node:cluster');
const net = require('node:net');

if (cluster.isPrimary) {
  cluster.fork();
} else {
  const host = process.env.FLOOD_HOST || '127.0.0.1';
  const from = Number(process.env.FLOOD_FROM);
  const count = Number(process.env.FLOOD_COUNT);
  const errors = {};
  let listening = 0;
  let answered = 0;
  const done = () => {
    if (++answered === count)
      process.send({ flood: { listening, errors }, worker: cluster.worker.id });
  };
  for (let port = from; port < from + count; port++) {
    const server = net.createServer((socket) => socket.end('flood\n'));
    server.on('error', (err) => {
      errors[err.code] = (errors[err.code] || 0) + 1;
      done();
    });
    server.on('listening', () => {
      listening++;
      done();
    });
    server.listen(port, host);
  }
}
