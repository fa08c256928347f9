//! The process-wide runtime that the C ABI and the language bindings use.
//!
//! `init` starts it; the first logger request starts it with the defaults
//! (and the environment) if nobody did; `shutdown` stops it, and it is also
//! stopped at process exit by an `atexit` handler so that everything logged
//! is written. After a shutdown, `init` may start a new one.

use crate::config::Config;
use crate::error::Error;
use crate::runtime::{lock, Runtime};
use std::sync::{Mutex, Once};
use std::time::Duration;

static GLOBAL: Mutex<Option<(Runtime, u64)>> = Mutex::new(None);
static ATEXIT: Once = Once::new();

extern "C" fn at_exit() {
    // Never unwind out of an atexit handler.
    let _ = std::panic::catch_unwind(|| {
        let _ = shutdown();
    });
}

fn register_atexit() {
    ATEXIT.call_once(|| {
        // SAFETY: `at_exit` is a plain extern "C" fn with no arguments that
        // catches every panic.
        unsafe { libc::atexit(at_exit) };
    });
}

/// Starts the global runtime from `config` text (or, when `None`, from
/// `RINGLOG_CONFIG` or the defaults), with the environment overrides.
///
/// # Errors
/// [`Error::State`] when one is already running; [`Error::Config`] when the
/// configuration is invalid; [`Error::Io`] when the ring directory or a sink cannot be
/// opened.
pub fn init(config: Option<&str>) -> Result<Runtime, Error> {
    let mut g = lock(&GLOBAL);
    if let Some((rt, _)) = g.as_ref() {
        if rt.is_running() {
            return Err(Error::State(
                "ringlog is already initialised; call shutdown first or use reconfigure".into(),
            ));
        }
    }
    let cfg = Config::load(config)?;
    let timeout = cfg.shutdown_timeout_ms;
    let rt = Runtime::start(cfg)?;
    *g = Some((rt.clone(), timeout));
    register_atexit();
    Ok(rt)
}

/// The global runtime, started with the defaults and environment if
/// nobody called [`init`]. After [`shutdown`] it returns the stopped
/// runtime, whose loggers refuse records.
///
/// # Errors
/// As [`init`].
pub fn get_or_init() -> Result<Runtime, Error> {
    {
        let g = lock(&GLOBAL);
        if let Some((rt, _)) = g.as_ref() {
            // In a fork child the inherited runtime belongs to the parent:
            // start a fresh one for the child instead.
            if !rt.is_forked() {
                return Ok(rt.clone());
            }
        }
    }
    match init(None) {
        Ok(rt) => Ok(rt),
        // Another thread won the race.
        Err(e) => lock(&GLOBAL).as_ref().map(|(rt, _)| rt.clone()).ok_or(e),
    }
}

/// The global runtime if one was started.
pub fn get() -> Option<Runtime> {
    lock(&GLOBAL).as_ref().map(|(rt, _)| rt.clone())
}

/// Recovers the dead instances under `ring_dir` (default: the global
/// runtime's own ring directory) through the global runtime's sinks,
/// waiting up to its `shutdown_timeout_ms`.
///
/// # Errors
/// [`Error::State`] when no runtime was started; otherwise as
/// [`Runtime::recover`].
pub fn recover(ring_dir: Option<&std::path::Path>) -> Result<crate::recover::Report, Error> {
    let cur = lock(&GLOBAL).clone();
    match cur {
        Some((rt, ms)) => rt.recover(ring_dir, Duration::from_millis(ms)),
        None => Err(Error::State("ringlog is not initialised".into())),
    }
}

/// Shuts the global runtime down (waiting up to its `shutdown_timeout_ms`).
///
/// # Errors
/// [`Error::Timeout`] as for [`Runtime::shutdown`].
pub fn shutdown() -> Result<(), Error> {
    let cur = lock(&GLOBAL).clone();
    match cur {
        Some((rt, ms)) => rt.shutdown(Duration::from_millis(ms)),
        None => Ok(()),
    }
}
