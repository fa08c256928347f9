//! The env cleanup hook: records are written before an environment goes.
//!
//! Node runs an environment's cleanup hooks when it is torn down: a
//! worker thread ending (normally, by `process.exit()` inside it, or by
//! `worker.terminate()`), and the main thread at a normal exit. The hook
//! frees the channel (record buffer) and the thread's logger slots, then:
//!
//! - in a worker, flushes, so the worker's records are written by the
//!   time its `exit` event reaches the parent;
//! - in the main thread, shuts the runtime down (everything logged is
//!   written; the core's own `atexit` handler does the same when the
//!   process ends without tearing the environment down).
//!
//! The JS side adds a process `exit` listener that flushes, and logs an
//! uncaught exception as FATAL first (`lib/exit.js`).

use crate::guard::guard_quiet;
use crate::{channel, loggers, runtime};
use napi::Env;

/// What the hook needs.
#[derive(Debug, Clone, Copy)]
struct HookData {
    /// The channel `init` made for the environment.
    channel: *mut channel::Channel,
    /// Whether the environment is the main thread's.
    is_main: bool,
}

fn on_cleanup(d: HookData) {
    guard_quiet(|| {
        // Node runs cleanup hooks on the environment's thread while it is
        // alive, after its last JS.
        // SAFETY: the channel came from `channel::install` for this
        // environment and is freed only here.
        unsafe { channel::free(d.channel) };
        loggers::clear();
        let t = runtime::shutdown_timeout();
        if d.is_main {
            let _ = runtime::shutdown();
        } else {
            let _ = runtime::flush(t);
        }
    });
}

/// Registers the cleanup hook for `env`, which frees `channel`.
///
/// # Errors
/// When Node-API refuses the hook.
pub(crate) fn register(
    env: &Env,
    channel: *mut channel::Channel,
    is_main: bool,
) -> napi::Result<()> {
    let data = HookData { channel, is_main };
    env.add_env_cleanup_hook(data, on_cleanup)?;
    Ok(())
}
