'use strict';
// A cluster worker that reports its environment: sends {env: process.env} once.
const cluster = require('node:cluster');

if (cluster.isWorker) process.send({ env: process.env });
setInterval(() => {}, 1 << 30);
