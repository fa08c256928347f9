'use strict';
// Shared by the tests: temporary directories, a configuration that writes
// JSON lines to a file, reading them back, and running child processes.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const PKG = path.join(__dirname, '..');

/** A fresh temporary directory, removed when the process exits. */
function tmpdir(prefix = 'ringlog-node-test-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A configuration writing JSON lines to `out`, with its rings under `dir`. */
function fileConfig(dir, out, extra = {}) {
  return {
    ring_dir: path.join(dir, 'rings'),
    level: 'trace',
    sinks: { out: { type: 'file', path: out } },
    ...extra,
  };
}

/** Configures `ringlog` to write into a new file; returns its path. */
function configureToFile(ringlog, extra = {}) {
  const dir = tmpdir();
  const out = path.join(dir, 'out.log');
  ringlog.configure(fileConfig(dir, out, extra), { inherit: false });
  return out;
}

/** Every line of `file`, parsed as JSON (missing file: none). */
function readRecords(file) {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

/** Flushes, then returns the records in `file`. */
async function flushed(ringlog, file) {
  await ringlog.flush(10000);
  return readRecords(file);
}

/**
 * Runs `node <script> ...args` with `env` added to the environment;
 * returns {status, signal, stdout, stderr}.
 */
function runNode(script, args = [], env = {}, options = {}) {
  const r = spawnSync(process.execPath, [script, ...args], {
    env: { ...process.env, RINGLOG_CONFIG: '', ...env },
    encoding: 'utf8',
    timeout: 60000,
    ...options,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

const fixture = (name) => path.join(__dirname, 'fixtures', name);

module.exports = { PKG, tmpdir, fileConfig, configureToFile, readRecords, flushed, runNode, fixture };
