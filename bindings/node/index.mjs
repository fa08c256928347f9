// ESM entry point: the same module as `require('ringlog')`.
import ringlog from './index.js';

export const {
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
  levels,
  version,
  Logger,
} = ringlog;
export default ringlog;
