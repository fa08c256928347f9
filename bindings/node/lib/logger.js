'use strict';
// The pino-shaped Logger.
//
// A level method first compares the level with a number cached on the
// logger, so a call below the level returns before it looks at its
// arguments or crosses into native code. The cached number is checked
// against `epoch`, which moves when the runtime is configured (here or,
// as the addon reports, in another thread): a logger that never set a
// level then takes its default from the configuration again.
//
// A logger's native slot (name, bound fields, core logger) is made on its
// first record, so a child made per request that logs nothing costs no
// native call; a FinalizationRegistry frees the slot when the logger is
// garbage-collected.

const util = require('util');
const native = require('./native');
const levels = require('./levels');
const encode = require('./encode');

const { send, encodeFields, Shapes } = encode;

/** Moves when the default levels may have changed. */
let epoch = 1;
/** Default level by logger name, for the current epoch. */
let defaults = new Map();

function bumpEpoch() {
  epoch++;
  defaults = new Map();
}

function defaultLevel(name) {
  let l = defaults.get(name);
  if (l === undefined) {
    l = native.levelFor(name);
    defaults.set(name, l);
  }
  return l;
}

let warnedNoRuntime = false;
let warnedInternal = false;

encode.setOnEmit((status, _generation, err) => {
  // A new generation: the runtime was replaced, or the default levels
  // changed (maybe by another thread).
  bumpEpoch();
  if (status === encode.ST_NO_RUNTIME && !warnedNoRuntime) {
    warnedNoRuntime = true;
    process.emitWarning(
      `ringlog could not start, records are not written: ${native.lastError() || 'unknown error'}`,
      { code: 'RINGLOG_NO_RUNTIME' },
    );
  } else if (status === -1 && !warnedInternal) {
    warnedInternal = true;
    process.emitWarning(`ringlog dropped a record it could not encode: ${err && err.message}`, {
      code: 'RINGLOG_ENCODE',
    });
  }
});

const slots = new FinalizationRegistry((slot) => {
  native.releaseLogger(slot);
});

const EMPTY = new Uint8Array(0);

/** The message of a call: util.format-style when there are arguments. */
function formatArgs(args, from) {
  const first = args[from];
  if (args.length === from + 1 && typeof first === 'string') return first;
  return util.format(...Array.prototype.slice.call(args, from));
}

class Logger {
  /**
   * Use `ringlog.logger(options)` or `logger.child(bindings)`.
   * @param {string} name
   * @param {number} level severity number (1..25)
   * @param {boolean} explicit whether the level was set (else it follows the configuration)
   * @param {Uint8Array} bound the encoded bound fields (wire format)
   * @param {number} boundCount how many fields `bound` holds
   * @param {object} bindings the bound fields as given
   */
  constructor(name, level, explicit, bound, boundCount, bindings) {
    this.name = name;
    this._lv = level;
    this._explicit = explicit;
    this._ep = epoch;
    this._bound = bound;
    this._nb = boundCount;
    this._bindings = bindings;
    this._slot = 0;
    /** Call-site state (lib/encode.js), made on the first record. */
    this._sh = null;
  }

  /** Re-reads the default level after the configuration changed. */
  _sync() {
    this._ep = epoch;
    if (!this._explicit) this._lv = defaultLevel(this.name);
  }

  /** The native slot, made on first use. */
  _slotId() {
    let s = this._slot;
    if (s === 0) {
      s = native.newLogger(this.name, 0, this._bound, this._nb);
      this._slot = s;
      slots.register(this, s);
    }
    return s;
  }

  /** Sends a record whose level was checked: `args` as the method got them. */
  _write(level, a, b, n, args) {
    const slot = this._slot === 0 ? this._slotId() : this._slot;
    const sh = (this._sh === null ? (this._sh = new Shapes()) : this._sh).use();
    if (typeof a === 'object' && a !== null) {
      const asErr = a instanceof Error;
      let msg;
      if (n < 2) msg = asErr ? String(a.message) : '';
      else if (n === 2 && typeof b === 'string') msg = b;
      else if (n === 2 && b === undefined) msg = asErr ? String(a.message) : '';
      else msg = formatArgs(args, 1);
      send(slot, level, a, msg, asErr, sh);
    } else {
      const msg = n === 1 && typeof a === 'string' ? a : n === 0 ? '' : formatArgs(args, 0);
      send(slot, level, undefined, msg, false, sh);
    }
  }

  trace(a, b) {
    if (this._ep !== epoch) this._sync();
    if (this._lv > 1) return;
    this._write(1, a, b, arguments.length, arguments);
  }

  debug(a, b) {
    if (this._ep !== epoch) this._sync();
    if (this._lv > 5) return;
    this._write(5, a, b, arguments.length, arguments);
  }

  info(a, b) {
    if (this._ep !== epoch) this._sync();
    if (this._lv > 9) return;
    this._write(9, a, b, arguments.length, arguments);
  }

  warn(a, b) {
    if (this._ep !== epoch) this._sync();
    if (this._lv > 13) return;
    this._write(13, a, b, arguments.length, arguments);
  }

  error(a, b) {
    if (this._ep !== epoch) this._sync();
    if (this._lv > 17) return;
    this._write(17, a, b, arguments.length, arguments);
  }

  fatal(a, b) {
    if (this._ep !== epoch) this._sync();
    if (this._lv > 21) return;
    this._write(21, a, b, arguments.length, arguments);
  }

  /** Does nothing: pino's `silent` method. */
  silent() {}

  /** The level's name: `'info'`, `'warn2'`, `'silent'`. */
  get level() {
    if (this._ep !== epoch) this._sync();
    return levels.toName(this._lv);
  }

  /** Sets the level (a name or a severity number); it no longer follows the configuration. */
  set level(value) {
    this._lv = levels.toNumber(value);
    this._explicit = true;
    this._ep = epoch;
  }

  /** The level as an OpenTelemetry severity number (25 for silent). */
  get levelVal() {
    if (this._ep !== epoch) this._sync();
    return this._lv;
  }

  /** True when a record at `level` (a name or number) would be logged. */
  isLevelEnabled(level) {
    if (this._ep !== epoch) this._sync();
    const n = levels.toNumber(level);
    return n < levels.SILENT && n >= this._lv;
  }

  /**
   * A child logger: `bindings` are written with every record it logs
   * (after its parent's). `options.level` sets its own level.
   */
  child(bindings, options) {
    if (this._ep !== epoch) this._sync();
    let bound = this._bound;
    let count = this._nb;
    let all = this._bindings;
    if (bindings !== undefined && bindings !== null) {
      if (typeof bindings !== 'object') {
        throw new TypeError('ringlog: child bindings must be an object');
      }
      const enc = encodeFields(bindings);
      if (enc.count > 0) {
        const joined = new Uint8Array(bound.length + enc.bytes.length);
        joined.set(bound, 0);
        joined.set(enc.bytes, bound.length);
        bound = joined;
        count += enc.count;
        all = Object.assign({}, all, bindings);
      }
    }
    let level = this._lv;
    let explicit = this._explicit;
    if (options !== undefined && options !== null && options.level !== undefined) {
      level = levels.toNumber(options.level);
      explicit = true;
    }
    return new Logger(this.name, level, explicit, bound, count, all);
  }

  /** The bound fields of this logger and its parents, merged. */
  bindings() {
    return Object.assign({}, this._bindings);
  }

  /** Resolves once everything logged so far is written (`ringlog.flush`). */
  flush(timeoutMs) {
    return native.flush(timeoutMs);
  }
}

/**
 * A root logger.
 * @param {{name?: string, level?: string|number}|string} [options]
 */
function logger(options) {
  let name = 'app';
  let level;
  if (typeof options === 'string') {
    name = options;
  } else if (options !== undefined && options !== null) {
    if (typeof options !== 'object') throw new TypeError('ringlog: logger options must be an object');
    if (options.name !== undefined) name = String(options.name);
    level = options.level;
  }
  if (level === undefined) return new Logger(name, defaultLevel(name), false, EMPTY, 0, {});
  return new Logger(name, levels.toNumber(level), true, EMPTY, 0, {});
}

module.exports = { Logger, logger, bumpEpoch };
