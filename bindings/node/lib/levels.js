'use strict';
// Level names and numbers: OpenTelemetry severity numbers 1..24, as the
// core has them (trace 1, debug 5, info 9, warn 13, error 17, fatal 21,
// with `info2` .. `info4` and so on in between), and `silent` (25), above
// every level.

const SILENT = 25;

const values = Object.freeze({
  trace: 1,
  debug: 5,
  info: 9,
  warn: 13,
  error: 17,
  fatal: 21,
});

const BANDS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** Name of every number 1..25 (`info`, `info2`, ..., `silent`). */
const NAMES = ['unspecified'];
for (const b of BANDS) {
  NAMES.push(b, `${b}2`, `${b}3`, `${b}4`);
}
NAMES.push('silent');

const labels = Object.freeze(Object.fromEntries(NAMES.slice(1, 25).map((n, i) => [i + 1, n])));

const ALIASES = { warning: 'warn', critical: 'fatal', off: 'silent' };

/**
 * The severity number of a level given by name (`'info'`, `'warn3'`,
 * `'silent'`, case-insensitive) or number (1..24, or 25 for silent).
 * Throws a RangeError or TypeError for anything else.
 */
function toNumber(level) {
  if (typeof level === 'number') {
    if (Number.isInteger(level) && level >= 1 && level <= SILENT) return level;
    throw new RangeError(`ringlog: level number ${level} is outside 1..24 (25: silent)`);
  }
  if (typeof level === 'string') {
    let s = level.trim().toLowerCase();
    if (/^\d+$/.test(s)) return toNumber(Number(s));
    const m = /^([a-z]+)([234]?)$/.exec(s);
    if (m) {
      const base = ALIASES[m[1]] || m[1];
      if (base === 'silent' && m[2] === '') return SILENT;
      const i = BANDS.indexOf(base);
      if (i >= 0) return 1 + 4 * i + (m[2] === '' ? 0 : Number(m[2]) - 1);
    }
    throw new RangeError(
      `ringlog: unknown level ${JSON.stringify(level)}: expected trace, debug, info, warn, error, fatal, silent or 1..24`,
    );
  }
  throw new TypeError('ringlog: a level is a name such as "info" or a severity number 1..24');
}

/** The name of a severity number (`'info'`, `'info2'`, `'silent'`). */
function toName(n) {
  return NAMES[n] || 'silent';
}

module.exports = { SILENT, values, labels, toNumber, toName };
