'use strict';
// The example service (examples/node) in its self-test mode: its JSON
// output must parse line by line and show each thing the example is for.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { tmpdir, readRecords, runNode } = require('./helpers');

const SERVER = path.join(__dirname, '..', '..', '..', 'examples', 'node', 'server.js');
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const EXPECTED = {
  'selftest-health': ['/health', 200],
  'selftest-traced': ['/items/sku-1', 200],
  'selftest-missing': ['/items/sku-9', 404],
  'selftest-fail': ['/fail', 500],
};

test('the example service passes its self-test and logs what it shows', () => {
  const dir = tmpdir();
  const out = path.join(dir, 'out.log');
  const r = runNode(SERVER, ['--self-test'], {
    RINGLOG_CONFIG: JSON.stringify({ ring_dir: path.join(dir, 'rings') }),
    RINGLOG_OUTPUT: out,
    RINGLOG_FORMAT: 'json',
    RINGLOG_LEVEL: 'debug',
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /5 requests, 0 problems/);
  const recs = readRecords(out);
  assert.ok(recs.every((x) => !x.recovered));

  const handled = recs.filter((x) => x.msg === 'request handled');
  assert.equal(handled.length, 5);
  const ids = new Set(handled.map((x) => x.request_id));
  assert.equal(ids.size, 5, 'request ids are not unique');
  for (const [id, [p, status]] of Object.entries(EXPECTED)) {
    const h = handled.find((x) => x.request_id === id);
    assert.equal(h.path, p);
    assert.equal(h.status, status);
    assert.equal(typeof h.latency_ms, 'number');
    assert.equal(h.method, 'GET');
  }

  // The traced request: every one of its records carries the context, the
  // inventory's records after an await included; no other record does.
  const traced = recs.filter((x) => x.trace_id === TRACE_ID);
  assert.deepEqual(
    traced.map((x) => x.msg),
    ['looking up item', 'lookup done', 'request handled'],
  );
  for (const x of traced) {
    assert.equal(x.span_id, '00f067aa0ba902b7');
    assert.equal(x.trace_flags, '01');
  }
  assert.equal(recs.filter((x) => x.trace_id !== undefined).length, traced.length);

  // The error path.
  const failed = recs.find((x) => x.msg === 'request failed');
  assert.equal(failed.level, 'error');
  assert.equal(failed.request_id, 'selftest-fail');
  assert.equal(failed.err.type, 'Error');
  assert.equal(failed.err.message, 'the inventory database is on fire');
  assert.match(failed.err.stack, /server\.js/);
  assert.equal(failed.err.cause.code, 'ECONNRESET');
  assert.ok(recs.some((x) => x.msg === 'no such item' && x.level === 'warn'));
});
