'use strict';
// The pino-shaped API: call shapes, Errors, children, levels, and the
// module functions, each checked in the JSON output.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const ringlog = require('..');
const { configureToFile, flushed, runNode, fixture, tmpdir, fileConfig, readRecords } = require('./helpers');

const byMsg = (recs, msg) => recs.find((r) => r.msg === msg);

test('an object and a message become fields and msg', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'api', level: 'info' });
  log.info({ userId: 42 }, 'login ok');
  const [r] = await flushed(ringlog, out);
  assert.equal(r.msg, 'login ok');
  assert.equal(r.userId, 42);
  assert.equal(r.level, 'info');
  assert.equal(r.logger, 'api');
  assert.match(r.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
});

test('a plain message, util.format arguments, and an object alone', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'api' });
  log.info('plain');
  log.info('user %s did %d things', 'ann', 3);
  log.info({ a: 1 }, 'with %s and %j', 'str', { j: 1 });
  log.info({ only: true });
  log.info('no placeholder', 'extra');
  log.info();
  const recs = await flushed(ringlog, out);
  assert.deepEqual(
    recs.map((r) => r.msg),
    ['plain', 'user ann did 3 things', 'with str and {"j":1}', '', 'no placeholder extra', ''],
  );
  assert.equal(recs[2].a, 1);
  assert.equal(recs[3].only, true);
});

test('every level method writes its level', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'lv', level: 'trace' });
  for (const m of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) log[m](m);
  const recs = await flushed(ringlog, out);
  assert.deepEqual(
    recs.map((r) => [r.msg, r.level]),
    ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((m) => [m, m]),
  );
});

test('log.error(err) writes an err object and takes the message from it', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'err' });
  const cause = new TypeError('bad input');
  const err = new RangeError('out of range', { cause });
  err.code = 'E_RANGE';
  log.error(err);
  log.error(err, 'with a message');
  log.error({ err, requestId: 'r1' }, 'as a field');
  const recs = await flushed(ringlog, out);
  const [a, b, c] = recs;
  assert.equal(a.msg, 'out of range');
  assert.equal(a.level, 'error');
  for (const r of [a, b, c]) {
    assert.equal(r.err.type, 'RangeError');
    assert.equal(r.err.message, 'out of range');
    assert.match(r.err.stack, /^RangeError: out of range\n\s+at /);
    assert.equal(r.err.code, 'E_RANGE');
    assert.equal(r.err.cause.type, 'TypeError');
    assert.equal(r.err.cause.message, 'bad input');
    assert.match(r.err.cause.stack, /TypeError: bad input/);
  }
  assert.equal(b.msg, 'with a message');
  assert.equal(c.msg, 'as a field');
  assert.equal(c.requestId, 'r1');
});

test('AggregateError lists its errors', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'agg' });
  log.error(new AggregateError([new Error('one'), new Error('two')], 'both failed'));
  const [r] = await flushed(ringlog, out);
  assert.equal(r.err.type, 'AggregateError');
  assert.deepEqual(
    r.err.errors.map((e) => e.message),
    ['one', 'two'],
  );
});

test('child bindings are written with every record, parent first', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'svc' });
  const req = log.child({ requestId: 'r-7' });
  const db = req.child({ table: 'users', nested: { deep: [1, 2] } });
  req.info({ step: 1 }, 'request');
  db.info('query');
  log.info('root');
  const recs = await flushed(ringlog, out);
  assert.equal(byMsg(recs, 'request').requestId, 'r-7');
  assert.equal(byMsg(recs, 'request').step, 1);
  const q = byMsg(recs, 'query');
  assert.deepEqual(Object.keys(q).slice(4, 7), ['requestId', 'table', 'nested']);
  assert.deepEqual(q.nested, { deep: [1, 2] });
  assert.equal(byMsg(recs, 'root').requestId, undefined);
  assert.deepEqual(db.bindings(), { requestId: 'r-7', table: 'users', nested: { deep: [1, 2] } });
  assert.equal(db.name, 'svc');
});

test('a field named like a reserved key is renamed, not lost', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'dup' }).child({ msg: 'bound' });
  log.info({ level: 'mine' }, 'real');
  const [r] = await flushed(ringlog, out);
  assert.equal(r.msg, 'real');
  assert.equal(r.level, 'info');
  assert.equal(r['msg#2'], 'bound');
  assert.equal(r['level#2'], 'mine');
});

test('levels: below the level is a no-op that reads nothing', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'quiet', level: 'warn' });
  let read = 0;
  const spy = {
    get x() {
      read++;
      return 1;
    },
  };
  log.info(spy, 'hidden');
  log.debug(spy, 'hidden');
  log.trace(spy, 'hidden');
  log.warn(spy, 'shown');
  const recs = await flushed(ringlog, out);
  assert.equal(read, 1);
  assert.deepEqual(
    recs.map((r) => r.msg),
    ['shown'],
  );
});

test('level get and set, levelVal, isLevelEnabled, silent', async () => {
  configureToFile(ringlog);
  const log = ringlog.logger({ name: 'lv2', level: 'info' });
  assert.equal(log.level, 'info');
  assert.equal(log.levelVal, 9);
  assert.equal(log.isLevelEnabled('debug'), false);
  assert.equal(log.isLevelEnabled('info'), true);
  assert.equal(log.isLevelEnabled(17), true);
  log.level = 'debug';
  assert.equal(log.level, 'debug');
  assert.equal(log.isLevelEnabled('debug'), true);
  log.level = 14;
  assert.equal(log.level, 'warn2');
  log.level = 'silent';
  assert.equal(log.isLevelEnabled('fatal'), false);
  assert.throws(() => {
    log.level = 'loud';
  }, RangeError);
  assert.throws(() => {
    log.level = 0;
  }, RangeError);
  assert.deepEqual(ringlog.levels.values, { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 });
  assert.equal(ringlog.levels.labels[13], 'warn');
});

test('a child keeps its own level; changing the parent later leaves it alone', async () => {
  const out = configureToFile(ringlog);
  const parent = ringlog.logger({ name: 'fam', level: 'info' });
  const loud = parent.child({ c: 'loud' }, { level: 'debug' });
  const same = parent.child({ c: 'same' });
  assert.equal(loud.level, 'debug');
  assert.equal(same.level, 'info');
  parent.level = 'error';
  assert.equal(same.level, 'info');
  loud.debug('loud debug');
  same.debug('same debug');
  same.info('same info');
  parent.info('parent info');
  parent.error('parent error');
  const recs = await flushed(ringlog, out);
  assert.deepEqual(
    recs.map((r) => r.msg),
    ['loud debug', 'same info', 'parent error'],
  );
});

test('without a level, a logger follows the configuration (level, levels, RINGLOG_LEVEL)', async () => {
  const dir = tmpdir();
  const out = path.join(dir, 'out.log');
  const log = ringlog.logger({ name: 'db.pool' });
  const other = ringlog.logger({ name: 'web' });
  const kid = log.child({ k: 1 });
  ringlog.configure(fileConfig(dir, out, { level: 'warn', levels: { db: 'debug' } }), { inherit: false });
  assert.equal(log.level, 'debug');
  assert.equal(kid.level, 'debug');
  assert.equal(other.level, 'warn');
  log.debug('db debug');
  other.info('web info');
  other.warn('web warn');
  const recs = await flushed(ringlog, out);
  assert.deepEqual(
    recs.map((r) => r.msg),
    ['db debug', 'web warn'],
  );
  const r = runNode(fixture('print-level.js'), [], { RINGLOG_LEVEL: 'error' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'error');
});

test('configure: JSON text, a bad key names it, inherit sets RINGLOG_CONFIG', async () => {
  const dir = tmpdir();
  const out = path.join(dir, 'out.log');
  const text = JSON.stringify(fileConfig(dir, out));
  ringlog.configure(text);
  assert.equal(process.env.RINGLOG_CONFIG, text);
  delete process.env.RINGLOG_CONFIG;
  ringlog.logger({ name: 'txt' }).info('from text');
  assert.equal((await flushed(ringlog, out))[0].msg, 'from text');
  assert.throws(() => ringlog.configure({ levle: 'debug' }), /levle/);
  assert.throws(() => ringlog.configure(42), TypeError);
  // The runtime that was running before the bad configuration still runs.
  ringlog.logger({ name: 'txt' }).info('still here');
  assert.equal((await flushed(ringlog, out))[1].msg, 'still here');
});

test('reconfigure changes levels at run time; explicit levels stay', async () => {
  const dir = tmpdir();
  const out = path.join(dir, 'out.log');
  ringlog.configure(fileConfig(dir, out, { level: 'info' }), { inherit: false });
  const log = ringlog.logger({ name: 'payments' });
  const kid = log.child({ req: 'r-1' });
  const pinned = ringlog.logger({ name: 'pinned', level: 'trace' });
  // A record shape sent twice goes through a call site.
  for (let i = 0; i < 3; i++) log.info({ n: i }, 'shaped');
  ringlog.reconfigure({ level: 'warn' });
  assert.equal(log.level, 'warn');
  assert.equal(kid.level, 'warn');
  assert.equal(pinned.level, 'trace');
  log.info({ n: 9 }, 'shaped');
  kid.info('hidden');
  pinned.debug('pinned debug');
  log.warn('kept');
  // JSON text; a per-prefix level reopens one logger and its children.
  ringlog.reconfigure('{"levels": {"payments": "debug"}}');
  assert.equal(kid.level, 'debug');
  kid.debug('child debug');
  ringlog.logger({ name: 'other' }).info('other hidden');
  // A sink's level applies as the flusher writes: flush what came before.
  await ringlog.flush();
  ringlog.reconfigure({ sinks: { out: { level: 'error' } } });
  log.warn('below the sink');
  log.error('at the sink');
  const recs = await flushed(ringlog, out);
  assert.deepEqual(
    recs.map((r) => r.msg),
    ['shaped', 'shaped', 'shaped', 'pinned debug', 'kept', 'child debug', 'at the sink'],
  );
  // What cannot change at run time, or is wrong, throws naming it, and
  // changes nothing.
  assert.throws(() => ringlog.reconfigure({ sinks: { nope: { level: 'info' } } }), /sinks\.nope/);
  assert.throws(() => ringlog.reconfigure({ ring_capacity: 65536 }), /ring_capacity/);
  assert.throws(() => ringlog.reconfigure({ level: 'loud' }), /level/);
  assert.throws(() => ringlog.reconfigure('not json'), /ringlog/);
  assert.throws(() => ringlog.reconfigure(42), TypeError);
  assert.equal(log.level, 'debug');
  ringlog.shutdown();
});

test('recover writes out a dead process\'s records on demand', async () => {
  const dir = tmpdir();
  const dead = path.join(dir, 'dead-rings');
  const N = 500;
  const quiet = { flush_interval_ms: 60000, idle_interval_ms: 60000 };
  const killed = runNode(fixture('exit-child.js'), ['sigkill', String(N)], {
    RINGLOG_CONFIG: JSON.stringify({ ...fileConfig(dir, path.join(dir, 'dead.log')), ring_dir: dead, ...quiet }),
  });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  // This process has its own ring directory: nothing is recovered when it
  // starts, only when asked.
  const out = path.join(dir, 'out.log');
  ringlog.configure(fileConfig(dir, out), { inherit: false });
  const report = ringlog.recover(dead);
  assert.equal(report.instances, 1);
  assert.equal(report.live, 0);
  assert.equal(report.badFrames, 0);
  assert.equal(report.badFiles, 0);
  assert.deepEqual(report.problems, []);
  const recs = (await flushed(ringlog, out)).filter((x) => x.msg === 'before the kill');
  assert.ok(recs.length > N / 2, `only ${recs.length} recovered`);
  assert.ok(recs.every((x) => x.recovered === true && x.req === 'r-1'));
  assert.equal(report.records, recs.length);
  // Removed once written: a second pass finds nothing.
  const again = ringlog.recover(dead);
  assert.equal(again.instances, 0);
  assert.equal(again.records, 0);
  assert.throws(() => ringlog.recover(''), /must not be empty/);
  assert.throws(() => ringlog.recover(42), TypeError);
  ringlog.shutdown();
});

test('flush returns a Promise; flushSync, stats and shutdown', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'ops' });
  for (let i = 0; i < 100; i++) log.info({ i }, 'n');
  const p = ringlog.flush();
  assert.ok(p instanceof Promise);
  await p;
  ringlog.flushSync(5000);
  const s = ringlog.stats();
  assert.equal(s.logged, 100);
  assert.equal(s.written, 100);
  assert.equal(typeof s.dropped_full, 'number');
  ringlog.shutdown();
  log.info('after shutdown');
  assert.equal(ringlog.stats().rejected_shutdown, 1);
  assert.equal(readRecords(out).length, 100);
  await ringlog.flush();
  assert.equal(typeof ringlog.version, 'string');
});

test('require and import give the same API', () => {
  const r = runNode(fixture('esm.mjs'));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'esm ok');
});

test('a panic in native code becomes a JS exception', () => {
  const native = require('../lib/native');
  assert.throws(() => native._panicForTest(), /panic in _panicForTest: a deliberate panic/);
});
