'use strict';
// What a cluster worker can see of itself and its primary, sent to the
// primary as one message at start ({view: {...}}), then again on request
// ({cmd: "view"}). Under a real Node primary and under musterd the views are
// compared (tests/compat/test_compat_worker_view.py). Values that differ by
// nature (pids, ids) are reported as their type or shape only.
const cluster = require('node:cluster');

if (cluster.isPrimary) {
  cluster.fork();
} else {
  const w = cluster.worker;
  const view = () => ({
    isPrimary: cluster.isPrimary,
    isMaster: cluster.isMaster,
    isWorker: cluster.isWorker,
    workerIdType: typeof w.id,
    workerIdMatchesEnv: String(w.id) === process.env.NODE_UNIQUE_ID,
    workerIsConnected: w.isConnected(),
    workerIsDead: w.isDead(),
    workerProcessIsProcess: w.process === process,
    exitedAfterDisconnect: w.exitedAfterDisconnect === undefined ? 'undefined' : w.exitedAfterDisconnect,
    processConnected: process.connected,
    hasSend: typeof process.send,
    hasChannel: process.channel !== undefined,
    channelFd: process.env.NODE_CHANNEL_FD,
    serialization: process.env.NODE_CHANNEL_SERIALIZATION_MODE || 'json',
    clusterWorkersInWorker: cluster.workers === undefined ? 'undefined' : typeof cluster.workers,
    schedulingPolicyType: typeof cluster.schedulingPolicy,
    argv: process.argv.slice(2),
    execArgv: process.execArgv,
    stdinIsTTY: Boolean(process.stdin.isTTY),
  });
  process.send({ view: view() });
  process.on('message', (m) => {
    if (m && m.cmd === 'view') process.send({ view: view() });
  });
  setInterval(() => {}, 1 << 30);  // a worker with no server: runs until told
}
