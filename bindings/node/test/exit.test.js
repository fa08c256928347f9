'use strict';
// Exit paths, each in a child process: every record is written, an
// uncaught exception is logged as FATAL with Node's exit code kept, and a
// SIGKILLed process's records are recovered by the next start.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { tmpdir, fileConfig, readRecords, runNode, fixture } = require('./helpers');

const N = 2000;

function run(mode, extra = {}, args = [String(N)]) {
  const dir = tmpdir();
  const out = path.join(dir, 'out.log');
  const cfg = fileConfig(dir, out, extra);
  const r = runNode(fixture('exit-child.js'), [mode, ...args], { RINGLOG_CONFIG: JSON.stringify(cfg) });
  return { ...r, dir, out, cfg, recs: readRecords(out) };
}

const records = (recs) => recs.filter((r) => r.msg === 'record');

test('a normal exit writes every record', () => {
  const r = run('normal');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(records(r.recs).length, N);
});

test('process.exit(3) writes every record and keeps the code', () => {
  const r = run('exit');
  assert.equal(r.status, 3, r.stderr);
  assert.equal(records(r.recs).length, N);
});

test('records logged from a later exit listener are written too', () => {
  const r = run('exit-listener');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(records(r.recs).length, N);
  assert.ok(r.recs.some((x) => x.msg === 'from an exit listener'));
});

test('an uncaught exception is logged as FATAL and the exit code stays 1', () => {
  const r = run('uncaught');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Error: kaboom/);
  assert.equal(records(r.recs).length, N);
  const fatal = r.recs.find((x) => x.level === 'fatal');
  assert.ok(fatal, 'no FATAL record');
  assert.equal(fatal.logger, 'process');
  assert.equal(fatal.msg, 'uncaught exception');
  assert.equal(fatal.origin, 'uncaughtException');
  assert.equal(fatal.err.type, 'Error');
  assert.equal(fatal.err.message, 'kaboom');
  assert.match(fatal.err.stack, /exit-child\.js/);
  assert.equal(r.recs[r.recs.length - 1], fatal);
});

test('an unhandled rejection is logged as FATAL and the exit code stays 1', () => {
  const r = run('rejection');
  assert.equal(r.status, 1);
  assert.equal(records(r.recs).length, N);
  const fatal = r.recs.find((x) => x.level === 'fatal');
  assert.equal(fatal.msg, 'unhandled rejection');
  assert.equal(fatal.origin, 'unhandledRejection');
  assert.equal(fatal.err.message, 'nope');
});

test('an exception the program handles is not logged as FATAL', () => {
  const r = run('handled');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.recs.filter((x) => x.level === 'fatal').length, 0);
  assert.equal(r.recs.find((x) => x.msg === 'handled it').err.message, 'caught by the program');
});

test('process.exit() while a worker logs leaves the worker records written', () => {
  const r = run('worker-then-exit');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.recs.filter((x) => x.msg === 'worker record').length, N);
});

test('a SIGKILLed process leaves its records for the next start to recover', () => {
  const dir = tmpdir();
  const before = path.join(dir, 'before.log');
  const after = path.join(dir, 'after.log');
  const rings = { ring_dir: path.join(dir, 'rings') };
  const quiet = { flush_interval_ms: 60000, idle_interval_ms: 60000 };
  const killed = runNode(fixture('exit-child.js'), ['sigkill', String(N)], {
    RINGLOG_CONFIG: JSON.stringify({ ...fileConfig(dir, before), ...rings, ...quiet }),
  });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const restarted = runNode(fixture('exit-child.js'), ['recover'], {
    RINGLOG_CONFIG: JSON.stringify({ ...fileConfig(dir, after), ...rings }),
  });
  assert.equal(restarted.status, 0, restarted.stderr);
  // The dead process's own output: whole lines only (it may have been
  // killed inside a write).
  const text = fs.existsSync(before) ? fs.readFileSync(before, 'utf8') : '';
  const whole = text.slice(0, text.lastIndexOf('\n') + 1);
  const written = whole ? whole.trim().split('\n').map((l) => JSON.parse(l)) : [];
  const recs = readRecords(after);
  const recovered = recs.filter((x) => x.msg === 'before the kill');
  // Every record exactly once across both outputs. A record written and
  // also recovered (killed between a write and the release of its ring
  // space) has the same ring and seq, and is counted once.
  const key = (x) => `${x.ring}/${x.seq}`;
  const writtenKeys = new Set(written.map(key));
  const seen = new Map();
  for (const x of [...written.filter((x) => x.msg === 'before the kill'), ...recovered]) {
    if (x.recovered && writtenKeys.has(key(x))) continue;
    seen.set(x.i, (seen.get(x.i) || 0) + 1);
  }
  for (let i = 0; i < N; i++) assert.equal(seen.get(i), 1, `record ${i}`);
  assert.ok(recovered.length > N / 2, `only ${recovered.length} recovered`);
  for (const x of recovered) {
    assert.equal(x.recovered, true);
    assert.equal(x.logger, 'child');
    assert.equal(x.req, 'r-1');
  }
  const note = recs.find((x) => x.msg === 'recovered records of a dead process');
  assert.equal(note.records, recovered.length);
  const startedAt = recs.findIndex((x) => x.msg === 'started again');
  assert.ok(startedAt > recs.lastIndexOf(recovered[recovered.length - 1]));
});
