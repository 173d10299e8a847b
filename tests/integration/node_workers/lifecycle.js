'use strict';
// A Node cluster worker for the lifecycle rows of docs/compatibility.md, run
// unchanged under a real Node primary (tests/compat/node_primary.js) and under
// musterd. Chosen by its environment:
//   LIFE_SERVER=1     serve HTTP on port 0 (127.0.0.1); without it the worker
//                     is a background job that never listens (a timer keeps it)
//   LIFE_LISTEN_DELAY  ms to wait after start before listening (default 0)
//   LIFE_LINGER=1     the background job's timer outlives its own disconnect
// Messages it sends (process.send): {started: ID}; {listening: PORT, worker: ID};
// {held: N, worker: ID} when GET /hold arrives (answered only on "release").
// Messages it obeys: {cmd: "disconnect"} calls cluster.worker.disconnect();
// {cmd: "exit", code: N} calls process.exit(N); {cmd: "release"} answers
// every held request ("released\n").
const cluster = require('node:cluster');
const http = require('node:http');

const id = cluster.worker.id;
const held = [];
process.send({ started: id });
if (process.env.LIFE_SERVER) {
  const server = http.createServer((req, res) => {
    if (req.url === '/hold') {
      held.push(res);
      process.send({ held: held.length, worker: id });
      return;
    }
    res.end(`hello from worker ${id}\n`);
  });
  setTimeout(() => {
    server.listen(0, '127.0.0.1', () => {
      process.send({ listening: server.address().port, worker: id });
    });
  }, Number(process.env.LIFE_LISTEN_DELAY || 0));
} else {
  // A background job: it works on a timer and never listens. Unless told to
  // linger, the timer is dropped at disconnect so that the process can end.
  const job = setInterval(() => {}, 1000);
  if (!process.env.LIFE_LINGER) cluster.worker.on('disconnect', () => clearInterval(job));
}
process.on('message', (m) => {
  if (m && m.cmd === 'disconnect') cluster.worker.disconnect();
  else if (m && m.cmd === 'exit') process.exit(m.code);
  else if (m && m.cmd === 'release') for (const res of held.splice(0)) res.end('released\n');
});
