'use strict';
// index.d.ts: a TypeScript file using the API compiles against it, as
// CommonJS and as ESM. Runs when typescript is installed (it comes with the
// devDependency @napi-rs/cli).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { PKG, tmpdir, fixture } = require('./helpers');

const tsc = path.join(PKG, 'node_modules', 'typescript', 'bin', 'tsc');

for (const kind of ['commonjs', 'module']) {
  test(`index.d.ts types the API (${kind})`, { skip: !fs.existsSync(tsc) && 'typescript is not installed' }, () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(PKG, path.join(dir, 'node_modules', 'ringlog'), 'dir');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: kind }));
    fs.copyFileSync(fixture('types-check.ts'), path.join(dir, 'check.ts'));
    const r = spawnSync(
      process.execPath,
      [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', 'check.ts'],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
}
