#!/usr/bin/env node
'use strict';
// ringlog's Node binding side by side with pino (async and sync
// destinations), winston (JSON File transport) and bunyan (file stream).
//
// Every library logs the same record N times (default 1,000,000): message
// "request handled" with user "alice", status 200, latency_ms 12.5, at
// INFO, as one JSON line per record to its own file in a temporary
// directory. Each library runs in a fresh Node process (this script
// started again with --child), and the order rotates from round to round.
//
// Measured in the child:
// - caller ns/call: time of the loop of N calls / N (process.hrtime),
//   first call included;
// - end-to-end records/s: N / time from the first call until the library
//   says the output is in the file: ringlog.flush() resolved; pino's
//   destination flushed (async) or the loop returned (sync); winston's
//   File transport finished after logger.end(); bunyan's stream finished
//   after end(). "In the file" means handed to the kernel, not synced;
// - CPU ns/record: user + system CPU time of the process over the same
//   span, all threads (ringlog's flusher thread encodes and writes);
// - peak RSS: process.resourceUsage().maxRSS at the end.
//
// The parent then checks that each file has exactly N lines and that the
// first and last parse as JSON with the message and fields, and stops with
// an error otherwise (ringlog also has to report 0 dropped and N written).
// With --rounds R > 1 the table shows, per library, the round with the
// lowest caller ns/call, and the ratios to ringlog are printed for every
// round (both measured in the same round).
//
//   node run.js [--n N] [--rounds R] [--libs a,b,...] [--json]

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { once } = require('events');

const LIBS = ['ringlog', 'pino-async', 'pino-sync', 'winston', 'bunyan'];
const FIELDS = { user: 'alice', status: 200, latency_ms: 12.5 };
const MSG = 'request handled';

function parseArgs(argv) {
  const a = { n: 1000000, rounds: 1, libs: LIBS, json: false, child: null, out: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--n') a.n = Number(v());
    else if (k === '--rounds') a.rounds = Number(v());
    else if (k === '--libs') a.libs = v().split(',');
    else if (k === '--json') a.json = true;
    else if (k === '--child') a.child = v();
    else if (k === '--out') a.out = v();
    else if (k === '--ring-dir') a.ringDir = v();
    else throw new Error(`unknown argument ${k}`);
  }
  for (const l of a.libs) if (!LIBS.includes(l)) throw new Error(`unknown library ${l}`);
  return a;
}

// ------------------------------------------------------------------ children
// Each setup returns { log(i), done(): Promise } for one library.

function setupRingLog(out, ringDir) {
  const ringlog = require('ringlog');
  // A 16 MiB ring and `block`, so a full ring makes the caller wait for
  // the flusher instead of dropping (the other libraries never drop).
  ringlog.configure(
    {
      ring_dir: ringDir,
      ring_capacity: 16 << 20,
      full_policy: 'block',
      block_timeout_ms: 60000,
      sinks: { file: { type: 'file', path: out } },
    },
    { inherit: false },
  );
  const log = ringlog.logger({ name: 'bench', level: 'info' });
  return {
    log: () => log.info({ user: 'alice', status: 200, latency_ms: 12.5 }, 'request handled'),
    done: () => ringlog.flush(120000),
    check: () => {
      const s = ringlog.stats();
      return { dropped: s.dropped_full, written: s.written };
    },
  };
}

function setupPino(out, sync) {
  const pino = require('pino');
  const dest = pino.destination({ dest: out, sync });
  const log = pino({ level: 'info' }, dest);
  return {
    log: () => log.info({ user: 'alice', status: 200, latency_ms: 12.5 }, 'request handled'),
    done: () =>
      sync
        ? Promise.resolve()
        : new Promise((resolve, reject) => dest.flush((err) => (err ? reject(err) : resolve()))),
  };
}

function setupWinston(out) {
  const winston = require('winston');
  const file = new winston.transports.File({ filename: out });
  const log = winston.createLogger({
    level: 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [file],
  });
  return {
    log: () => log.info('request handled', { user: 'alice', status: 200, latency_ms: 12.5 }),
    done: async () => {
      const finished = once(file, 'finish');
      log.end();
      await finished;
    },
  };
}

function setupBunyan(out) {
  const bunyan = require('bunyan');
  const stream = fs.createWriteStream(out, { flags: 'a' });
  const log = bunyan.createLogger({ name: 'bench', level: 'info', streams: [{ stream }] });
  return {
    log: () => log.info({ user: 'alice', status: 200, latency_ms: 12.5 }, 'request handled'),
    done: async () => {
      const finished = once(stream, 'finish');
      stream.end();
      await finished;
    },
  };
}

async function child(a) {
  let lib;
  switch (a.child) {
    case 'ringlog':
      lib = setupRingLog(a.out, a.ringDir);
      break;
    case 'pino-async':
      lib = setupPino(a.out, false);
      break;
    case 'pino-sync':
      lib = setupPino(a.out, true);
      break;
    case 'winston':
      lib = setupWinston(a.out);
      break;
    case 'bunyan':
      lib = setupBunyan(a.out);
      break;
    default:
      throw new Error(a.child);
  }
  const n = a.n;
  const log = lib.log;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) log(i);
  const t1 = process.hrtime.bigint();
  await lib.done();
  const t2 = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpu0);
  const res = {
    lib: a.child,
    n,
    caller_ns: Number(t1 - t0) / n,
    e2e_rps: n / (Number(t2 - t0) / 1e9),
    cpu_ns: ((cpu.user + cpu.system) * 1000) / n,
    rss_mb: process.resourceUsage().maxRSS / 1024,
    ...(lib.check ? lib.check() : {}),
  };
  process.stdout.write(`${JSON.stringify(res)}\n`);
}

// -------------------------------------------------------------------- parent

function countLines(file) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  let n = 0;
  let last = -1;
  let bytes;
  while ((bytes = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
    for (let i = 0; i < bytes; i++) {
      if (buf[i] === 10) n++;
    }
    last = buf[bytes - 1];
  }
  fs.closeSync(fd);
  return { lines: n, endsWithNewline: last === 10 };
}

function firstAndLast(file) {
  const size = fs.statSync(file).size;
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(Math.min(size, 4096));
  fs.readSync(fd, head, 0, head.length, 0);
  const tail = Buffer.alloc(Math.min(size, 4096));
  fs.readSync(fd, tail, 0, tail.length, size - tail.length);
  fs.closeSync(fd);
  const first = head.toString('utf8').split('\n')[0];
  const lines = tail.toString('utf8').split('\n');
  return [JSON.parse(first), JSON.parse(lines[lines.length - 2])];
}

function checkRecord(lib, r) {
  const msg = r.msg !== undefined ? r.msg : r.message;
  for (const [k, v] of Object.entries(FIELDS)) {
    if (r[k] !== v) throw new Error(`${lib}: field ${k} is ${JSON.stringify(r[k])}`);
  }
  if (msg !== MSG) throw new Error(`${lib}: message is ${JSON.stringify(msg)}`);
}

function runChild(lib, n, dir) {
  const out = path.join(dir, `${lib}.log`);
  const ringDir = path.join(dir, 'rings');
  const r = spawnSync(
    process.execPath,
    [__filename, '--child', lib, '--n', String(n), '--out', out, '--ring-dir', ringDir],
    { encoding: 'utf8', env: { ...process.env, RINGLOG_CONFIG: '' }, maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) throw new Error(`${lib} failed (${r.status}):\n${r.stderr}`);
  const res = JSON.parse(r.stdout.trim().split('\n').pop());
  const { lines, endsWithNewline } = countLines(out);
  if (lines !== n || !endsWithNewline) throw new Error(`${lib}: ${lines} lines, expected ${n}`);
  const [first, last] = firstAndLast(out);
  checkRecord(lib, first);
  checkRecord(lib, last);
  if (lib === 'ringlog' && (res.dropped !== 0 || res.written !== n)) {
    throw new Error(`ringlog: dropped ${res.dropped}, written ${res.written}`);
  }
  res.lines = lines;
  fs.rmSync(out, { force: true });
  return res;
}

function fmt(x, digits = 0) {
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(best) {
  const rl = best.ringlog;
  const rows = [
    '| library | caller ns/call | vs ringlog | end-to-end records/s | vs ringlog | CPU ns/record | peak RSS MiB | lines |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const lib of LIBS) {
    const r = best[lib];
    if (!r) continue;
    const callerRatio = rl ? `${fmt(r.caller_ns / rl.caller_ns, 2)}x` : '';
    const e2eRatio = rl ? `${fmt(r.e2e_rps / rl.e2e_rps, 2)}x` : '';
    rows.push(
      `| ${lib} | ${fmt(r.caller_ns)} | ${callerRatio} | ${fmt(r.e2e_rps)} | ${e2eRatio} | ${fmt(r.cpu_ns)} | ${fmt(r.rss_mb, 1)} | ${fmt(r.lines)} |`,
    );
  }
  return rows.join('\n');
}

function parent(a) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringlog-compare-node-'));
  const best = {};
  const rounds = [];
  try {
    for (let round = 0; round < a.rounds; round++) {
      const order = a.libs.slice(round % a.libs.length).concat(a.libs.slice(0, round % a.libs.length));
      const results = {};
      for (const lib of order) {
        const r = runChild(lib, a.n, dir);
        results[lib] = r;
        if (!best[lib] || r.caller_ns < best[lib].caller_ns) best[lib] = r;
        process.stderr.write(
          `round ${round + 1} ${lib}: ${fmt(r.caller_ns)} ns/call, ${fmt(r.e2e_rps)} records/s, ${fmt(r.rss_mb, 1)} MiB\n`,
        );
      }
      rounds.push(results);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (a.json) {
    process.stdout.write(`${JSON.stringify({ best, rounds }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0].model}), N = ${fmt(a.n)}, rounds = ${a.rounds}\n\n`,
  );
  process.stdout.write(`${table(best)}\n`);
  if (best.ringlog) {
    process.stdout.write('\nper round, other library / ringlog (caller ns/call; end-to-end records/s):\n');
    for (const [i, res] of rounds.entries()) {
      const parts = [];
      for (const lib of LIBS) {
        if (lib === 'ringlog' || !res[lib] || !res.ringlog) continue;
        parts.push(
          `${lib} ${fmt(res[lib].caller_ns / res.ringlog.caller_ns, 2)}x; ${fmt(res[lib].e2e_rps / res.ringlog.e2e_rps, 2)}x`,
        );
      }
      process.stdout.write(`  round ${i + 1}: ${parts.join(' | ')}\n`);
    }
  }
}

const args = parseArgs(process.argv.slice(2));
if (args.child) {
  child(args).catch((e) => {
    process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  });
} else {
  parent(args);
}
