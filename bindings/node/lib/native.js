'use strict';
// Loads the native addon that `npm install` built (scripts/build.js).

const path = require('path');

const file = path.join(__dirname, '..', 'ringlog.node');

let native;
try {
  native = require(file);
} catch (e) {
  const err = new Error(
    `ringlog: cannot load the native addon ${file} (${e.message}). ` +
      '`npm install` builds it from source with cargo (the Rust toolchain); ' +
      'run `npm run build` in the ringlog package to build it again.',
  );
  err.cause = e;
  throw err;
}

module.exports = native;
