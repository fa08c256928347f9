'use strict';
// The record encoder: writes one record into this thread's record buffer
// and calls the addon's `emit()`, the one native call per record.
//
// Reading a JS object through Node-API costs a native call per key, value
// and type check, and JSON.stringify followed by a parse in Rust costs
// more than walking the object here (see README.md, "Performance"). So
// this module walks the object and writes the wire format that
// src/wire.rs documents and decodes:
//
//   record  = logger:u32 level:u8 flags:u8 [ctx:25] msg:str count:u32 field*
//   field   = key:str value          str = u32 byte length + UTF-8
//   value   = tag:u8 payload         (tags below)
//
// The buffer (an ArrayBuffer registered with the addon once) starts with
// a 16-byte header: the record's start and end offsets, written here, and
// the runtime generation and a status code, written back by `emit()`.
//
// What the walk does with values (the README's table): strings as UTF-8
// with lone surrogates replaced by U+FFFD; numbers as JS numbers (the
// addon logs safe integers as i64); BigInts as i64/u64 when they fit,
// else as their decimal digits; Buffers and typed arrays as bytes; Dates
// as ISO 8601; Errors as { type, message, stack, ...own fields, cause };
// objects with toJSON through it; Maps as objects, Sets as arrays;
// undefined, functions and symbols left out of objects and written as
// null in arrays, as JSON.stringify does. A structure that contains
// itself is written with "[Circular]" at the repeat, nesting past
// MAX_DEPTH as "[Object]" / "[Array]", and a getter (or toJSON, or Proxy
// trap) that throws as "[Throws: message]": logging never throws into the
// caller because of the logged value.

const { isMainThread } = require('worker_threads');
const { types } = require('util');
const native = require('./native');

const HEADER = 16;
const INITIAL = 64 * 1024;
/** A buffer grown past this is given back after the record. */
const SHRINK_ABOVE = 1024 * 1024;
/** The core refuses a record body past 2^28 - 1 bytes anyway. */
const MAX_RECORD = (1 << 28) - 1;
/** How deep objects and arrays nest before the rest is a placeholder. */
const MAX_DEPTH = 16;
/** Strings longer than this go through TextEncoder.encodeInto. */
const LONG_STRING = 48;

const T_NULL = 0;
const T_STR = 1;
const T_NUM = 2;
const T_I64 = 3;
const T_U64 = 4;
const T_TRUE = 5;
const T_FALSE = 6;
const T_BYTES = 7;
const T_GROUP = 8;
const T_ARRAY = 9;

const FLAG_CTX = 1;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

/** Status codes emit() leaves at bytes 12..16 (src/channel.rs). */
const ST_OK = 0;
const ST_NO_RUNTIME = 1;

// The channel: `emit()` and `setBuffer()` bound to this copy of the
// module; the addon's env cleanup hook writes everything out when this
// thread's environment goes away.
const chan = {};
native.init(chan, isMainThread);

let cap = INITIAL;
let ab = new ArrayBuffer(cap);
let u8 = new Uint8Array(ab);
let dv = new DataView(ab);
chan.setBuffer(ab);

/** Next free byte. */
let pos = HEADER;
/** Records being encoded (more than 1 when a getter logs). */
let nesting = 0;
/** The objects on the path being written, for "[Circular]". */
const seen = [];
let seenLen = 0;
/** Where the current record's part of `seen` starts. */
let seenBase = 0;

const te = new TextEncoder();

/** Thrown by `grow` when a record would pass MAX_RECORD. */
const TOO_LARGE = { tooLarge: true };

function setBuffer(newCap) {
  const nab = new ArrayBuffer(newCap);
  const nu8 = new Uint8Array(nab);
  nu8.set(u8.subarray(0, Math.min(pos, newCap)));
  chan.setBuffer(nab);
  ab = nab;
  u8 = nu8;
  dv = new DataView(nab);
  cap = newCap;
}

function grow(n) {
  const need = pos + n;
  if (need - recordStart > MAX_RECORD) throw TOO_LARGE;
  let c = cap * 2;
  while (c < need) c *= 2;
  setBuffer(c);
}

/**
 * Start of the record being written: what emit() is told, and where the
 * size limit counts from (putKeyedHead moves it past a site record left
 * behind).
 */
let recordStart = HEADER;

// ------------------------------------------------------------------ strings

/** Writes s as u32 length + UTF-8 (lone surrogates become U+FFFD). */
function putStr(s) {
  const n = s.length;
  if (n > LONG_STRING) {
    putLongStr(s, n);
    return;
  }
  if (pos + 4 + n * 3 > cap) grow(4 + n * 3);
  const b = u8;
  const start = pos;
  let q = start + 4;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      b[q++] = c;
    } else if (c < 0x800) {
      b[q++] = 0xc0 | (c >> 6);
      b[q++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      b[q++] = 0xe0 | (c >> 12);
      b[q++] = 0x80 | ((c >> 6) & 0x3f);
      b[q++] = 0x80 | (c & 0x3f);
    } else {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        b[q++] = 0xf0 | (cp >> 18);
        b[q++] = 0x80 | ((cp >> 12) & 0x3f);
        b[q++] = 0x80 | ((cp >> 6) & 0x3f);
        b[q++] = 0x80 | (cp & 0x3f);
        i++;
      } else {
        // A lone surrogate: U+FFFD.
        b[q++] = 0xef;
        b[q++] = 0xbf;
        b[q++] = 0xbd;
      }
    }
  }
  dv.setUint32(start, q - start - 4, true);
  pos = q;
}

function putLongStr(s, n) {
  // Exact size for big strings (a lone surrogate counts 3, as U+FFFD).
  const max = n > 65536 ? Buffer.byteLength(s, 'utf8') : n * 3;
  if (pos + 4 + max > cap) grow(4 + max);
  const { written } = te.encodeInto(s, u8.subarray(pos + 4, pos + 4 + max));
  dv.setUint32(pos, written, true);
  pos += 4 + written;
}

function putTagStr(s) {
  if (pos + 1 > cap) grow(1);
  u8[pos++] = T_STR;
  putStr(s);
}

function putNull() {
  if (pos + 1 > cap) grow(1);
  u8[pos++] = T_NULL;
}

function putBytes(view) {
  const n = view.byteLength;
  if (pos + 5 + n > cap) grow(5 + n);
  u8[pos] = T_BYTES;
  dv.setUint32(pos + 1, n, true);
  u8.set(view, pos + 5);
  pos += 5 + n;
}

function putBigInt(v) {
  if (v >= I64_MIN && v <= I64_MAX) {
    if (pos + 9 > cap) grow(9);
    u8[pos] = T_I64;
    dv.setBigInt64(pos + 1, v, true);
    pos += 9;
  } else if (v > 0n && v <= U64_MAX) {
    if (pos + 9 > cap) grow(9);
    u8[pos] = T_U64;
    dv.setBigUint64(pos + 1, v, true);
    pos += 9;
  } else {
    putTagStr(v.toString());
  }
}

/** The text for a value that threw while it was read. */
function thrownText(e) {
  let m;
  try {
    m = e instanceof Error ? e.message : String(e);
  } catch {
    m = 'unknown';
  }
  return `[Throws: ${m}]`;
}

// ------------------------------------------------------------------- values

/** Writes a value whose `typeof` is t. */
function putVal(v, t, depth) {
  if (t === 'string') {
    if (pos + 1 > cap) grow(1);
    u8[pos++] = T_STR;
    putStr(v);
  } else if (t === 'number') {
    if (pos + 9 > cap) grow(9);
    u8[pos] = T_NUM;
    dv.setFloat64(pos + 1, v, true);
    pos += 9;
  } else if (t === 'boolean') {
    if (pos + 1 > cap) grow(1);
    u8[pos++] = v ? T_TRUE : T_FALSE;
  } else if (t === 'object') {
    if (v === null) putNull();
    else putObj(v, depth, true);
  } else if (t === 'bigint') {
    putBigInt(v);
  } else {
    // undefined, functions, symbols: null (only reached in arrays).
    putNull();
  }
}

/** Writes the own enumerable fields of o (no count); returns how many. */
function putFields(o, depth) {
  let n = 0;
  for (const k in o) {
    let v;
    try {
      v = o[k];
    } catch (e) {
      putStr(k);
      putTagStr(thrownText(e));
      n++;
      continue;
    }
    const t = typeof v;
    if (t === 'undefined' || t === 'function' || t === 'symbol') continue;
    putStr(k);
    putVal(v, t, depth);
    n++;
  }
  return n;
}

function putGroup(o, depth) {
  if (pos + 5 > cap) grow(5);
  u8[pos] = T_GROUP;
  const cpos = pos + 1;
  pos += 5;
  const n = putFields(o, depth);
  dv.setUint32(cpos, n, true);
}

function putArray(a, depth) {
  if (pos + 5 > cap) grow(5);
  u8[pos] = T_ARRAY;
  const cpos = pos + 1;
  pos += 5;
  const len = a.length;
  for (let i = 0; i < len; i++) {
    let v;
    try {
      v = a[i];
    } catch (e) {
      putTagStr(thrownText(e));
      continue;
    }
    putVal(v, typeof v, depth);
  }
  dv.setUint32(cpos, len, true);
}

/** Reads o[k], or returns the text for a throw. */
function safeGet(o, k) {
  try {
    return o[k];
  } catch (e) {
    return thrownText(e);
  }
}

const ERROR_OWN = new Set(['type', 'message', 'stack', 'cause', 'errors']);

function errorType(e) {
  const ctor = safeGet(e, 'constructor');
  if (typeof ctor === 'function' && typeof ctor.name === 'string' && ctor.name) return ctor.name;
  const name = safeGet(e, 'name');
  return typeof name === 'string' && name ? name : 'Error';
}

/** An Error: { type, message, stack, ...own enumerable fields, cause, errors }. */
function putError(e, depth) {
  if (pos + 5 > cap) grow(5);
  u8[pos] = T_GROUP;
  const cpos = pos + 1;
  pos += 5;
  let n = 0;
  putStr('type');
  putTagStr(errorType(e));
  n++;
  const message = safeGet(e, 'message');
  putStr('message');
  putTagStr(typeof message === 'string' ? message : String(message));
  n++;
  const stack = safeGet(e, 'stack');
  if (typeof stack === 'string') {
    putStr('stack');
    putTagStr(stack);
    n++;
  }
  for (const k in e) {
    if (ERROR_OWN.has(k)) continue;
    let v;
    try {
      v = e[k];
    } catch (err) {
      v = thrownText(err);
    }
    const t = typeof v;
    if (t === 'undefined' || t === 'function' || t === 'symbol') continue;
    putStr(k);
    putVal(v, t, depth);
    n++;
  }
  const cause = safeGet(e, 'cause');
  if (cause !== undefined) {
    putStr('cause');
    putVal(cause, typeof cause, depth);
    n++;
  }
  const errors = safeGet(e, 'errors');
  if (Array.isArray(errors)) {
    putStr('errors');
    putObj(errors, depth, true);
    n++;
  }
  dv.setUint32(cpos, n, true);
}

function isError(o) {
  return o instanceof Error || types.isNativeError(o);
}

/** Writes an object value: guards depth, cycles and throwing code. */
function putObj(o, depth, allowToJSON) {
  if (depth >= MAX_DEPTH) {
    putTagStr(Array.isArray(o) ? '[Array]' : '[Object]');
    return;
  }
  for (let i = seenBase; i < seenLen; i++) {
    if (seen[i] === o) {
      putTagStr('[Circular]');
      return;
    }
  }
  const save = pos;
  seen[seenLen++] = o;
  try {
    putObjInner(o, depth + 1, allowToJSON);
  } catch (e) {
    if (e === TOO_LARGE) throw e;
    pos = save;
    putTagStr(thrownText(e));
  } finally {
    seen[--seenLen] = undefined;
  }
}

function putObjInner(o, depth, allowToJSON) {
  const proto = Object.getPrototypeOf(o);
  if (proto === Object.prototype || proto === null) {
    if (allowToJSON && typeof o.toJSON === 'function') putToJSON(o, depth);
    else putGroup(o, depth);
    return;
  }
  if (Array.isArray(o)) {
    putArray(o, depth);
    return;
  }
  if (isError(o)) {
    putError(o, depth);
    return;
  }
  if (ArrayBuffer.isView(o)) {
    putBytes(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
    return;
  }
  if (types.isAnyArrayBuffer(o)) {
    putBytes(new Uint8Array(o));
    return;
  }
  if (types.isDate(o)) {
    const t = o.getTime();
    if (t === t) putTagStr(o.toISOString());
    else putNull();
    return;
  }
  if (allowToJSON && typeof o.toJSON === 'function') {
    putToJSON(o, depth);
    return;
  }
  if (types.isMap(o)) {
    if (pos + 5 > cap) grow(5);
    u8[pos] = T_GROUP;
    const cpos = pos + 1;
    pos += 5;
    let n = 0;
    for (const [k, v] of o) {
      const t = typeof v;
      if (t === 'undefined' || t === 'function' || t === 'symbol') continue;
      putStr(typeof k === 'string' ? k : String(k));
      putVal(v, t, depth);
      n++;
    }
    dv.setUint32(cpos, n, true);
    return;
  }
  if (types.isSet(o)) {
    putArray(Array.from(o), depth);
    return;
  }
  if (types.isBoxedPrimitive(o)) {
    const v = o.valueOf();
    putVal(v, typeof v, depth);
    return;
  }
  putGroup(o, depth);
}

/** JSON.stringify's rule: the value toJSON returns, whose own toJSON is not called. */
function putToJSON(o, depth) {
  const j = o.toJSON();
  if (j === o) {
    // `return this`: the object's own fields.
    putObjInner(o, depth, false);
    return;
  }
  const t = typeof j;
  if (t === 'object' && j !== null) putObj(j, depth, false);
  else if (t === 'undefined' || t === 'function' || t === 'symbol') putNull();
  else putVal(j, t, depth);
}

// --------------------------------------------------------------- call sites
//
// A record whose fields are all strings, numbers and booleans has a shape:
// its level, message, keys and value kinds. The second time a logger sends
// the same shape it defines it as a call site of its native logger (once);
// from then on a record of that shape sends only the site's id and the
// values (src/wire.rs, "site record"): the message and keys are not
// encoded again, and the core logs it through its shorter site path. The
// output is the same line either way. Shapes are looked up by message, so
// a logger whose messages all differ (formatted text) keeps at most
// MAX_SHAPES of them and defines at most MAX_SITES sites.

const K_STR = 1;
const K_INT = 2;
const K_FLOAT = 3;
const K_BOOL = 4;
/** Shapes one logger remembers, defined or not. */
const MAX_SHAPES = 256;
/** Sites one logger defines (the addon's MAX_SITES in src/loggers.rs). */
const MAX_SITES = 64;
/** A record with more fields than this takes the keyed path. */
const MAX_SHAPE_KEYS = 32;
/** Record flag: a site record. */
const FLAG_SITE = 2;

/** The site kind of a field value, 0 when it has none (the keyed path). */
function kindOf(v) {
  const t = typeof v;
  if (t === 'string') return K_STR;
  if (t === 'number') return Number.isSafeInteger(v) ? K_INT : K_FLOAT;
  if (t === 'boolean') return K_BOOL;
  return 0;
}

/**
 * The call-site state of one logger (made by the logger on its first
 * record with fields or a message).
 */
class Shapes {
  constructor() {
    /** The shape used last: most loggers log a few shapes in a row. */
    this.last = null;
    /** Shapes by message, made once a second shape is seen. */
    this.map = null;
    /** Sites defined. */
    this.sites = 0;
    /** Records of the current window that went through a site. */
    this.hits = 0;
    /** Records of the current window that found no shape. */
    this.misses = 0;
    /** Records still to send without looking for a shape. */
    this.pause = 0;
  }

  /**
   * The state to send a record with: this, or null while paused. A
   * logger whose records mostly find no shape (messages made per record)
   * would pay the lookup for nothing, so after WINDOW such records with
   * fewer site records among them it stops looking for PAUSE records.
   */
  use() {
    if (this.pause === 0) return this;
    this.pause--;
    return null;
  }

  /** Counts a record that found no shape. */
  miss() {
    if (++this.misses < WINDOW) return;
    if (this.hits < this.misses) this.pause = PAUSE;
    this.hits = 0;
    this.misses = 0;
  }
}

/** Records with no shape that start a decision to pause the lookups. */
const WINDOW = 1024;
/** Records a paused logger sends keyed before it looks again. */
const PAUSE = 65536;

/**
 * Keys and kinds of the fields of records written keyed, kept while they
 * could make a shape (a stack: a getter that logs uses the part after
 * its caller's).
 */
const ks = [];
const kd = [];
let kvLen = 0;

/** Defines shape s as a site of logger slot `slot`; its id, or 0. */
function define(slot, s) {
  const start = pos;
  try {
    if (pos + 1 > cap) grow(1);
    u8[pos++] = s.level;
    putStr(s.msg);
    if (pos + 4 > cap) grow(4);
    dv.setUint32(pos, s.n, true);
    pos += 4;
    for (let i = 0; i < s.n; i++) {
      putStr(s.keys[i]);
      if (pos + 1 > cap) grow(1);
      u8[pos++] = s.kinds[i];
    }
    return native.defineSite(slot, new Uint8Array(ab, start, pos - start));
  } catch (e) {
    if (e === TOO_LARGE) return 0;
    throw e;
  } finally {
    pos = start;
  }
}

/** The shape a record of logger state `sh` may take, or null. */
function shapeOf(sh, level, msg) {
  let s = sh.last;
  if (s === null || s.msg !== msg || s.level !== level) {
    s = sh.map === null ? null : sh.map.get(msg) || null;
    while (s !== null && s.level !== level) s = s.next;
    if (s === null) return null;
    sh.last = s;
  }
  return s.site < 0 ? null : s;
}

/**
 * Remembers the shape of a record written keyed: fields base..base+n.
 * Shapes are kept by message, one per level (a chain through `next`); a
 * new one replaces the one of its message and level.
 */
function remember(sh, level, msg, base, n) {
  if (sh.map !== null && sh.map.size >= MAX_SHAPES && !sh.map.has(msg)) return;
  const shape = {
    msg,
    level,
    n,
    keys: ks.slice(base, base + n),
    kinds: kd.slice(base, base + n),
    site: 0,
    next: null,
  };
  const last = sh.last;
  sh.last = shape;
  if (last === null) return;
  if (sh.map === null) {
    sh.map = new Map();
    sh.map.set(last.msg, last);
  }
  let chain = sh.map.get(msg);
  if (chain === undefined) {
    sh.map.set(msg, shape);
    return;
  }
  if (chain.level === level) {
    chain = chain.next;
  } else {
    let p = chain;
    while (p.next !== null && p.next.level !== level) p = p.next;
    if (p.next !== null) p.next = p.next.next;
  }
  shape.next = chain;
  sh.map.set(msg, shape);
}

/** Writes a site value of kind `typeof v === t`. */
function putSiteVal(v, t) {
  if (t === 'string') {
    putStr(v);
  } else if (t === 'number') {
    if (pos + 8 > cap) grow(8);
    dv.setFloat64(pos, v, true);
    pos += 8;
  } else {
    if (pos + 1 > cap) grow(1);
    u8[pos++] = v ? 1 : 0;
  }
}

// ------------------------------------------------------------------ records

/** The trace context lookup, installed by lib/trace.js on first use. */
let traceStore = null;

/** Called by lib/trace.js: records from now on look up the context. */
function enableTrace(getStore) {
  traceStore = getStore;
}

/** Called when emit() reports something (status, new generation). */
let onEmit = null;

function setOnEmit(f) {
  onEmit = f;
}

/** The generation emit() reported last. */
let generation = 0;

/** Writes a record's head at `start`: logger, level, flags, context. */
function putHead(start, slot, level, flags) {
  if (start + 64 > cap) grow(64);
  dv.setUint32(start, slot, true);
  u8[start + 4] = level;
  pos = start + 6;
  let ctx;
  if (traceStore !== null && (ctx = traceStore()) !== undefined) {
    u8[start + 5] = flags | FLAG_CTX;
    for (let i = 0; i < 25; i++) u8[pos + i] = ctx[i];
    pos += 25;
  } else {
    u8[start + 5] = flags;
  }
}

/**
 * Writes a keyed record's head at `pos` (message and a count to fill
 * in); returns where the count goes. The record starts there
 * (`recordStart`).
 */
function putKeyedHead(slot, level, msg) {
  recordStart = pos;
  putHead(pos, slot, level, 0);
  putStr(msg);
  if (pos + 4 > cap) grow(4);
  const cpos = pos;
  pos += 4;
  return cpos;
}

/**
 * Leaves the site path after `done` fields of shape s were written as
 * site values from `vstart`: writes a keyed record after them with those
 * fields again and returns where its count goes.
 */
function toKeyed(slot, level, msg, s, vstart, done) {
  const cpos = putKeyedHead(slot, level, msg);
  let q = vstart;
  for (let j = 0; j < done; j++) {
    putStr(s.keys[j]);
    const k = s.kinds[j];
    if (k === K_STR) {
      const len = dv.getUint32(q, true);
      if (pos + 5 + len > cap) grow(5 + len);
      u8[pos] = T_STR;
      u8.copyWithin(pos + 1, q, q + 4 + len);
      pos += 5 + len;
      q += 4 + len;
    } else if (k === K_BOOL) {
      if (pos + 1 > cap) grow(1);
      u8[pos++] = u8[q] !== 0 ? T_TRUE : T_FALSE;
      q += 1;
    } else {
      if (pos + 9 > cap) grow(9);
      u8[pos] = T_NUM;
      u8.copyWithin(pos + 1, q, q + 8);
      pos += 9;
      q += 8;
    }
  }
  return cpos;
}

/**
 * Writes and emits one record for logger slot `slot` at `level` with
 * message `msg`. `obj` (or undefined) gives the fields: its own
 * enumerable properties, or, when `asErr` is true, one field `err`.
 * `sh` is the logger's call-site state (Shapes), or null for none.
 *
 * With a shape for this message and level, the record is written as a
 * site record while the fields follow the shape; at the first one that
 * does not, a keyed record is written after it with the fields so far
 * (taken back from the site values) and the rest, and that is the record
 * sent. Each field is read once.
 */
function send(slot, level, obj, msg, asErr, sh) {
  const start = pos;
  const startSeen = seenBase;
  const prevRecord = recordStart;
  const base = kvLen;
  recordStart = start;
  seenBase = seenLen;
  nesting++;
  try {
    const s = sh !== null && !asErr ? shapeOf(sh, level, msg) : null;
    if (s === null && sh !== null && !asErr) sh.miss();
    let siteMode = s !== null;
    let cpos = 0;
    let vstart = 0;
    let idPos = 0;
    if (siteMode) {
      putHead(start, slot, level, FLAG_SITE);
      if (pos + 4 > cap) grow(4);
      idPos = pos;
      pos += 4;
      vstart = pos;
    } else {
      cpos = putKeyedHead(slot, level, msg);
    }
    /** Whether the fields written keyed so far could make a shape. */
    let shapeable = sh !== null && !asErr;
    let n = 0;
    if (asErr) {
      putStr('err');
      putObj(obj, 0, true);
      n = 1;
    } else if (obj !== undefined) {
      seen[seenLen++] = obj;
      const save = pos;
      try {
        for (const k in obj) {
          let v;
          try {
            v = obj[k];
          } catch (e) {
            v = thrownText(e);
          }
          const t = typeof v;
          if (t === 'undefined' || t === 'function' || t === 'symbol') continue;
          const kind = kindOf(v);
          if (siteMode) {
            if (n < s.n && k === s.keys[n] && kind === s.kinds[n]) {
              putSiteVal(v, t);
              n++;
              continue;
            }
            cpos = toKeyed(slot, level, msg, s, vstart, n);
            siteMode = false;
            for (let j = 0; j < n; j++) {
              ks[kvLen] = s.keys[j];
              kd[kvLen++] = s.kinds[j];
            }
          }
          putStr(k);
          putVal(v, t, 0);
          if (shapeable) {
            if (kind === 0 || n >= MAX_SHAPE_KEYS) {
              shapeable = false;
            } else {
              ks[kvLen] = k;
              kd[kvLen++] = kind;
            }
          }
          n++;
        }
      } catch (e) {
        if (e === TOO_LARGE) throw e;
        // The object itself could not be walked (a Proxy trap threw).
        pos = save;
        if (siteMode) {
          pos = vstart;
          cpos = putKeyedHead(slot, level, msg);
          siteMode = false;
        } else {
          pos = cpos + 4;
        }
        putStr('ringlog_error');
        putTagStr(`the logged object could not be read: ${thrownText(e)}`);
        n = 1;
        shapeable = false;
      }
    }
    if (siteMode && n === s.n && s.site === 0) {
      // The second record of this shape: define it (written after this
      // record, which is kept as it is).
      s.site = sh.sites < MAX_SITES ? define(slot, s) || -1 : -1;
      if (s.site > 0) sh.sites++;
    }
    if (siteMode && (n !== s.n || s.site < 0)) {
      // Fewer fields than the shape, or a site that could not be defined
      // (here, or by a record of this shape logged from a getter of this
      // one): the record goes keyed.
      cpos = toKeyed(slot, level, msg, s, vstart, n);
      siteMode = false;
      shapeable = false;
    }
    if (siteMode) {
      dv.setUint32(idPos, s.site, true);
      sh.hits++;
    } else {
      dv.setUint32(cpos, n, true);
      // A shape that did not fit counts as a miss; one with a site is kept
      // (records of another shape under the same message stay keyed).
      if (s !== null) sh.miss();
      if (shapeable && n <= MAX_SHAPE_KEYS && (s === null || s.site <= 0)) {
        remember(sh, level, msg, base, n);
      }
    }
    dv.setUint32(0, recordStart, true);
    dv.setUint32(4, pos, true);
    chan.emit();
    const st = dv.getUint32(12, true);
    const g = dv.getUint32(8, true);
    if (st !== ST_OK || g !== generation) {
      generation = g;
      if (onEmit !== null) onEmit(st, g);
    }
  } catch (e) {
    // Refused and counted like any record the core cannot take; an
    // unexpected error is reported once as a warning, never thrown.
    native.refuseRecord(slot);
    if (e !== TOO_LARGE && onEmit !== null) onEmit(-1, generation, e);
  } finally {
    pos = start;
    recordStart = prevRecord;
    kvLen = base;
    while (seenLen > seenBase) seen[--seenLen] = undefined;
    seenBase = startSeen;
    nesting--;
    if (nesting === 0 && cap > SHRINK_ABOVE) setBuffer(INITIAL);
  }
}

/**
 * Encodes the own enumerable fields of `obj` as a run of fields (a child
 * logger's bindings); returns { bytes, count }.
 */
function encodeFields(obj) {
  const start = pos;
  const startSeen = seenBase;
  const prevRecord = recordStart;
  recordStart = start;
  seenBase = seenLen;
  nesting++;
  try {
    let count;
    seen[seenLen++] = obj;
    try {
      count = putFields(obj, 0);
    } catch (e) {
      if (e === TOO_LARGE) throw new RangeError('ringlog: the bindings are too large');
      pos = start;
      putStr('ringlog_error');
      putTagStr(`the bindings could not be read: ${thrownText(e)}`);
      count = 1;
    }
    return { bytes: u8.slice(start, pos), count };
  } finally {
    pos = start;
    recordStart = prevRecord;
    while (seenLen > seenBase) seen[--seenLen] = undefined;
    seenBase = startSeen;
    nesting--;
    if (nesting === 0 && cap > SHRINK_ABOVE) setBuffer(INITIAL);
  }
}

module.exports = {
  Shapes,
  send,
  encodeFields,
  enableTrace,
  setOnEmit,
  ST_NO_RUNTIME,
  MAX_DEPTH,
};
