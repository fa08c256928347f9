//! The process-wide runtime that the C ABI and the language bindings use.
//!
//! `init` starts it; the first logger request starts it with the defaults
//! (and the environment) if nobody did; `shutdown` stops it, and it is also
//! stopped at process exit by an `atexit` handler so that everything logged
//! is written. After a shutdown, `init` may start a new one.

use crate::config::Config;
use crate::error::Error;
use crate::runtime::Runtime;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;
use std::time::Duration;

/// The global runtime, its shutdown timeout, and the configuration text
/// it was started from (a fork child starts its own runtime from it).
static GLOBAL: ForkLock<Option<Global>> = ForkLock::new(None);
static ATEXIT: Once = Once::new();

/// A lock that `fork()` can never leave held in the child.
///
/// The `pthread_atfork` prepare handler takes it, so no other thread holds
/// it at the moment of the fork, and both the parent and the child handler
/// release it with one store: no waiter queue, no hand-off to a thread
/// that does not exist in the child, nothing that is not
/// async-signal-safe. The owner is the locking thread's id, so a thread
/// that forks while holding it (from a signal handler, say) does not wait
/// for itself. Waiters yield, then sleep briefly: the lock guards start,
/// shutdown and look-ups of the global runtime, never the logging path.
struct ForkLock<T> {
    owner: AtomicU64,
    /// Set by the prepare handler when the forking thread already held the
    /// lock, so the fork handlers leave it as it was.
    reentered: AtomicU64,
    value: UnsafeCell<T>,
}

// SAFETY: `value` is only reached through a `ForkGuard`, which exists only
// while `owner` names the thread holding it (mutual exclusion).
unsafe impl<T: Send> Sync for ForkLock<T> {}

struct ForkGuard<'a, T>(&'a ForkLock<T>);

fn this_thread() -> u64 {
    // OS thread ids are never 0.
    crate::os::thread_id()
}

impl<T> ForkLock<T> {
    const fn new(v: T) -> Self {
        ForkLock {
            owner: AtomicU64::new(0),
            reentered: AtomicU64::new(0),
            value: UnsafeCell::new(v),
        }
    }

    fn try_take(&self, me: u64) -> bool {
        // Ordering: Acquire pairs with the Release store that unlocks, so
        // the previous holder's writes to `value` are visible.
        self.owner
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    fn lock(&self) -> ForkGuard<'_, T> {
        let me = this_thread();
        let mut spins = 0u32;
        while !self.try_take(me) {
            spins += 1;
            if spins < 64 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
        ForkGuard(self)
    }

    /// Releases the lock by a plain store (also used in a fork child,
    /// where the holder is the one thread that forked).
    fn release(&self) {
        // Ordering: Release publishes the holder's writes to `value`.
        self.owner.store(0, Ordering::Release);
    }
}

impl<T> std::ops::Deref for ForkGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock.
        unsafe { &*self.0.value.get() }
    }
}

impl<T> std::ops::DerefMut for ForkGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the lock, so no other reference exists.
        unsafe { &mut *self.0.value.get() }
    }
}

impl<T> Drop for ForkGuard<'_, T> {
    fn drop(&mut self) {
        self.0.release();
    }
}

#[derive(Clone)]
struct Global {
    rt: Runtime,
    timeout_ms: u64,
    config: Option<String>,
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

/// `pthread_atfork` prepare handler: holds the global lock across `fork()`
/// so that no other thread holds it at the moment the child is copied.
pub(crate) fn before_fork() {
    let me = this_thread();
    // Ordering: Relaxed: only this thread compares `owner` with itself.
    if GLOBAL.owner.load(Ordering::Relaxed) == me {
        // Forking while holding it: leave it to the holder.
        GLOBAL.reentered.store(1, Ordering::Relaxed);
        return;
    }
    std::mem::forget(GLOBAL.lock());
}

/// `pthread_atfork` parent and child handler: releases the lock
/// [`before_fork`] took (one atomic store, async-signal-safe).
pub(crate) fn after_fork() {
    // Ordering: Relaxed: written by this same thread in `before_fork`.
    if GLOBAL.reentered.swap(0, Ordering::Relaxed) == 0 {
        GLOBAL.release();
    }
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
    init_locked(&mut g, config)
}

fn init_locked(g: &mut Option<Global>, config: Option<&str>) -> Result<Runtime, Error> {
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
    crate::crash::global_started(&rt);
    *g = Some(Global {
        rt: rt.clone(),
        timeout_ms,
        config: config.map(str::to_owned),
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
    let config = match g.as_ref() {
        Some(cur) if !cur.rt.is_forked() => return Ok(cur.rt.clone()),
        // In a fork child the inherited runtime belongs to the parent:
        // start a fresh one for the child, from the same configuration.
        Some(cur) => cur.config.clone(),
        None => None,
    };
    init_locked(&mut g, config.as_deref())
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
