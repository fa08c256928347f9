#!/usr/bin/env node
'use strict';
// Builds the native addon from source: `cargo build --release --locked`
// in this package (its own Cargo workspace, with the ringlog core as a
// path dependency), then copies the library to `ringlog.node`.
//
// `npm install` runs it (the `install` script), in this directory and
// when the package is installed into another project. Environment:
//   CARGO                 the cargo to run (default: `cargo` on PATH, then
//                         ~/.cargo/bin/cargo)
//   RINGLOG_NODE_PROFILE  `release` (default) or `debug`

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const profile = process.env.RINGLOG_NODE_PROFILE === 'debug' ? 'debug' : 'release';

function findCargo() {
  if (process.env.CARGO) return process.env.CARGO;
  const probe = spawnSync('cargo', ['--version'], { stdio: 'ignore' });
  if (probe.status === 0) return 'cargo';
  const home = path.join(os.homedir(), '.cargo', 'bin', 'cargo');
  if (fs.existsSync(home)) return home;
  return null;
}

function fail(msg) {
  process.stderr.write(`ringlog: ${msg}\n`);
  process.exit(1);
}

const cargo = findCargo();
if (!cargo) {
  fail(
    'building the native addon needs cargo (the Rust toolchain, 1.82 or later); ' +
      'install it (e.g. `apt-get install cargo`, or rustup) and run `npm install` again',
  );
}

const args = ['build', '--locked', '--message-format=json-render-diagnostics'];
if (profile === 'release') args.push('--release');
process.stderr.write(`ringlog: building the native addon (cargo ${args.join(' ')})\n`);
const r = spawnSync(cargo, args, {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 256 * 1024 * 1024,
  encoding: 'utf8',
});
if (r.error) fail(`could not run ${cargo}: ${r.error.message}`);
if (r.status !== 0) fail(`cargo build failed (exit code ${r.status})`);

let lib = null;
for (const line of r.stdout.split('\n')) {
  if (!line.startsWith('{')) continue;
  let m;
  try {
    m = JSON.parse(line);
  } catch {
    continue;
  }
  if (m.reason === 'compiler-artifact' && m.target && m.target.name === 'ringlog_node') {
    lib = (m.filenames || []).find((f) => /\.(so|dylib|dll)$/.test(f)) || lib;
  }
}
if (!lib) fail('cargo reported no library for ringlog_node');

// Copied under a temporary name and renamed, so a running process that
// has the old addon loaded keeps a consistent file.
const dest = path.join(root, 'ringlog.node');
const tmp = `${dest}.${process.pid}.tmp`;
fs.copyFileSync(lib, tmp);
fs.renameSync(tmp, dest);
process.stderr.write(`ringlog: built ${path.relative(process.cwd(), dest) || dest} (${profile})\n`);
