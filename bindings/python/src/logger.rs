//! `ringlog.Logger`: a named logger, with bound fields for children.
//!
//! A Python logger is made without starting anything (`get_logger` at
//! import time is the usual idiom, before `configure`). It finds its core
//! logger on first use and keeps it until the process-wide runtime changes
//! (`configure`, `shutdown`, a fork), which [`GENERATION`] tells it.

use crate::convert::{self, OwnedField, OwnedValue};
use crate::{runtime_error, trace};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use ringlog::Level;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Bumped whenever the process-wide runtime is replaced or stopped, and in
/// a fork child; a logger whose cached core logger is older looks again.
// Ordering: Relaxed everywhere: the runtime itself is found under the
// core's global lock, which orders everything that matters; a logger that
// sees the new generation a moment late logs one more record into the old
// runtime, which refuses and counts it after a shutdown.
pub(crate) static GENERATION: AtomicU64 = AtomicU64::new(1);

/// Marks every logger's cached core logger as stale.
pub(crate) fn invalidate() {
    // Ordering: Relaxed, see `GENERATION`.
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

#[derive(Debug, Default)]
struct Cache {
    generation: u64,
    logger: Option<ringlog::Logger>,
}

/// A logger: `get_logger(name)`, or a child made by `bind(**fields)`.
#[pyclass(frozen, module = "ringlog._ringlog", name = "Logger")]
#[derive(Debug)]
pub(crate) struct PyLogger {
    name: String,
    /// Bound fields, the parent's first.
    bound: Arc<[OwnedField]>,
    /// The core logger for the current generation. Never held while
    /// Python code runs or while the GIL is released.
    cache: Mutex<Cache>,
}

impl PyLogger {
    pub(crate) fn new(name: String, bound: Arc<[OwnedField]>) -> Self {
        PyLogger {
            name,
            bound,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The core logger, found (and the runtime started) on first use.
    #[inline]
    fn resolve(&self, py: Python<'_>) -> PyResult<ringlog::Logger> {
        // Ordering: Relaxed, see `GENERATION`.
        let generation = GENERATION.load(Ordering::Relaxed);
        {
            let c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if c.generation == generation {
                if let Some(l) = &c.logger {
                    return Ok(l.clone());
                }
            }
        }
        self.resolve_slow(py, generation)
    }

    #[cold]
    fn resolve_slow(&self, py: Python<'_>, generation: u64) -> PyResult<ringlog::Logger> {
        let name = self.name.as_str();
        let bound = self.bound.clone();
        // Starting the runtime may recover dead instances: not with the GIL.
        let l = py
            .detach(move || -> Result<ringlog::Logger, ringlog::Error> {
                let rt = ringlog::global::get_or_init()?;
                let root = rt.logger(name);
                if bound.is_empty() {
                    Ok(root)
                } else {
                    root.child(&bound[..])
                }
            })
            .map_err(|e| runtime_error(&e))?;
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        *c = Cache {
            generation,
            logger: Some(l.clone()),
        };
        Ok(l)
    }

    /// Converts the fields and logs; a record below the level returns
    /// before any conversion. Drops and refusals are counted in `stats()`,
    /// not raised.
    fn emit(
        &self,
        py: Python<'_>,
        level: Level,
        ts_ns: u64,
        msg: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
        exception: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let l = self.resolve(py)?;
        if !l.enabled(level) {
            return Ok(());
        }
        let msg = match msg.cast_exact::<PyString>() {
            Ok(s) => convert::str_lossy(s),
            Err(_) => convert::text(msg),
        };
        let mut path = Vec::new();
        let mut owned = match fields {
            Some(d) if !d.is_empty() => convert::dict_fields(d, 0, &mut path),
            _ => Vec::new(),
        };
        if let Some(e) = exception {
            owned.push(OwnedField::new(
                "exception",
                OwnedValue::Group(convert::exception_fields(e)),
            ));
        }
        let ctx = trace::current(py);
        // Refused records are counted by the core (`stats()`); logging
        // never raises for them.
        let _ = l.log_with(level, ts_ns, ctx.as_ref(), msg.as_bytes(), &owned);
        Ok(())
    }
}

/// A level given as a name (`"info"`, `"warning"`, `"info2"`) or an
/// OpenTelemetry severity number 1..24.
pub(crate) fn parse_level(level: &Bound<'_, PyAny>) -> PyResult<Level> {
    if let Ok(n) = level.extract::<i64>() {
        return u8::try_from(n)
            .ok()
            .and_then(Level::from_number)
            .ok_or_else(|| PyValueError::new_err(format!("level number {n} is outside 1..=24")));
    }
    if let Ok(s) = level.cast::<PyString>() {
        return Level::parse(&convert::str_lossy(s)).map_err(PyValueError::new_err);
    }
    Err(PyTypeError::new_err(
        "level must be a name such as \"info\" or a severity number 1..24",
    ))
}

/// The current exception (`sys.exc_info()[1]`), if one is being handled.
fn current_exception(py: Python<'_>) -> Option<Bound<'_, PyAny>> {
    let info = py.import("sys").ok()?.call_method0("exc_info").ok()?;
    let e = info.get_item(1).ok()?;
    (!e.is_none()).then_some(e)
}

#[pymethods]
impl PyLogger {
    /// The logger's name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// Logs at a level given by name or severity number.
    #[pyo3(signature = (level, msg, /, **fields))]
    fn log(
        &self,
        py: Python<'_>,
        level: &Bound<'_, PyAny>,
        msg: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let level = parse_level(level)?;
        self.emit(py, level, 0, msg, fields, None)
    }

    /// Logs at TRACE (severity 1).
    #[pyo3(signature = (msg, /, **fields))]
    fn trace(
        &self,
        py: Python<'_>,
        msg: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(py, Level::TRACE, 0, msg, fields, None)
    }

    /// Logs at DEBUG (severity 5).
    #[pyo3(signature = (msg, /, **fields))]
    fn debug(
        &self,
        py: Python<'_>,
        msg: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(py, Level::DEBUG, 0, msg, fields, None)
    }

    /// Logs at INFO (severity 9).
    #[pyo3(signature = (msg, /, **fields))]
    fn info(
        &self,
        py: Python<'_>,
        msg: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(py, Level::INFO, 0, msg, fields, None)
    }

    /// Logs at WARN (severity 13).
    #[pyo3(signature = (msg, /, **fields))]
    fn warning(
        &self,
        py: Python<'_>,
        msg: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(py, Level::WARN, 0, msg, fields, None)
    }

    /// Logs at WARN (severity 13); the same as `warning`.
    #[pyo3(signature = (msg, /, **fields))]
    fn warn(
        &self,
        py: Python<'_>,
        msg: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(py, Level::WARN, 0, msg, fields, None)
    }

    /// Logs at ERROR (severity 17).
    #[pyo3(signature = (msg, /, **fields))]
    fn error(
        &self,
        py: Python<'_>,
        msg: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(py, Level::ERROR, 0, msg, fields, None)
    }

    /// Logs at FATAL (severity 21).
    #[pyo3(signature = (msg, /, **fields))]
    fn critical(
        &self,
        py: Python<'_>,
        msg: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(py, Level::FATAL, 0, msg, fields, None)
    }

    /// Logs at FATAL (severity 21); the same as `critical`.
    #[pyo3(signature = (msg, /, **fields))]
    fn fatal(
        &self,
        py: Python<'_>,
        msg: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(py, Level::FATAL, 0, msg, fields, None)
    }

    /// Logs at ERROR with the exception being handled as an `exception`
    /// field (`type`, `message`, `traceback`).
    #[pyo3(signature = (msg, /, **fields))]
    fn exception(
        &self,
        py: Python<'_>,
        msg: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let l = self.resolve(py)?;
        if !l.enabled(Level::ERROR) {
            return Ok(());
        }
        let exc = current_exception(py);
        self.emit(py, Level::ERROR, 0, msg, fields, exc.as_ref())
    }

    /// Logs with an explicit timestamp (ns since the Unix epoch, 0 for
    /// now) and a dict of fields; used by `ringlog.Handler`.
    #[pyo3(signature = (level, ts_ns, msg, fields=None))]
    fn _log_at(
        &self,
        py: Python<'_>,
        level: &Bound<'_, PyAny>,
        ts_ns: u64,
        msg: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let level = parse_level(level)?;
        self.emit(py, level, ts_ns, msg, fields, None)
    }

    /// A child logger with `fields` bound to every record it logs.
    #[pyo3(signature = (**fields))]
    fn bind(&self, fields: Option<&Bound<'_, PyDict>>) -> PyLogger {
        let mut bound: Vec<OwnedField> = self.bound.to_vec();
        if let Some(d) = fields {
            bound.extend(convert::dict_fields(d, 0, &mut Vec::new()));
        }
        PyLogger::new(self.name.clone(), bound.into())
    }

    /// True when a record at `level` would be logged.
    fn is_enabled(&self, py: Python<'_>, level: &Bound<'_, PyAny>) -> PyResult<bool> {
        let level = parse_level(level)?;
        Ok(self.resolve(py)?.enabled(level))
    }

    fn __repr__(&self) -> String {
        format!("<ringlog.Logger {:?}>", self.name)
    }
}
