'use strict';
// Exit paths: every record is written however the process (or worker) ends.
//
// - A process `exit` listener flushes: normal exit, process.exit(), and
//   the exit after an uncaught exception all emit it. Records logged by
//   `exit` listeners added later are written by the addon's env cleanup
//   hook and the core's atexit handler, which shut the runtime down.
// - An uncaught exception (or an unhandled rejection, which Node turns
//   into one) that will end the process is logged as FATAL by the logger
//   `process` first, with the error as `err` and where it came from as
//   `origin`. It is watched with `uncaughtExceptionMonitor`, which changes
//   nothing about how Node handles it: the message on stderr and the exit
//   code stay Node's own. When the program has its own
//   `uncaughtException` listener it handles the error, and nothing is
//   logged here.
// - A SIGKILLed process leaves its records in its ring files; the next
//   start with the same ring_dir recovers them.

const native = require('./native');

let installed = false;

function install(logger) {
  if (installed) return;
  installed = true;
  let fatal = null;
  process.on('exit', () => {
    try {
      native.flushSync();
    } catch {
      // A flush that times out leaves the rest to the cleanup hook.
    }
  });
  process.on('uncaughtExceptionMonitor', (err, origin) => {
    try {
      if (process.listenerCount('uncaughtException') > 0) return;
      if (fatal === null) fatal = logger({ name: 'process', level: 'trace' });
      const msg = origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception';
      fatal.fatal({ err, origin }, msg);
      native.flushSync();
    } catch {
      // Never get in the way of Node's own handling.
    }
  });
}

module.exports = { install };
