'use strict';
// ringlog for Node: structured logging through per-thread, file-backed
// ring buffers, with a pino-shaped API. See README.md.

const native = require('./lib/native');
const levels = require('./lib/levels');
const { Logger, logger, bumpEpoch } = require('./lib/logger');
const { withTraceContext, currentTraceContext } = require('./lib/trace');
const exit = require('./lib/exit');

exit.install(logger);

/**
 * Starts the runtime from a configuration object, JSON text, or nothing
 * (RINGLOG_CONFIG or the defaults; the RINGLOG_* overrides apply on top).
 * A runtime already running is shut down first, writing everything it was
 * given. An explicit configuration is also put in RINGLOG_CONFIG so child
 * processes start from it, unless `options.inherit` is false.
 */
function configure(config, options) {
  let text = null;
  if (config === undefined || config === null) text = null;
  else if (typeof config === 'string') text = config;
  else if (typeof config === 'object') text = JSON.stringify(config);
  else throw new TypeError('ringlog: the configuration is an object, JSON text, or undefined');
  try {
    native.configure(text);
  } finally {
    bumpEpoch();
  }
  const inherit = !(options && options.inherit === false);
  if (inherit && text !== null) process.env.RINGLOG_CONFIG = text;
}

/** Resolves once every record logged before the call is written (timeout in ms). */
function flush(timeoutMs) {
  return native.flush(timeoutMs);
}

/** flush(), blocking the thread. */
function flushSync(timeoutMs) {
  native.flushSync(timeoutMs);
}

/** Shuts the runtime down, writing everything; later records are refused and counted. */
function shutdown() {
  try {
    native.shutdown();
  } finally {
    bumpEpoch();
  }
}

/**
 * Changes levels while the runtime runs, from an object or JSON text:
 * `level` (the default of loggers that set none), `levels` (per name
 * prefix; replaces the whole map) and `sinks` (`{app: {level: 'error'}}`).
 * Loggers that set no level of their own follow at once (on other worker
 * threads, from their next written record); nothing restarts.
 * Any other key throws, naming it.
 */
function reconfigure(config) {
  let text;
  if (typeof config === 'string') text = config;
  else if (typeof config === 'object' && config !== null) text = JSON.stringify(config);
  else throw new TypeError('ringlog: the change is an object or JSON text');
  try {
    native.reconfigure(text);
  } finally {
    bumpEpoch();
  }
}

/**
 * Writes out the records of dead ringlog instances (killed or crashed
 * processes) under `ringDir` (default: this runtime's own ring directory)
 * through the configured sinks, and returns what it found. Blocks until
 * they are written.
 */
function recover(ringDir) {
  if (ringDir !== undefined && ringDir !== null && typeof ringDir !== 'string') {
    throw new TypeError('ringlog: ringDir is a string');
  }
  return native.recover(ringDir === null ? undefined : ringDir);
}

/** The runtime's counters (snake_case names, as in the core). */
function stats() {
  return native.stats();
}

module.exports = {
  logger,
  configure,
  flush,
  flushSync,
  shutdown,
  stats,
  reconfigure,
  recover,
  withTraceContext,
  currentTraceContext,
  levels: { values: levels.values, labels: levels.labels },
  version: native.VERSION,
  Logger,
};
// `import ringlog from 'ringlog'` in TypeScript's CommonJS interop.
module.exports.default = module.exports;
