'use strict';
// The advanced-serialization proof's worker (tests/compat/test_compat_advanced.py).
// Listens on 127.0.0.1 (any port), then sends its primary {payload: P,
// worker: ID}, where P holds what JSON cannot: a Buffer, a Map, a Set, a
// Date, a BigInt, undefined, a typed array and a cycle. For each message it
// gets with a `payload`, it answers {report: util.inspect(payload), checks:
// {...}, worker: ID}: what the value is as this worker sees it. The message
// {cmd: "disconnect"} makes it call cluster.worker.disconnect();
// {cmd: "send-error"} makes it send {relayed: {error: new Error('boom')}}
// (a value muster does not read, which relay passes on as it came); a
// worker that gets a message with `relayed` answers {got: {isError, message}}.
const cluster = require('node:cluster');
const http = require('node:http');
const util = require('node:util');

if (cluster.isPrimary) {
  cluster.setupPrimary({ serialization: 'advanced' });
  cluster.fork();
} else {
  const id = cluster.worker.id;
  const server = http.createServer((req, res) => res.end('ok\n'));
  server.listen(0, '127.0.0.1', () => {
    const payload = {
      buf: Buffer.from([0, 1, 2, 255]),
      map: new Map([['k', 1], [2, 'two']]),
      set: new Set(['a', 3]),
      date: new Date(1700000000000),
      big: 12345678901234567890n,
      undef: undefined,
      list: [1, undefined, 'x'],
      u16: new Uint16Array([1, 65535]),
    };
    payload.self = payload;
    process.send({ payload, worker: id });
  });
  process.on('message', (m) => {
    if (m && m.cmd === 'disconnect') return cluster.worker.disconnect();
    if (m && m.cmd === 'send-error') return process.send({ relayed: { error: new Error('boom') } });
    if (m && m.relayed) {
      const e = m.relayed.error;
      return process.send({ got: { isError: e instanceof Error, message: e && e.message }, worker: id });
    }
    if (!m || !m.payload) return;
    const p = m.payload;
    process.send({
      report: util.inspect(p, { depth: null }),
      checks: {
        buffer: Buffer.isBuffer(p.buf), map: p.map instanceof Map, set: p.set instanceof Set,
        date: p.date instanceof Date, bigint: typeof p.big === 'bigint',
        undef: 'undef' in p && p.undef === undefined, cycle: p.self === p,
        u16: p.u16 instanceof Uint16Array,
      },
      worker: id,
    });
  });
}
