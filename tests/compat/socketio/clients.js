'use strict';
// socket.io clients against PORT; prints one JSON result line.
// Usage: node clients.js PORT MODE N
//   MODE "relay": N websocket clients, then GET /check 6 times (rr spreads
//     them over the workers) and GET /emit; result {clients: [worker per
//     client], checks: [/check answers], received: clients that got the emit}
//   MODE "binary": N websocket clients, then GET /emit-binary on one worker;
//     result {clients: [worker per client], intact: clients that got the
//     Buffer byte for byte, received: [what each got, described]}
//   MODE "polling": N clients with transports ['polling'], client i from
//     127.0.0.(i+2) (an address of its own, as N users would be); each
//     connects and echoes 3 messages; result {ok, workers: [served by], errors}
const http = require('node:http');
const { io } = require('socket.io-client');

const [port, mode, n] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
const base = `http://127.0.0.1:${port}`;
const deadline = (ms, what) => new Promise((_, reject) =>
  setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms).unref());

function get(path) {
  return new Promise((resolve, reject) => {
    http.get(base + path, { agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

function connect(options) {
  const socket = io(base, { forceNew: true, reconnection: false, timeout: 3000, ...options });
  const welcome = new Promise((resolve, reject) => {
    socket.once('welcome', (w) => resolve(w.worker));
    socket.once('connect_error', (e) => reject(new Error(`connect_error: ${e.message}`)));
  });
  return { socket, welcome: Promise.race([welcome, deadline(4000, 'welcome')]) };
}

// N websocket clients, each once welcomed (c.worker: its worker).
async function websocketClients() {
  const clients = [];
  for (let i = 0; i < n; i++) {
    const c = connect({ transports: ['websocket'] });
    c.worker = await c.welcome;
    clients.push(c);
  }
  return clients;
}

async function relay() {
  const clients = await websocketClients();
  const checks = [];
  for (let i = 0; i < 6; i++) checks.push(await get('/check'));
  const token = String(Date.now());
  const got = clients.map((c) => Promise.race([
    new Promise((resolve) => c.socket.on('broadcast', (t) => t === token && resolve(true))),
    new Promise((resolve) => setTimeout(() => resolve(false), 2000)),
  ]));
  await get('/emit?t=' + token);
  const received = (await Promise.all(got)).filter(Boolean).length;
  clients.forEach((c) => c.socket.close());
  return { clients: clients.map((c) => c.worker), checks, received };
}

async function binary() {
  const clients = await websocketClients();
  const token = String(Date.now());
  const expected = Buffer.concat([Buffer.from(token), Buffer.from([...Array(256).keys()])]);
  const got = clients.map((c) => Promise.race([
    new Promise((resolve) => c.socket.on('binary', (b) => resolve(b))),
    new Promise((resolve) => setTimeout(() => resolve(null), 3000)),
  ]));
  await get('/emit-binary?t=' + token);
  const received = await Promise.all(got);
  clients.forEach((c) => c.socket.close());
  const intact = received.filter((b) => Buffer.isBuffer(b) && b.equals(expected)).length;
  const describe = (b) => (Buffer.isBuffer(b) ? `Buffer(${b.length})` : JSON.stringify(b)?.slice(0, 60) ?? String(b));
  return { clients: clients.map((c) => c.worker), intact, received: received.map(describe) };
}

async function pollingClient(i) {
  const agent = new http.Agent({ keepAlive: false, localAddress: `127.0.0.${i + 2}` });
  const c = connect({ transports: ['polling'], agent });
  try {
    const worker = await c.welcome;
    for (let k = 0; k < 3; k++) {
      const answer = await Promise.race([c.socket.timeout(3000).emitWithAck('echo', k),
                                         deadline(4000, 'echo')]);
      if (answer.data !== k) throw new Error(`echo ${k} answered ${JSON.stringify(answer)}`);
    }
    return { ok: true, worker };
  } catch (e) {
    return { ok: false, error: e.message };
  } finally {
    c.socket.close();
    agent.destroy();
  }
}

async function polling() {
  const results = await Promise.all([...Array(n).keys()].map(pollingClient));
  return {
    ok: results.filter((r) => r.ok).length,
    workers: results.filter((r) => r.ok).map((r) => r.worker),
    errors: results.filter((r) => !r.ok).map((r) => r.error),
  };
}

({ relay, binary, polling }[mode])().then((result) => {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}, (e) => {
  process.stdout.write(JSON.stringify({ failed: String(e.stack || e) }) + '\n');
  process.exit(0);
});
