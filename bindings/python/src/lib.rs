//! `ringlog._ringlog`: the Python extension module over the `ringlog` core.
//!
//! The binding uses the core's process-wide runtime (`ringlog::global`),
//! the same one the C ABI uses, so a Python program that also loads a C
//! library built on this crate would still have one runtime per copy of the
//! core. The pure-Python package `ringlog` (in `python/ringlog/`) re-exports
//! this module and adds the `logging.Handler` and the trace-context helper.
//!
//! Hot path: a level method resolves its cached core logger (one uncontended
//! mutex), checks the level, then converts the keyword arguments into Rust
//! memory and hands them to the core's record writer. The GIL stays held:
//! the call costs a few hundred nanoseconds at most. `flush`, `shutdown`,
//! `configure` and the first use of a logger release it while they wait.

mod convert;
mod handler;
mod logger;
mod trace;

use logger::{invalidate, PyLogger};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTimeoutError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::time::Duration;

create_exception!(
    _ringlog,
    RinglogError,
    PyException,
    "An error from the ringlog runtime (configuration, I/O, state)."
);

/// The Python exception for a core error.
pub(crate) fn runtime_error(e: &ringlog::Error) -> PyErr {
    match e {
        ringlog::Error::Timeout => PyTimeoutError::new_err(e.to_string()),
        _ => RinglogError::new_err(e.to_string()),
    }
}

/// Starts the process-wide runtime from a configuration: a dict, JSON
/// text, or None for `RINGLOG_CONFIG` or the defaults (the `RINGLOG_*`
/// environment overrides apply on top). A runtime already running is shut
/// down first (everything it was given is written), and every logger
/// moves to the new one.
#[pyfunction]
#[pyo3(signature = (config=None))]
fn configure(py: Python<'_>, config: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let text: Option<String> = match config {
        None => None,
        Some(c) if c.is_none() => None,
        Some(c) => {
            if let Ok(s) = c.cast::<PyString>() {
                Some(s.to_str()?.to_owned())
            } else if c.cast::<PyDict>().is_ok() {
                let dumped = py.import("json")?.call_method1("dumps", (c,))?;
                Some(dumped.extract::<String>()?)
            } else {
                return Err(PyTypeError::new_err(
                    "config must be a dict, a JSON string or None",
                ));
            }
        }
    };
    let r = py.detach(|| {
        if let Some(rt) = ringlog::global::get() {
            if rt.is_running() {
                ringlog::global::shutdown()?;
            }
        }
        match ringlog::global::init(text.as_deref()) {
            // A logger on another thread started the defaults meanwhile.
            Err(ringlog::Error::State(_)) => {
                ringlog::global::shutdown()?;
                ringlog::global::init(text.as_deref())
            }
            r => r,
        }
    });
    invalidate();
    r.map(|_| ()).map_err(|e| runtime_error(&e))
}

/// A logger called `name`. Nothing starts until it logs its first record.
#[pyfunction]
fn get_logger(name: &Bound<'_, PyString>) -> PyLogger {
    PyLogger::new(convert::str_lossy(name), Vec::new().into())
}

/// Waits until every record logged before the call is written, up to
/// `timeout` seconds (default 5). Does nothing when no runtime runs.
#[pyfunction]
#[pyo3(signature = (timeout=None))]
fn flush(py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
    let t = timeout.unwrap_or(5.0);
    if !(t.is_finite() && t >= 0.0) {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "timeout must be a finite number of seconds >= 0",
        ));
    }
    let Some(rt) = ringlog::global::get() else {
        return Ok(());
    };
    match py.detach(|| rt.flush(Duration::from_secs_f64(t))) {
        // After a shutdown everything was already written.
        Ok(()) | Err(ringlog::Error::Shutdown) => Ok(()),
        Err(e) => Err(runtime_error(&e)),
    }
}

/// Shuts the runtime down, writing everything logged (bounded by the
/// configuration's `shutdown_timeout_ms`). Later records are refused and
/// counted until `configure` starts a new runtime.
#[pyfunction]
fn shutdown(py: Python<'_>) -> PyResult<()> {
    let r = py.detach(ringlog::global::shutdown);
    invalidate();
    r.map_err(|e| runtime_error(&e))
}

/// The runtime's counters as a dict (all zero before it starts).
#[pyfunction]
fn stats(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let s = ringlog::global::get()
        .map(|rt| rt.stats())
        .unwrap_or_default();
    let d = PyDict::new(py);
    for (k, v) in s.pairs() {
        d.set_item(k, v)?;
    }
    Ok(d)
}

/// Changes levels while the runtime runs: JSON text such as
/// `{"level": "debug", "levels": {"payments": "warn"}, "sinks": {"app":
/// {"level": "error"}}}` (the Python wrapper turns a dict into it). Every
/// logger and call site follows at once; nothing restarts. With no
/// runtime running yet, the default one starts first, as on a first
/// record.
#[pyfunction]
fn reconfigure(py: Python<'_>, config: &str) -> PyResult<()> {
    py.detach(|| {
        ringlog::global::get_or_init()?;
        ringlog::global::reconfigure(config)
    })
    .map_err(|e| runtime_error(&e))
}

/// Writes out the records of dead ringlog instances (processes that were
/// killed or crashed) found under `ring_dir` (default: this runtime's own
/// ring directory) through the configured sinks, and returns what it
/// found. Instances whose process is alive are left alone; each recovered
/// instance is removed once its records are written. Starts the default
/// runtime first when none runs, as on a first record (which recovers its
/// own ring directory unless `recover_on_start` is false).
#[pyfunction]
#[pyo3(signature = (ring_dir=None))]
fn recover(py: Python<'_>, ring_dir: Option<std::path::PathBuf>) -> PyResult<Bound<'_, PyDict>> {
    if ring_dir.as_ref().is_some_and(|d| d.as_os_str().is_empty()) {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "ring_dir must not be empty",
        ));
    }
    let r = py.detach(|| {
        ringlog::global::get_or_init()?;
        ringlog::global::recover(ring_dir.as_deref())
    });
    let r = r.map_err(|e| runtime_error(&e))?;
    let d = PyDict::new(py);
    d.set_item("instances", r.instances)?;
    d.set_item("live", r.live)?;
    d.set_item("records", r.records)?;
    d.set_item("drop_reports", r.drop_reports)?;
    d.set_item("bad_frames", r.bad_frames)?;
    d.set_item("bad_files", r.bad_files)?;
    d.set_item("problems", r.problems)?;
    Ok(d)
}

/// The OpenTelemetry severity (1..24) for a stdlib `logging` level number:
/// DEBUG 10 → 5, INFO 20 → 9, WARNING 30 → 13, ERROR 40 → 17,
/// CRITICAL 50 → 21; numbers in between map proportionally into the band
/// (25 → 11), below 10 into TRACE (5 → 3), above 50 up to 24.
#[pyfunction]
fn stdlib_severity(levelno: i64) -> u8 {
    severity_of(levelno)
}

pub(crate) fn severity_of(levelno: i64) -> u8 {
    if levelno <= 0 {
        1
    } else if levelno >= 50 {
        // Clamped first: (levelno - 50) * 4 would overflow for huge levels.
        (21 + (levelno.min(100) - 50) * 4 / 10).min(24) as u8
    } else {
        (1 + 4 * (levelno / 10) + (levelno % 10) * 4 / 10) as u8
    }
}

/// Called in a fork child (`os.register_at_fork`): loggers drop the
/// parent's runtime and the child starts its own on its next record.
#[pyfunction]
fn _after_fork_in_child() {
    invalidate();
}

/// The extension module.
#[pymodule]
fn _ringlog(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PyLogger>()?;
    logger::install_level_methods(&py.get_type::<PyLogger>())?;
    m.add_class::<trace::PyTraceContext>()?;
    m.add_class::<handler::Handle>()?;
    handler::install_handle_method(&py.get_type::<handler::Handle>())?;
    m.add("RinglogError", py.get_type::<RinglogError>())?;
    m.add("TRACE_CONTEXT", trace::var(py)?.clone_ref(py))?;
    m.add("VERSION", ringlog::VERSION)?;
    m.add_function(wrap_pyfunction!(configure, m)?)?;
    m.add_function(wrap_pyfunction!(get_logger, m)?)?;
    m.add_function(wrap_pyfunction!(flush, m)?)?;
    m.add_function(wrap_pyfunction!(shutdown, m)?)?;
    m.add_function(wrap_pyfunction!(stats, m)?)?;
    m.add_function(wrap_pyfunction!(reconfigure, m)?)?;
    m.add_function(wrap_pyfunction!(recover, m)?)?;
    m.add_function(wrap_pyfunction!(stdlib_severity, m)?)?;
    m.add_function(wrap_pyfunction!(convert::set_default, m)?)?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    m.add(
        "_emit_log_record",
        wrap_pyfunction!(handler::emit_log_record, m)?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::severity_of;

    #[test]
    fn stdlib_levels_map_onto_the_otel_bands() {
        assert_eq!(severity_of(10), 5);
        assert_eq!(severity_of(20), 9);
        assert_eq!(severity_of(30), 13);
        assert_eq!(severity_of(40), 17);
        assert_eq!(severity_of(50), 21);
        assert_eq!(severity_of(25), 11);
        assert_eq!(severity_of(5), 3);
        assert_eq!(severity_of(0), 1);
        assert_eq!(severity_of(1000), 24);
    }
}
