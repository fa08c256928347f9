'use strict';
// Trace context through AsyncLocalStorage: across await, timers, nested
// and concurrent contexts.

const test = require('node:test');
const assert = require('node:assert/strict');
const { setTimeout: sleep } = require('timers/promises');
const ringlog = require('..');
const { configureToFile, flushed } = require('./helpers');

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TP2 = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';

test('records inside withTraceContext carry the context across await and timers', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'ctx' });
  log.info('before');
  const ret = await ringlog.withTraceContext(TP, async () => {
    log.info('sync part');
    await sleep(5);
    log.info('after await');
    await new Promise((resolve) =>
      setTimeout(() => {
        log.info('in timer');
        setImmediate(() => {
          log.info('in immediate');
          resolve();
        });
      }, 5),
    );
    await Promise.resolve().then(() => log.info('in then'));
    return 'result';
  });
  assert.equal(ret, 'result');
  log.info('after');
  const recs = await flushed(ringlog, out);
  const inside = recs.filter((r) => !['before', 'after'].includes(r.msg));
  assert.equal(inside.length, 5);
  for (const r of inside) {
    assert.equal(r.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736', r.msg);
    assert.equal(r.span_id, '00f067aa0ba902b7');
    assert.equal(r.trace_flags, '01');
  }
  for (const r of recs.filter((r) => ['before', 'after'].includes(r.msg))) {
    assert.equal(r.trace_id, undefined);
  }
});

test('concurrent requests keep their own contexts; nested contexts win inside', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'ctx' });
  const task = (tp, name, delay) =>
    ringlog.withTraceContext(tp, async () => {
      await sleep(delay);
      log.info(`${name} 1`);
      await sleep(delay);
      log.info(`${name} 2`);
    });
  await Promise.all([task(TP, 'a', 3), task(TP2, 'b', 2)]);
  ringlog.withTraceContext(TP, () => {
    ringlog.withTraceContext(TP2, () => log.info('inner'));
    log.info('outer');
  });
  const recs = await flushed(ringlog, out);
  const tid = (m) => recs.find((r) => r.msg === m).trace_id;
  assert.equal(tid('a 1'), '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(tid('a 2'), '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(tid('b 1'), '0af7651916cd43dd8448eb211c80319c');
  assert.equal(tid('b 2'), '0af7651916cd43dd8448eb211c80319c');
  assert.equal(tid('inner'), '0af7651916cd43dd8448eb211c80319c');
  assert.equal(tid('outer'), '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(recs.find((r) => r.msg === 'b 1').trace_flags, '00');
});

test('a context given as ids, currentTraceContext, child loggers', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'ctx' }).child({ req: 1 });
  ringlog.withTraceContext(
    { traceId: '4BF92F3577B34DA6A3CE929D0E0E4736', spanId: '00f067aa0ba902b7', traceFlags: 1 },
    () => {
      const c = ringlog.currentTraceContext();
      assert.deepEqual(c, {
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        traceFlags: 1,
        traceparent: TP,
      });
      log.warn('child in ctx');
    },
  );
  assert.equal(ringlog.currentTraceContext(), undefined);
  const [r] = await flushed(ringlog, out);
  assert.equal(r.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(r.req, 1);
});

test('a malformed traceparent runs the function without a context', async () => {
  const out = configureToFile(ringlog);
  const log = ringlog.logger({ name: 'ctx' });
  for (const bad of ['garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '', 42, {}]) {
    ringlog.withTraceContext(TP, () => {
      ringlog.withTraceContext(bad, () => {
        assert.equal(ringlog.currentTraceContext(), undefined);
        log.info('bad');
      });
    });
  }
  const recs = await flushed(ringlog, out);
  assert.equal(recs.length, 5);
  for (const r of recs) assert.equal(r.trace_id, undefined);
  assert.throws(() => ringlog.withTraceContext(TP, 'not a function'), TypeError);
  assert.equal(
    ringlog.withTraceContext(TP, (a, b) => a + b, 2, 3),
    5,
  );
});
