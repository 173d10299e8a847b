// The benchmark's Node worker script: an ordinary Node cluster app.
//
// Under `node bench/node_cluster.js` Node's own primary forks BENCH_WORKERS (2)
// workers; NODE_CLUSTER_SCHED_POLICY (rr | none) picks Node's scheduling. Under
// musterd (protocol = "node") musterd is the primary and only the worker branch
// runs, exactly the same code.
//
// Each worker answers every request with a short text body and counts the
// requests it served and the connections it was given. The counts are the
// per-worker share side channel: on SIGUSR2 the worker writes
// "<generation> <requests> <connections> <first> <last>\n" to
// $BENCH_COUNT_DIR/worker-<pid>.count, first/last being the monotonic ns of the
// first and last connection since the previous report (0 if none)
// (tmp file + rename, so a reader never sees half a line). Nothing is done per
// request but `count++` (per connection: `conns++`). The connection count shows
// how a keep-alive run's connections were split, under any primary.
//
// With BENCH_SINGLE=1 there is no cluster: the process runs the worker branch
// itself (bench/run's `node-single`: one plain Node http server, the same code)
// and writes its own pid to BENCH_READY_FILE once listening.
//
// Environment: PORT (default 8000), HOST (default: all addresses),
// BENCH_COUNT_DIR (optional), BENCH_WORKERS (primary only, default 2),
// BENCH_READY_FILE (primary only: written with the worker pids, one per line,
// once every worker is listening).
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const single = process.env.BENCH_SINGLE === '1';

if (cluster.isPrimary && !single) {
  const n = Number(process.env.BENCH_WORKERS || 2);
  let listening = 0;
  const workers = [];
  for (let i = 0; i < n; i++) workers.push(cluster.fork());
  cluster.on('listening', () => {
    if (++listening === n && process.env.BENCH_READY_FILE) {
      const file = process.env.BENCH_READY_FILE;
      fs.writeFileSync(file + '.tmp', workers.map((w) => w.process.pid).join('\n') + '\n');
      fs.renameSync(file + '.tmp', file);
    }
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const w of Object.values(cluster.workers)) w.disconnect();
    // Bounded: whatever is still around after 2 s is killed.
    setTimeout(() => {
      for (const w of Object.values(cluster.workers)) w.process.kill('SIGKILL');
      process.exit(0);
    }, 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  cluster.on('exit', () => {
    if (stopping && Object.keys(cluster.workers).length === 0) process.exit(0);
  });
} else {
  const port = Number(process.env.PORT || 8000);
  const host = process.env.HOST || undefined;
  const dir = process.env.BENCH_COUNT_DIR;
  const body = `Hello from Node worker ${single ? 0 : cluster.worker.id}\n`;
  let count = 0;
  let conns = 0;
  let generation = 0;
  const server = http.createServer((req, res) => {
    count++;
    res.setHeader('Content-Type', 'text/plain');
    res.end(body);
  });
  // Monotonic ns of the first and last connection since the last report: how
  // long a burst of connects took to be handed out (bench/keepalive_split).
  let first = 0n;
  let last = 0n;
  server.on('connection', () => {
    conns++;
    last = process.hrtime.bigint();
    if (first === 0n) first = last;
  });
  server.listen(port, host, () => {
    if (single && process.env.BENCH_READY_FILE) {
      const file = process.env.BENCH_READY_FILE;
      fs.writeFileSync(file + '.tmp', `${process.pid}\n`);
      fs.renameSync(file + '.tmp', file);
    }
  });
  if (single) process.on('SIGTERM', () => process.exit(0));
  if (dir) {
    const file = path.join(dir, `worker-${process.pid}.count`);
    process.on('SIGUSR2', () => {
      generation++;
      fs.writeFileSync(file + '.tmp', `${generation} ${count} ${conns} ${first} ${last}\n`);
      first = last = 0n;
      fs.renameSync(file + '.tmp', file);
    });
  }
}
