'use strict';
// Call sites: a logger that sends the same shape of record twice (level,
// message, keys, value kinds) defines it as a site and then sends only the
// values. The output must not show which path a record took, so each test
// logs the same record several times and compares the lines, and checks
// the logger's site state to prove the site path was taken.

const test = require('node:test');
const assert = require('node:assert/strict');
const ringlog = require('..');
const { configureToFile, flushed } = require('./helpers');

/** A record without what differs between two records of the same content. */
function content(r) {
  const c = { ...r };
  delete c.ts;
  delete c.seq;
  return c;
}

/** How many sites `log` defined, and whether its last shape is one. */
function siteState(log) {
  const sh = log._sh;
  return { sites: sh === null ? 0 : sh.sites, lastIsSite: sh !== null && sh.last !== null && sh.last.site > 0 };
}

test('the third record of a shape goes through its site and reads like the first', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'sites', level: 'trace' });
  const rec = () => ({
    user: 'al\u00e9ice "q"\n\u2028 \ud83d\ude00 \ud800',
    status: 200,
    neg: -0,
    big: 9007199254740991,
    latency_ms: 12.5,
    nan: NaN,
    inf: -Infinity,
    ok: true,
    no: false,
    empty: '',
  });
  for (let i = 0; i < 4; i++) log.info(rec(), 'request handled');
  assert.deepEqual(siteState(log), { sites: 1, lastIsSite: true });
  const recs = await flushed(ringlog, out);
  assert.equal(recs.length, 4);
  for (const r of recs.slice(1)) assert.deepEqual(content(r), content(recs[0]));
  const r = recs[3];
  assert.equal(r.user, 'al\u00e9ice "q"\n\u2028 \ud83d\ude00 \ufffd');
  assert.equal(r.status, 200);
  assert.equal(r.neg, 0);
  assert.equal(r.big, 9007199254740991);
  assert.equal(r.latency_ms, 12.5);
  assert.equal(r.nan, 'NaN');
  assert.equal(r.inf, '-Infinity');
  assert.equal(r.ok, true);
  assert.equal(r.no, false);
  assert.equal(r.empty, '');
  assert.equal(r.msg, 'request handled');
});

test('a message alone and an empty object use a site with no keys', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'sites' });
  for (let i = 0; i < 3; i++) log.info('ready');
  for (let i = 0; i < 3; i++) log.info({}, 'ready');
  assert.equal(siteState(log).sites, 1);
  const recs = await flushed(ringlog, out);
  assert.equal(recs.length, 6);
  for (const r of recs) assert.deepEqual(content(r), content(recs[0]));
});

test('a record that leaves its shape part way is written keyed, whole', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'sites' });
  const msg = 'changing';
  log.info({ s: 'x\u00ff', n: 1, f: 0.5, b: true }, msg);
  log.info({ s: 'x\u00ff', n: 1, f: 0.5, b: true }, msg);
  assert.equal(siteState(log).sites, 1);
  // Each of these breaks the shape at a different field.
  const variants = [
    { s: 'y', n: 2, f: 1.5, b: false, extra: 'e' }, // one more field
    { s: 'y', n: 2, f: 1.5 }, // one fewer
    { s: 'y', n: 2.25, f: 1.5, b: false }, // an integer became a float
    { s: 'y', n: 2, f: 3, b: false }, // a float became an integer
    { s: 'y', n: 2, b: false, f: 1.5 }, // keys in another order
    { s: 'y', n: 2, f: 1.5, b: 'no' }, // a boolean became text
    { s: 'y', n: 2, f: 1.5, b: { nested: [1, 'two'] } }, // an object
    { s: 'y', n: 2, f: 1.5, b: null }, // null
    { s: 'y', n: 2, f: 1.5, b: 10n }, // a BigInt
    { s: 'y', n: 2, f: 1.5, b: undefined }, // left out, as JSON.stringify does
    { s: 7, n: 2, f: 1.5, b: false }, // the first field differs
  ];
  for (const v of variants) log.info(v, msg);
  // The shape's site is still used afterwards.
  log.info({ s: 'z', n: 3, f: 2.5, b: true }, msg);
  const recs = await flushed(ringlog, out);
  assert.equal(recs.length, 2 + variants.length + 1);
  const fields = (r) => {
    const c = content(r);
    for (const k of ['level', 'logger', 'msg', 'thread', 'ring']) delete c[k];
    return c;
  };
  const expect = (v) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? Number(x) : x)));
  variants.forEach((v, i) => {
    const r = recs[2 + i];
    assert.equal(r.msg, msg);
    assert.deepEqual(fields(r), expect(v), `variant ${i}`);
  });
  assert.deepEqual(fields(recs[recs.length - 1]), { s: 'z', n: 3, f: 2.5, b: true });
  assert.ok(siteState(log).sites >= 1);
});

test('levels and messages make separate shapes; each logger has its own', async () => {
  const out = configureToFile(ringlog);
  const a = ringlog.logger({ name: 'a', level: 'trace' });
  const b = a.child({ bound: 'yes' });
  for (let i = 0; i < 3; i++) {
    a.info({ i }, 'one');
    a.warn({ i }, 'one');
    a.info({ i }, 'two');
    b.info({ i }, 'one');
  }
  assert.equal(siteState(a).sites, 3);
  assert.equal(siteState(b).sites, 1);
  const recs = await flushed(ringlog, out);
  assert.equal(recs.length, 12);
  const pick = (logger, level, msg) =>
    recs.filter((r) => r.level === level && r.msg === msg && (r.bound === 'yes') === (logger === 'b'));
  for (const [lg, level, msg] of [
    ['a', 'info', 'one'],
    ['a', 'warn', 'one'],
    ['a', 'info', 'two'],
    ['b', 'info', 'one'],
  ]) {
    const rs = pick(lg, level, msg);
    assert.deepEqual(
      rs.map((r) => r.i),
      [0, 1, 2],
      `${lg} ${level} ${msg}`,
    );
  }
});

test('a logger defines at most 64 sites; the rest of its records are keyed and complete', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'many' });
  for (let round = 0; round < 3; round++) {
    for (let m = 0; m < 100; m++) log.info({ m, round }, `message ${m}`);
  }
  assert.equal(siteState(log).sites, 64);
  const recs = await flushed(ringlog, out);
  assert.equal(recs.length, 300);
  for (const r of recs) assert.equal(r.msg, `message ${r.m}`);
  const seen = new Set(recs.map((r) => `${r.m}/${r.round}`));
  assert.equal(seen.size, 300);
});

test('site records carry the trace context and the bound fields', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'ctx' }).child({ req: 'r-1' });
  const ids = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
  for (let i = 0; i < 3; i++) log.info({ i }, 'outside');
  ringlog.withTraceContext(ids, () => {
    for (let i = 0; i < 3; i++) log.info({ i }, 'outside');
  });
  assert.equal(siteState(log).sites, 1);
  const recs = await flushed(ringlog, out);
  assert.equal(recs.length, 6);
  for (const r of recs) assert.equal(r.req, 'r-1');
  assert.deepEqual(
    recs.map((r) => r.trace_id),
    [undefined, undefined, undefined, ids.traceId, ids.traceId, ids.traceId],
  );
  assert.equal(recs[5].span_id, ids.spanId);
});

test('getters that log or throw while a site record is written', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'getters' });
  let calls = 0;
  const make = (i) => ({
    a: 'first',
    get b() {
      calls++;
      log.warn({ inner: i }, 'from a getter');
      return 'b';
    },
    get c() {
      throw new Error(`no c ${i}`);
    },
  });
  for (let i = 0; i < 3; i++) log.info(make(i), 'outer');
  // Each getter ran once per record.
  assert.equal(calls, 3);
  assert.equal(siteState(log).sites, 2);
  const recs = await flushed(ringlog, out);
  const outer = recs.filter((r) => r.msg === 'outer');
  const inner = recs.filter((r) => r.msg === 'from a getter');
  assert.deepEqual(
    inner.map((r) => r.inner),
    [0, 1, 2],
  );
  outer.forEach((r, i) => {
    assert.deepEqual([r.a, r.b, r.c], ['first', 'b', `[Throws: no c ${i}]`]);
  });
});

test('an object that cannot be walked under a known shape is reported, not thrown', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'proxy' });
  for (let i = 0; i < 2; i++) log.info({ k: 'v' }, 'p');
  const bad = new Proxy(
    { k: 'v' },
    {
      ownKeys() {
        throw new Error('no keys');
      },
    },
  );
  log.info(bad, 'p');
  log.info({ k: 'w' }, 'p');
  const recs = await flushed(ringlog, out);
  assert.equal(recs.length, 4);
  assert.match(recs[2].ringlog_error, /the logged object could not be read: .*no keys/);
  assert.equal(recs[2].k, undefined);
  assert.equal(recs[3].k, 'w');
});

test('sites are made again for a new runtime', async () => {
  const first = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'again' });
  for (let i = 0; i < 3; i++) log.info({ i }, 'r');
  const a = await flushed(ringlog, first);
  ringlog.shutdown();
  const second = configureToFile(ringlog);
  for (let i = 3; i < 6; i++) log.info({ i }, 'r');
  const b = await flushed(ringlog, second);
  assert.deepEqual(
    a.map((r) => r.i),
    [0, 1, 2],
  );
  assert.deepEqual(
    b.map((r) => r.i),
    [3, 4, 5],
  );
  assert.equal(siteState(log).sites, 1);
  assert.equal(ringlog.stats().rejected_invalid, 0);
});

test('malformed site definitions are refused with 0, never thrown', () => {
  configureToFile(ringlog);
  const native = require('../lib/native');
  const log = ringlog.logger({ name: 'defs' });
  log.info('makes the slot');
  const slot = log._slot;
  const empty = [9, 0, 0, 0, 0, 0, 0, 0, 0]; // level 9, message "", no keys
  assert.ok(native.defineSite(slot, new Uint8Array(empty)) > 0);
  assert.equal(native.defineSite(0x7fffffff, new Uint8Array(empty)), 0, 'unknown logger');
  assert.equal(native.defineSite(slot, new Uint8Array([9, 0, 0])), 0, 'truncated');
  assert.equal(native.defineSite(slot, new Uint8Array([99, ...empty.slice(1)])), 0, 'bad level');
  assert.equal(native.defineSite(slot, new Uint8Array([...empty, 0])), 0, 'trailing byte');
  // One key of an unknown kind.
  const badKind = [9, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x6b, 77];
  assert.equal(native.defineSite(slot, new Uint8Array(badKind)), 0, 'unknown kind');
});

test('a logger whose messages are made per record stops looking for shapes for a while', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'formatted' });
  for (let i = 0; i < 1100; i++) log.info({ i }, `job ${i} done`);
  assert.ok(log._sh.pause > 0, 'paused');
  assert.equal(log._sh.sites, 0);
  // Paused, a repeated record is keyed, and still written whole.
  for (let i = 0; i < 3; i++) log.info({ i }, 'static');
  assert.equal(log._sh.sites, 0);
  const recs = await flushed(ringlog, out);
  assert.equal(recs.length, 1103);
  recs.slice(0, 1100).forEach((r, i) => assert.equal(r.msg, `job ${r.i} done`, `record ${i}`));
  assert.deepEqual(
    recs.slice(1100).map((r) => [r.msg, r.i]),
    [
      ['static', 0],
      ['static', 1],
      ['static', 2],
    ],
  );
  // A logger with mostly repeated records keeps its sites.
  const hot = ringlog.logger({ name: 'hot' });
  for (let i = 0; i < 3000; i++) {
    if (i % 3 === 0) hot.info(`one-off ${i}`);
    else hot.info({ i }, 'repeated');
  }
  assert.equal(hot._sh.pause, 0);
  assert.equal(hot._sh.sites, 1);
});

test('two shapes under one message: the first keeps its site, the other stays keyed', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'alternating' });
  for (let i = 0; i < 6; i++) {
    if (i < 2 || i % 2 === 0) log.info({ user: 'u', i }, 'login');
    else log.info({ user: 'u', ip: '10.0.0.1', i }, 'login');
  }
  assert.equal(log._sh.sites, 1);
  assert.equal(log._sh.last.keys.join(), 'user,i');
  const recs = await flushed(ringlog, out);
  assert.deepEqual(
    recs.map((r) => [r.i, r.ip]),
    [
      [0, undefined],
      [1, undefined],
      [2, undefined],
      [3, '10.0.0.1'],
      [4, undefined],
      [5, '10.0.0.1'],
    ],
  );
});
