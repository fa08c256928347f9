#!/usr/bin/env node
'use strict';
// A small HTTP service logging through ringlog (Node's `http` module only,
// apart from ringlog itself):
//
// - every request gets a child logger, log.child({ request_id, method,
//   path }), and ends with one `request handled` record carrying `status`
//   and `latency_ms`;
// - an incoming W3C `traceparent` header becomes the request's trace
//   context (ringlog.withTraceContext), so all of its records, those the
//   inventory module logs after an await included, carry trace_id,
//   span_id and trace_flags;
// - GET /fail throws: the error is logged as an ERROR record with an `err`
//   object (type, message, stack) and answered with 500.
//
// `node server.js` serves on 127.0.0.1:8080 (PORT overrides) until Ctrl-C;
// `node server.js --self-test` serves on a free port, sends itself a few
// requests, checks the answers, stops and flushes, and exits 0 when every
// answer was right. The output is set by the usual environment variables
// (RINGLOG_OUTPUT, RINGLOG_FORMAT, RINGLOG_LEVEL, RINGLOG_CONFIG); by
// default JSON lines on stderr.

const http = require('http');
const crypto = require('crypto');
const { setTimeout: sleep } = require('timers/promises');

let ringlog;
try {
  ringlog = require('ringlog');
} catch {
  // Run from a checkout without installing the package.
  ringlog = require('../../bindings/node');
}

const log = ringlog.logger({ name: 'http' });
const inventoryLog = ringlog.logger({ name: 'inventory' });

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const ITEMS = new Map([
  ['sku-1', { name: 'lamp', stock: 3 }],
  ['sku-2', { name: 'desk', stock: 0 }],
]);

/** A stand-in for a database call: answers after a little while. */
async function findItem(id) {
  inventoryLog.debug({ id }, 'looking up item');
  await sleep(2);
  const item = ITEMS.get(id);
  inventoryLog.debug({ id, found: item !== undefined }, 'lookup done');
  return item;
}

async function route(req, reqLog) {
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/health') {
    return [200, { ok: true }];
  }
  const m = /^\/items\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'GET' && m) {
    const item = await findItem(decodeURIComponent(m[1]));
    if (!item) {
      reqLog.warn({ item_id: m[1] }, 'no such item');
      return [404, { error: 'not found' }];
    }
    return [200, item];
  }
  if (url.pathname === '/fail') {
    await sleep(1);
    throw new Error('the inventory database is on fire', {
      cause: Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }),
    });
  }
  return [404, { error: 'no route' }];
}

function handle(req, res) {
  const started = process.hrtime.bigint();
  const given = req.headers['x-request-id'];
  const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
  const reqLog = log.child({ request_id: requestId, method: req.method, path: req.url });
  // A missing or malformed traceparent runs the handler without a context.
  ringlog.withTraceContext(req.headers.traceparent, async () => {
    let status;
    let body;
    try {
      [status, body] = await route(req, reqLog);
    } catch (err) {
      reqLog.error({ err }, 'request failed');
      [status, body] = [500, { error: 'internal error' }];
    }
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId });
    res.end(JSON.stringify(body));
    const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
    reqLog.info({ status, latency_ms: Math.round(latencyMs * 1000) / 1000 }, 'request handled');
  });
}

function request(port, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
  });
}

/** The requests of the self-test: [path, headers, expected status]. */
const SELF_TEST = [
  ['/health', { 'x-request-id': 'selftest-health' }, 200],
  [
    '/items/sku-1',
    {
      'x-request-id': 'selftest-traced',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    },
    200,
  ],
  ['/items/sku-9', { 'x-request-id': 'selftest-missing' }, 404],
  ['/fail', { 'x-request-id': 'selftest-fail' }, 500],
  ['/health', { traceparent: 'not a traceparent' }, 200],
];

async function selfTest(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  log.info({ port }, 'self-test serving');
  let problems = 0;
  for (const [path, headers, want] of SELF_TEST) {
    const got = await request(port, path, headers);
    if (got !== want) {
      problems++;
      log.error({ path, want, got }, 'self-test: unexpected status');
    }
  }
  await new Promise((resolve) => server.close(resolve));
  log.info({ requests: SELF_TEST.length, problems }, 'self-test done');
  await ringlog.flush();
  process.stdout.write(`${SELF_TEST.length} requests, ${problems} problems\n`);
  process.exitCode = problems === 0 ? 0 : 1;
}

function serve(server) {
  const port = Number(process.env.PORT || 8080);
  server.listen(port, '127.0.0.1', () => log.info({ port }, 'serving'));
  const stop = (signal) => {
    log.info({ signal }, 'stopping');
    server.close(() => ringlog.flush().then(() => process.exit(0)));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const server = http.createServer(handle);
if (process.argv.includes('--self-test')) {
  selfTest(server).catch((err) => {
    log.fatal({ err }, 'self-test crashed');
    process.exitCode = 1;
  });
} else {
  serve(server);
}
