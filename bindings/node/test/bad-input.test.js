'use strict';
// Bad input never crashes or throws: circular objects, throwing getters,
// Proxies, huge strings, lone surrogates, logging after shutdown.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const ringlog = require('..');
const { configureToFile, flushed } = require('./helpers');

test('circular references become "[Circular]"', async () => {
  const out = configureToFile(ringlog);
  const a = { name: 'a' };
  const b = { name: 'b', a };
  a.b = b;
  a.self = a;
  const arr = [1];
  arr.push(arr);
  const shared = { s: 1 };
  ringlog.logger({ name: 'bad' }).info({ a, arr, twice: [shared, shared] }, 'circular');
  const [r] = await flushed(ringlog, out);
  assert.deepEqual(r.a, { name: 'a', b: { name: 'b', a: '[Circular]' }, self: '[Circular]' });
  assert.deepEqual(r.arr, [1, '[Circular]']);
  // Not a cycle: the same object twice side by side.
  assert.deepEqual(r.twice, [{ s: 1 }, { s: 1 }]);
});

test('a circular Error cause and a circular child binding', async () => {
  const out = configureToFile(ringlog);
  const e = new Error('loop');
  e.cause = e;
  const bind = { k: 1 };
  bind.me = bind;
  ringlog.logger({ name: 'bad' }).child(bind).error(e);
  const [r] = await flushed(ringlog, out);
  assert.equal(r.err.cause, '[Circular]');
  assert.equal(r.me, '[Circular]');
});

test('throwing getters, toJSON and Proxy traps are written as "[Throws: …]"', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'bad' });
  const proxy = new Proxy(
    {},
    {
      ownKeys() {
        throw new Error('no keys');
      },
    },
  );
  const errProxy = new Proxy(new Error('x'), {
    get() {
      throw new Error('no props');
    },
  });
  log.info(
    {
      ok: 1,
      get bad() {
        throw new Error('getter failed');
      },
      nested: {
        get worse() {
          throw 'a string';
        },
      },
      j: {
        toJSON() {
          throw new Error('toJSON failed');
        },
      },
      proxy,
      errProxy,
      arr: new Proxy([1, 2], {
        get(t, k) {
          if (k === '1') throw new Error('index');
          return Reflect.get(t, k);
        },
      }),
    },
    'getters',
  );
  log.info(proxy, 'proxy at the top');
  const recs = await flushed(ringlog, out);
  const r = recs[0];
  assert.equal(r.ok, 1);
  assert.equal(r.bad, '[Throws: getter failed]');
  assert.equal(r.nested.worse, '[Throws: a string]');
  assert.equal(r.j, '[Throws: toJSON failed]');
  assert.equal(r.proxy, '[Throws: no keys]');
  assert.equal(r.errProxy.message, '[Throws: no props]');
  assert.deepEqual(r.arr, [1, '[Throws: index]']);
  assert.match(recs[1].ringlog_error, /no keys/);
  assert.equal(recs[1].msg, 'proxy at the top');
});

test('a getter that logs while its record is being written', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'bad' });
  log.info(
    {
      before: 'b',
      get reentrant() {
        log.warn({ inner: true, big: 'y'.repeat(200000) }, 'logged from a getter');
        return 'r';
      },
      after: 'a',
    },
    'outer',
  );
  const recs = await flushed(ringlog, out);
  const outer = recs.find((r) => r.msg === 'outer');
  const inner = recs.find((r) => r.msg === 'logged from a getter');
  assert.deepEqual([outer.before, outer.reentrant, outer.after], ['b', 'r', 'a']);
  assert.equal(inner.inner, true);
  assert.equal(inner.big.length, 200000);
});

test('lone surrogates are replaced by U+FFFD, in keys, values and messages', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'bad' });
  const lone = 'a\ud800b\udc00c\ud83d';
  log.info({ [lone]: lone, long: lone.repeat(100), pair: '\ud83d\ude00' }, lone);
  await ringlog.flush();
  const text = fs.readFileSync(out, 'utf8');
  assert.ok(Buffer.from(text, 'utf8').toString('utf8') === text);
  const [r] = JSON.parse(`[${text.trim()}]`);
  const fixed = 'a\ufffdb\ufffdc\ufffd';
  assert.equal(r.msg, fixed);
  assert.equal(r[fixed], fixed);
  assert.equal(r.long, fixed.repeat(100));
  assert.equal(r.pair, '😀');
});

test('huge strings: written when the ring is big enough, refused and counted when not', async () => {
  const huge = 'h'.repeat(10 * 1024 * 1024);
  let out = configureToFile(ringlog, { ring_capacity: 64 * 1024 * 1024 });
  const log = ringlog.logger({ name: 'bad' });
  log.info({ huge }, 'fits');
  log.info(huge);
  let recs = await flushed(ringlog, out);
  assert.equal(recs[0].huge.length, huge.length);
  assert.equal(recs[1].msg.length, huge.length);
  out = configureToFile(ringlog);
  log.info({ huge }, 'too large for a 1 MiB ring');
  log.info('still works');
  recs = await flushed(ringlog, out);
  assert.deepEqual(
    recs.map((r) => r.msg),
    ['still works'],
  );
  assert.equal(ringlog.stats().rejected_too_large, 1);
});

test('logging after shutdown is refused and counted, never thrown', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'bad' });
  log.info('before');
  ringlog.shutdown();
  ringlog.shutdown();
  for (let i = 0; i < 10; i++) log.info({ i }, 'after');
  log.child({ c: 1 }).error(new Error('after'));
  assert.equal(ringlog.stats().rejected_shutdown, 11);
  await ringlog.flush();
  ringlog.flushSync();
  const recs = await flushed(ringlog, out);
  assert.deepEqual(
    recs.map((r) => r.msg),
    ['before'],
  );
  // configure starts again, and the same loggers log into it.
  const out2 = configureToFile(ringlog);
  log.info('again');
  assert.equal((await flushed(ringlog, out2))[0].msg, 'again');
});

test('bad arguments to the API throw plain TypeErrors and RangeErrors', () => {
  assert.throws(() => ringlog.logger(5), TypeError);
  assert.throws(() => ringlog.logger({ level: 'nope' }), RangeError);
  assert.throws(() => ringlog.logger().child('x'), TypeError);
  assert.throws(() => ringlog.flushSync(-1), /timeout/);
  assert.throws(() => ringlog.flushSync(NaN), /timeout/);
});

test('many keys, many fields and odd keys', async () => {
  const out = configureToFile(ringlog);
  const wide = {};
  for (let i = 0; i < 2000; i++) wide[`k${i}`] = i;
  const log = ringlog.logger({ name: 'bad' });
  log.info(wide, 'wide');
  log.info({ '': 'empty key', 'with "quotes"': 1, 'new\nline': 2 }, 'odd');
  log.info({ arr: new Array(20000).fill(7) }, 'long array');
  const recs = await flushed(ringlog, out);
  assert.equal(Object.keys(recs[0]).filter((k) => k.startsWith('k')).length, 2000);
  assert.equal(recs[1][''], 'empty key');
  assert.equal(recs[1]['with "quotes"'], 1);
  assert.equal(recs[1]['new\nline'], 2);
  assert.equal(recs[2].arr.length, 20000);
});
