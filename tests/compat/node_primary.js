'use strict';
// The reference for tests/compat: a real Node primary running a worker
// script the way musterd does. Usage:
//   node node_primary.js SCRIPT INSTANCES POLICY [ARGS...]
// POLICY is "rr" or "none" (cluster.schedulingPolicy). The workers inherit
// this process's environment, as under any Node primary. Every cluster event
// is printed on stdout as one JSON line (what an operator of a Node primary
// can observe); stdin accepts JSON lines {"cmd": ...} to act on workers:
//   {"cmd":"kill","id":N,"signal":"SIGTERM"}   worker.kill(signal)
//   {"cmd":"disconnect","id":N}                worker.disconnect()
//   {"cmd":"send","id":N,"message":M}          worker.send(M)
//   {"cmd":"echo","id":N}                      worker.send(its last message), as it came
// COMPAT_SERIALIZATION=advanced in the environment: setupPrimary's
// serialization: 'advanced'; a message JSON cannot show is printed as
// {"inspect": util.inspect(message)}.
//   {"cmd":"fork"}                             cluster.fork()
//   {"cmd":"exit"}                             disconnect everyone, then exit
const cluster = require('node:cluster');
const readline = require('node:readline');
const util = require('node:util');

const [script, instances, policy, ...args] = process.argv.slice(2);
cluster.schedulingPolicy = policy === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR;
const serialization = process.env.COMPAT_SERIALIZATION || 'json';
cluster.setupPrimary({ exec: script, args, silent: false, serialization });
const last = {};

function emit(event, fields) {
  let line;
  try {
    line = JSON.stringify({ event, time: Date.now(), ...fields });
  } catch {  // a BigInt or a cycle (advanced serialization)
    line = JSON.stringify({ event, time: Date.now(), ...fields,
                            message: { inspect: util.inspect(fields.message, { depth: null }) } });
  }
  process.stdout.write(line + '\n');
}

cluster.on('fork', (w) => emit('fork', { id: w.id, pid: w.process.pid }));
cluster.on('online', (w) => emit('online', { id: w.id }));
cluster.on('listening', (w, address) => emit('listening', { id: w.id, address }));
cluster.on('disconnect', (w) => emit('disconnect', { id: w.id }));
cluster.on('exit', (w, code, signal) =>
  emit('exit', { id: w.id, code, signal, exitedAfterDisconnect: w.exitedAfterDisconnect }));
cluster.on('message', (w, message, handle) => {
  last[w.id] = message;
  emit('message', { id: w.id, message, handle: handle ? handle.constructor.name : null });
});

for (let i = 0; i < Number(instances); i++) cluster.fork();

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const c = JSON.parse(line);
  const w = c.id !== undefined ? cluster.workers[c.id] : undefined;
  if (c.cmd === 'kill' && w) w.kill(c.signal || 'SIGTERM');
  else if (c.cmd === 'disconnect' && w) w.disconnect();
  else if (c.cmd === 'send' && w) w.send(c.message);
  else if (c.cmd === 'echo' && w) w.send(last[c.id]);
  else if (c.cmd === 'fork') cluster.fork();
  else if (c.cmd === 'exit') cluster.disconnect(() => process.exit(0));
});
