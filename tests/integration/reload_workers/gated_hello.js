'use strict';
// node_workers/hello.js with two knobs for the rolling-reload tests, chosen by
// the app's `env`:
//   GATE_FILE   a path. When that file exists and holds a number N, a worker
//               whose id is N or more does what GATE_MODE says instead of
//               serving; without the file every worker serves. (The test
//               writes the file just before `reload`, so only the new workers
//               of the reload are affected.)
//   GATE_MODE   "exit" (default): exit with code 1 at start, before listening;
//               "hang": stay up but never listen (so never ready).
//   LISTEN_DELAY_MS  wait this long before serving (stretches each worker's
//               way to ready, so a reload's steps can be observed).
// A worker that serves is exactly hello.js (same env knobs and messages).
const cluster = require('node:cluster');
const fs = require('node:fs');
const path = require('node:path');

const hello = path.join(__dirname, '..', 'node_workers', 'hello.js');

function gated() {
  if (!cluster.isWorker || !process.env.GATE_FILE) return false;
  let text;
  try {
    text = fs.readFileSync(process.env.GATE_FILE, 'utf8');
  } catch {
    return false;
  }
  return cluster.worker.id >= Number(text);
}

if (gated()) {
  if (process.env.GATE_MODE === 'hang') {
    setInterval(() => {}, 1000);  // alive, online, never listening
  } else {
    process.exit(1);
  }
} else {
  const delay = Number(process.env.LISTEN_DELAY_MS || 0);
  if (delay > 0) setTimeout(() => require(hello), delay);
  else require(hello);
}
