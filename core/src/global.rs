//! The process-wide runtime that the C ABI and the language bindings use.
//!
//! `init` starts it; the first logger request starts it with the defaults
//! (and the environment) if nobody did; `shutdown` stops it, and it is also
//! stopped at process exit by an `atexit` handler so that everything logged
//! is written. After a shutdown, `init` may start a new one.

use crate::config::{Config, LevelChanges};
use crate::error::Error;
use crate::forklock::ForkLock;
use crate::runtime::Runtime;
use std::sync::Once;
use std::time::Duration;

/// The global runtime, its shutdown timeout, the configuration text it
/// was started from and the level changes made since through
/// [`reconfigure`] (a fork child starts its own runtime from both).
static GLOBAL: ForkLock<Option<Global>> = ForkLock::new(None);
static ATEXIT: Once = Once::new();

#[derive(Clone)]
struct Global {
    rt: Runtime,
    timeout_ms: u64,
    config: Option<String>,
    levels: Option<LevelChanges>,
}

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

/// `pthread_atfork` prepare handler: holds the global lock (then the
/// crash handler's set-up lock, the order `init` takes them in) across
/// `fork()`, so no other thread holds them when the child is copied.
pub(crate) fn before_fork() {
    GLOBAL.hold_for_fork();
    crate::crash::SETUP.hold_for_fork();
    crate::instance::LOCK_TABLE.hold_for_fork();
}

/// `pthread_atfork` parent and child handler: releases what
/// [`before_fork`] took (atomic stores, async-signal-safe).
pub(crate) fn after_fork() {
    crate::instance::LOCK_TABLE.release_after_fork();
    crate::crash::SETUP.release_after_fork();
    GLOBAL.release_after_fork();
}

/// Starts the global runtime from `config` text (or, when `None`, from
/// `RINGLOG_CONFIG` or the defaults), with the environment overrides.
///
/// # Errors
/// [`Error::State`] when one is already running; [`Error::Config`] when the
/// configuration is invalid; [`Error::Io`] when the ring directory or a sink cannot be
/// opened.
pub fn init(config: Option<&str>) -> Result<Runtime, Error> {
    let mut g = GLOBAL.lock();
    init_locked(&mut g, config, None)
}

fn init_locked(
    g: &mut Option<Global>,
    config: Option<&str>,
    levels: Option<LevelChanges>,
) -> Result<Runtime, Error> {
    if g.as_ref().is_some_and(|c| c.rt.is_forked()) {
        // Inherited through fork(): leaked, not dropped (its flusher thread
        // does not exist here, and nothing of it may touch the parent's
        // files).
        std::mem::forget(g.take());
    }
    if let Some(Global { rt, .. }) = g.as_ref() {
        if rt.is_running() {
            return Err(Error::State(
                "ringlog is already initialised; call shutdown first or use reconfigure".into(),
            ));
        }
    }
    let cfg = Config::load(config)?;
    let timeout_ms = cfg.shutdown_timeout_ms;
    let rt = Runtime::start(cfg)?;
    if let Some(l) = &levels {
        // They applied to the same configuration in the parent.
        let _ = rt.reconfigure_levels(l.clone());
    }
    crate::crash::global_started(&rt);
    *g = Some(Global {
        rt: rt.clone(),
        timeout_ms,
        config: config.map(str::to_owned),
        levels,
    });
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
    let mut g = GLOBAL.lock();
    let (config, levels) = match g.as_ref() {
        Some(cur) if !cur.rt.is_forked() => return Ok(cur.rt.clone()),
        // In a fork child the inherited runtime belongs to the parent:
        // start a fresh one for the child, from the same configuration
        // and level changes.
        Some(cur) => (cur.config.clone(), cur.levels.clone()),
        None => (None, None),
    };
    init_locked(&mut g, config.as_deref(), levels)
}

/// Changes the global runtime's levels ([`Runtime::reconfigure`]) and
/// keeps the change, so that a fork child's runtime starts with it too.
///
/// # Errors
/// [`Error::State`] when no runtime was started; otherwise as
/// [`Runtime::reconfigure`].
pub fn reconfigure(text: &str) -> Result<(), Error> {
    let mut g = GLOBAL.lock();
    let Some(cur) = g.as_mut() else {
        return Err(Error::State("ringlog is not initialised".into()));
    };
    let ch = LevelChanges::parse(text)?;
    cur.rt.reconfigure_levels(ch.clone())?;
    cur.levels
        .get_or_insert_with(LevelChanges::default)
        .then(ch);
    Ok(())
}

/// The global runtime if one was started.
pub fn get() -> Option<Runtime> {
    GLOBAL.lock().as_ref().map(|c| c.rt.clone())
}

/// Recovers the dead instances under `ring_dir` (default: the global
/// runtime's own ring directory) through the global runtime's sinks,
/// waiting up to its `shutdown_timeout_ms`.
///
/// # Errors
/// [`Error::State`] when no runtime was started; otherwise as
/// [`Runtime::recover`].
pub fn recover(ring_dir: Option<&std::path::Path>) -> Result<crate::recover::Report, Error> {
    let cur = GLOBAL.lock().clone();
    match cur {
        Some(c) => c.rt.recover(ring_dir, Duration::from_millis(c.timeout_ms)),
        None => Err(Error::State("ringlog is not initialised".into())),
    }
}

/// Shuts the global runtime down (waiting up to its `shutdown_timeout_ms`).
///
/// # Errors
/// [`Error::Timeout`] as for [`Runtime::shutdown`].
pub fn shutdown() -> Result<(), Error> {
    let cur = GLOBAL.lock().clone();
    match cur {
        Some(c) => c.rt.shutdown(Duration::from_millis(c.timeout_ms)),
        None => Ok(()),
    }
}
