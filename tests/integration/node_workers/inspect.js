'use strict';
// A cluster worker that reports its inspector once: the port Node gave it
// (process.debugPort), the inspector's URL (undefined when it is not open),
// and the NODE_OPTIONS it was started with. Run under musterd (inspect =) and
// under a real Node primary started with --inspect (tests/compat).
const cluster = require('node:cluster');
const inspector = require('node:inspector');

if (cluster.isWorker) {
  process.send({
    inspect: {
      pid: process.pid,
      debugPort: process.debugPort,
      url: inspector.url() || null,
      nodeOptions: process.env.NODE_OPTIONS || null,
    },
  });
}
setInterval(() => {}, 1 << 30);
