'use strict';
// Trace context through AsyncLocalStorage.
//
// `withTraceContext(traceparent, fn)` runs fn with the parsed context as
// the store of an AsyncLocalStorage, so every record logged inside fn and
// its async continuations (awaits, timers, callbacks) carries trace_id,
// span_id and trace_flags. The store is the context's 25 bytes (trace id,
// span id, flags) as the record encoder copies them. Until the first
// withTraceContext call, records do not look the store up at all.

const { AsyncLocalStorage } = require('async_hooks');
const native = require('./native');
const encode = require('./encode');

const als = new AsyncLocalStorage();
let enabled = false;

function hex(bytes, from, to) {
  let s = '';
  for (let i = from; i < to; i++) s += bytes[i].toString(16).padStart(2, '0');
  return s;
}

/** The 25 context bytes of a traceparent string or {traceId, spanId, traceFlags}; null if invalid. */
function parse(tp) {
  if (typeof tp === 'string') return native.parseTraceparent(tp);
  if (tp !== null && typeof tp === 'object') {
    const { traceId, spanId } = tp;
    const flags = tp.traceFlags === undefined ? 1 : tp.traceFlags;
    if (typeof traceId !== 'string' || typeof spanId !== 'string') return null;
    if (!Number.isInteger(flags) || flags < 0 || flags > 255) return null;
    const f = flags.toString(16).padStart(2, '0');
    return native.parseTraceparent(`00-${traceId.toLowerCase()}-${spanId.toLowerCase()}-${f}`);
  }
  return null;
}

/**
 * Runs fn(...args) with the trace context `traceparent` (a W3C traceparent
 * string, or {traceId, spanId, traceFlags}) and returns what fn returns.
 * A missing or malformed context runs fn without one, so a bad incoming
 * header never breaks the request that carried it.
 */
function withTraceContext(traceparent, fn, ...args) {
  if (typeof fn !== 'function') throw new TypeError('ringlog: withTraceContext needs a function');
  if (!enabled) {
    enabled = true;
    encode.enableTrace(() => als.getStore());
  }
  const ctx = traceparent === undefined || traceparent === null ? null : parse(traceparent);
  return als.run(ctx === null ? undefined : ctx, fn, ...args);
}

/** The current context as {traceId, spanId, traceFlags, traceparent}, or undefined. */
function currentTraceContext() {
  if (!enabled) return undefined;
  const c = als.getStore();
  if (c === undefined) return undefined;
  const traceId = hex(c, 0, 16);
  const spanId = hex(c, 16, 24);
  const traceFlags = c[24];
  return {
    traceId,
    spanId,
    traceFlags,
    traceparent: `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`,
  };
}

module.exports = { withTraceContext, currentTraceContext };
