//! The addon's view of the process-wide runtime (`ringlog::global`).
//!
//! Every JS thread (the main thread and each worker) loads the addon into
//! the same process, so they all share one runtime: the one the core's
//! `global` module keeps, started by `configure` or, on the first record,
//! from `RINGLOG_CONFIG` and the defaults.
//!
//! Levels are decided on the JS side: a pino logger has its own level, a
//! child may set another one, and a call below it must return before it
//! reaches native code. The core's loggers share one level per name, so
//! the addon opens them all the way (`trace`) whenever it starts a runtime
//! and keeps the configuration's `level` and `levels` ([`level_for`]) as
//! the default level of a JS logger that sets none. Sink levels still
//! apply in the flusher.
//!
//! [`GENERATION`] changes whenever the runtime is replaced or stopped; a
//! logger slot whose core logger is older makes a new one
//! ([`crate::loggers`]).

use ringlog::{Config, Error, Level, Runtime};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Bumped whenever the runtime is replaced or stopped.
// Ordering: Relaxed everywhere: the runtime itself is handed over under
// `STATE`'s lock, which orders everything that matters; a slot that sees
// the new generation a moment late logs one more record into the old
// runtime, which refuses and counts it after a shutdown.
pub(crate) static GENERATION: AtomicU32 = AtomicU32::new(1);

/// What the addon keeps about the runtime.
#[derive(Debug, Default)]
struct State {
    /// The runtime loggers use, with the generation it was prepared for
    /// (levels opened to `trace`).
    prepared: Option<(u32, Runtime)>,
    /// The configuration whose `level` and `levels` give the JS loggers'
    /// default levels; loaded from the environment when nobody configured.
    config: Option<Config>,
    /// Why the runtime could not start, for the JS side's warning.
    last_error: Option<String>,
}

static STATE: Mutex<State> = Mutex::new(State {
    prepared: None,
    config: None,
    last_error: None,
});

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The change that opens every core logger: the JS side filters.
const OPEN_LEVELS: &str = r#"{"level": "trace", "levels": {}}"#;

/// Opens the levels of a runtime the addon is about to use.
fn prepare(rt: &Runtime) {
    if rt.is_running() {
        // Only level changes are in it; a runtime refuses them only when it
        // was inherited through fork(), and then it refuses records too.
        let _ = rt.reconfigure(OPEN_LEVELS);
    }
}

/// The current generation.
#[inline]
pub(crate) fn generation() -> u32 {
    // Ordering: Relaxed, see `GENERATION`.
    GENERATION.load(Ordering::Relaxed)
}

fn bump() -> u32 {
    // Ordering: Relaxed, see `GENERATION`.
    GENERATION.fetch_add(1, Ordering::Relaxed) + 1
}

/// The runtime for loggers of generation `generation`, started with the
/// defaults and the environment when nobody configured one.
///
/// # Errors
/// As `ringlog::global::get_or_init`; the message is also kept for
/// [`last_error`].
pub(crate) fn runtime() -> Result<(u32, Runtime), Error> {
    runtime_in(&mut state())
}

/// [`runtime`] under a lock of the state the caller already holds.
fn runtime_in(st: &mut State) -> Result<(u32, Runtime), Error> {
    let g = generation();
    if let Some((pg, rt)) = &st.prepared {
        if *pg == g {
            return Ok((g, rt.clone()));
        }
    }
    match ringlog::global::get_or_init() {
        Ok(rt) => {
            prepare(&rt);
            st.prepared = Some((g, rt.clone()));
            Ok((g, rt))
        }
        Err(e) => {
            st.last_error = Some(e.to_string());
            Err(e)
        }
    }
}

/// Starts the runtime from `text` (or `RINGLOG_CONFIG`, or the defaults),
/// shutting down the one running first.
///
/// # Errors
/// A configuration or I/O error from the core; the previous runtime is
/// stopped either way.
pub(crate) fn configure(text: Option<&str>) -> Result<(), Error> {
    let mut st = state();
    let config = Config::load(text)?;
    if let Some(rt) = ringlog::global::get() {
        if rt.is_running() {
            ringlog::global::shutdown()?;
        }
    }
    let r = match ringlog::global::init(text) {
        // Another thread started the defaults in between.
        Err(Error::State(_)) => {
            ringlog::global::shutdown()?;
            ringlog::global::init(text)
        }
        r => r,
    };
    let g = bump();
    match r {
        Ok(rt) => {
            prepare(&rt);
            st.prepared = Some((g, rt));
            st.config = Some(config);
            st.last_error = None;
            Ok(())
        }
        Err(e) => {
            st.prepared = None;
            st.last_error = Some(e.to_string());
            Err(e)
        }
    }
}

/// Shuts the runtime down, writing everything logged. Later records are
/// refused and counted until `configure` starts a new one.
///
/// # Errors
/// [`Error::Timeout`] when the flusher needs longer than the configured
/// `shutdown_timeout_ms`.
pub(crate) fn shutdown() -> Result<(), Error> {
    let r = ringlog::global::shutdown();
    let mut st = state();
    st.prepared = None;
    bump();
    r
}

/// Changes levels at run time from `text` (`level`, `levels`,
/// `sinks.<name>.level`), starting the default runtime first when none
/// runs, as a first record would. The JS loggers' default levels come
/// from the kept configuration, so `level` and `levels` change there (the
/// core's loggers stay open); sink levels go to the core.
///
/// # Errors
/// [`Error::Config`] naming a key that cannot change at run time, a bad
/// level or an unknown sink; nothing changes then.
pub(crate) fn reconfigure(text: &str) -> Result<(), Error> {
    let ch = ringlog::config::LevelChanges::parse(text)?;
    // One lock for all of it, so a `configure` on another thread comes
    // wholly before or after.
    let mut st = state();
    let (_, rt) = runtime_in(&mut st)?;
    config_in(&mut st)?;
    rt.reconfigure_levels(ringlog::config::LevelChanges {
        level: None,
        levels: None,
        sinks: ch.sinks,
    })?;
    let c = config_in(&mut st)?;
    if let Some(l) = ch.level {
        c.level = l;
    }
    if let Some(m) = ch.levels {
        c.levels = m.0;
    }
    // Ordering: Relaxed, as for `GENERATION`: JS threads only compare it.
    LEVELS.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Bumped by [`reconfigure`]: the JS loggers' default levels changed.
static LEVELS: AtomicU32 = AtomicU32::new(0);

/// What `emit()` reports to JS as the generation: it changes when the
/// runtime is replaced or the default levels change, and a JS thread that
/// sees it change reads its loggers' default levels again (so worker
/// threads follow a `reconfigure` made on another thread from their next
/// record).
#[inline]
pub(crate) fn reported_generation() -> u32 {
    // Ordering: Relaxed, see `LEVELS`.
    generation().wrapping_add(LEVELS.load(Ordering::Relaxed))
}

/// Writes out the records of dead instances under `ring_dir` (default:
/// the runtime's own ring directory) through the configured sinks,
/// starting the default runtime first when none runs.
///
/// # Errors
/// As `ringlog::global::recover`.
pub(crate) fn recover(
    ring_dir: Option<&std::path::Path>,
) -> Result<ringlog::recover::Report, Error> {
    runtime()?;
    ringlog::global::recover(ring_dir)
}

/// Waits until every record logged before the call is written, up to
/// `timeout`. Does nothing when no runtime runs.
///
/// # Errors
/// [`Error::Timeout`].
pub(crate) fn flush(timeout: Duration) -> Result<(), Error> {
    let Some(rt) = ringlog::global::get() else {
        return Ok(());
    };
    match rt.flush(timeout) {
        // After a shutdown everything was already written.
        Ok(()) | Err(Error::Shutdown) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The default level of a JS logger called `name`: the configuration's
/// `levels` (longest prefix) or `level`, with `RINGLOG_LEVEL` applied.
/// A configuration that does not load gives `info` (the error shows when
/// the runtime tries to start).
pub(crate) fn level_for(name: &str) -> Level {
    let mut st = state();
    match config_in(&mut st) {
        Ok(c) => c.level_for(name.as_bytes()),
        Err(e) => {
            st.last_error = Some(e.to_string());
            Level::INFO
        }
    }
}

/// The kept configuration, loaded from the environment when nobody
/// configured one.
///
/// # Errors
/// As [`Config::load`].
fn config_in(st: &mut State) -> Result<&mut Config, Error> {
    if st.config.is_none() {
        st.config = Some(Config::load(None)?);
    }
    Ok(st.config.as_mut().expect("just set"))
}

/// The configured `shutdown_timeout_ms`, for the exit paths.
pub(crate) fn shutdown_timeout() -> Duration {
    let st = state();
    let ms = st.config.as_ref().map_or(5000, |c| c.shutdown_timeout_ms);
    Duration::from_millis(ms)
}

/// The latest error starting the runtime, if any.
pub(crate) fn last_error() -> Option<String> {
    state().last_error.clone()
}
