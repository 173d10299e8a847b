'use strict';
// The HTTP API of the PM2 example (ecosystem.config.js): a plain server, as
// PM2's cluster mode runs it; under musterd it is a node app. It answers
// "GREETING NODE_ENV PID" on every request; GREETING comes from
// `--greeting TEXT` in its arguments.
const http = require('node:http');

const at = process.argv.indexOf('--greeting');
const greeting = at > 0 ? process.argv[at + 1] : 'hello';
const port = Number(process.env.PORT || 3000);

http
  .createServer((req, res) => res.end(`${greeting} ${process.env.NODE_ENV} ${process.pid}\n`))
  .listen(port, process.env.HOST || '127.0.0.1');
