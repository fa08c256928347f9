'use strict';
// worker_threads: each worker logs through its own ring, and every record
// arrives, however the worker ends.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Worker } = require('worker_threads');
const { once } = require('events');
const ringlog = require('..');
const { configureToFile, flushed, fixture } = require('./helpers');

function start(id, count, end) {
  return new Worker(fixture('worker.js'), { workerData: { id, count, end } });
}

test('workers log through their own rings and every record arrives', async () => {
  const out = configureToFile(ringlog);
  const main = ringlog.logger({ name: 'main' });
  const N = 4;
  const COUNT = 5000;
  const workers = [];
  for (let w = 0; w < N; w++) workers.push(start(w, COUNT, 'normal'));
  for (let i = 0; i < 100; i++) main.info({ i }, 'from main');
  await Promise.all(workers.map((w) => once(w, 'exit')));
  const recs = await flushed(ringlog, out);
  const fromWorkers = recs.filter((r) => r.msg === 'from worker');
  assert.equal(fromWorkers.length, N * COUNT);
  assert.equal(recs.filter((r) => r.msg === 'from main').length, 100);
  const rings = new Map();
  for (const r of fromWorkers) {
    assert.deepEqual(r.payload, { id: r.worker, i: r.i });
    if (!rings.has(r.worker)) rings.set(r.worker, new Set());
    rings.get(r.worker).add(`${r.thread}/${r.ring}`);
  }
  // One ring per worker, none shared with another worker or the main thread.
  const all = new Set();
  for (const [, set] of rings) {
    assert.equal(set.size, 1);
    all.add([...set][0]);
  }
  const mainRing = recs.find((r) => r.msg === 'from main');
  all.add(`${mainRing.thread}/${mainRing.ring}`);
  assert.equal(all.size, N + 1);
  // Each worker's records in order, with no gap.
  for (let w = 0; w < N; w++) {
    const is = fromWorkers.filter((r) => r.worker === w).map((r) => r.i);
    assert.deepEqual(is, [...Array(COUNT).keys()]);
  }
  assert.equal(ringlog.stats().dropped_full, 0);
});

test('a worker ended by process.exit() or terminate() leaves every record written', async () => {
  const out = configureToFile(ringlog);
  const exiting = start(10, 3000, 'exit');
  const exited = once(exiting, 'exit');
  const waiting = start(11, 3000, 'wait');
  await once(waiting, 'message');
  await waiting.terminate();
  await exited;
  const recs = await flushed(ringlog, out);
  assert.equal(recs.filter((r) => r.worker === 10).length, 3000);
  assert.equal(recs.filter((r) => r.worker === 11).length, 3000);
});

/**
 * A worker with a logger called `name` that logs 'info' and 'debug' each
 * time it is sent 'log'; `log()` resolves once it did, `stop()` once the
 * worker exited.
 */
async function levelWorker(name) {
  const w = new Worker(
    `
    const { parentPort } = require('worker_threads');
    const ringlog = require(${JSON.stringify(require.resolve('..'))});
    const log = ringlog.logger({ name: ${JSON.stringify(name)} });
    parentPort.on('message', (m) => {
      if (m === 'log') { log.info('info'); log.debug('debug'); parentPort.postMessage('done'); }
      else process.exit(0);
    });
    parentPort.postMessage('ready');
    `,
    { eval: true },
  );
  await once(w, 'message');
  return {
    async log() {
      w.postMessage('log');
      await once(w, 'message');
    },
    async stop() {
      w.postMessage('stop');
      await once(w, 'exit');
    },
  };
}

test('configure in the main thread reaches loggers a worker made before', async () => {
  const out = configureToFile(ringlog, { level: 'info' });
  const w = await levelWorker('late');
  await w.log();
  const out2 = configureToFile(ringlog, { level: 'debug' });
  await w.log();
  await w.log();
  await w.stop();
  assert.deepEqual(
    (await flushed(ringlog, out)).map((r) => r.msg),
    ['info'],
  );
  // The first record after the change tells the worker; from then on its
  // loggers follow the new default level.
  assert.deepEqual(
    (await flushed(ringlog, out2)).map((r) => r.msg),
    ['info', 'debug', 'info', 'debug'],
  );
});

test('reconfigure in the main thread reaches a worker from its next record', async () => {
  const out = configureToFile(ringlog, { level: 'info' });
  const w = await levelWorker('w');
  await w.log();
  ringlog.reconfigure({ level: 'debug' });
  await w.log();
  ringlog.reconfigure({ level: 'warn' });
  await w.log();
  await w.log();
  await w.stop();
  // The info record after each change is written under the old level and
  // tells the worker; the debug record right after follows the new one.
  assert.deepEqual(
    (await flushed(ringlog, out)).map((r) => r.msg),
    ['info', 'info', 'debug', 'info'],
  );
});
