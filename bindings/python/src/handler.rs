//! The body of `ringlog.Handler.emit`: one stdlib `LogRecord` to one
//! ringlog record, in one call from Python.
//!
//! The mapping (documented on the Python class): the logger named
//! `record.name`, `levelno` through [`severity_of`], `created` as the
//! timestamp, `getMessage()` as the message, every attribute that is not
//! a standard `LogRecord` one (the `extra=` keys) as a field, then
//! `exception` from `exc_info`, `stack_info`, and with `call_site` the
//! `pathname`, `lineno` and `funcName` fields. A later field replaces an
//! earlier one of the same key in place, as assigning into a dict does.

use crate::convert::{self, Field, FieldValue, OwnedValue};
use crate::logger::PyLogger;
use crate::{severity_of, trace};
use pyo3::exceptions::{PyException, PyRecursionError, PyValueError};
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFrozenSet, PyString, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};
use ringlog::Level;
use smallvec::SmallVec;
use std::borrow::Cow;

/// Fields held on the stack for the usual few `extra=` keys.
const INLINE: usize = 8;

/// `logging.LogRecord`, for the `getMessage` shortcut.
static LOG_RECORD: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Writes `record` through the ringlog logger of its name (made once and
/// kept in `loggers`, keyed by name). `standard` holds the attribute names
/// that are not fields.
///
/// # Errors
/// Whatever reading the record raises (a `%` format that does not match
/// its arguments, say); the handler passes it to `handleError`.
#[pyfunction]
#[pyo3(signature = (record, loggers, standard, call_site))]
pub(crate) fn emit_log_record(
    py: Python<'_>,
    record: &Bound<'_, PyAny>,
    loggers: &Bound<'_, PyDict>,
    standard: &Bound<'_, PyFrozenSet>,
    call_site: bool,
) -> PyResult<()> {
    let plain = record.get_type().is(log_record_type(py)?);
    let attrs = if plain {
        // `LogRecord` keeps its attributes in a plain instance dict; this
        // is what its `__dict__` attribute returns, without looking the
        // descriptor up on the type.
        // SAFETY: `record` is a live object and the GIL is held; the
        // result is a new reference or NULL with an exception set.
        unsafe {
            Bound::from_owned_ptr_or_err(
                py,
                ffi::PyObject_GenericGetDict(record.as_ptr(), std::ptr::null_mut()),
            )?
        }
    } else {
        record.getattr(intern!(py, "__dict__"))?
    }
    .cast_into::<PyDict>()?;
    let found = if plain {
        plain_parts(py, &attrs, standard)?
    } else {
        None
    };
    let parts = match found {
        Some(p) => p,
        None => Parts::read(py, record, plain, &attrs, standard)?,
    };
    let log = match loggers.get_item(&parts.name)? {
        Some(l) => l.cast_into::<PyLogger>()?,
        None => {
            let fresh = Bound::new(
                py,
                PyLogger::new(convert::text(&parts.name), Vec::new().into()),
            )?;
            // setdefault: two threads meeting a new name share one logger.
            loggers
                .call_method1(intern!(py, "setdefault"), (&parts.name, fresh))?
                .cast_into::<PyLogger>()?
        }
    };
    let levelno: i64 = parts.levelno.extract()?;
    let level = Level::from_number(severity_of(levelno)).unwrap_or(Level::INFO);
    let core = log.get().resolve(py)?;
    if !core.enabled(level) {
        return Ok(());
    }
    let ts_ns = created_ns(parts.created.extract()?)?;
    // `record.getMessage()` is `msg` itself for a plain `LogRecord` whose
    // `msg` is a str and whose `args` are empty.
    let plain_msg =
        parts.plain && parts.msg.is_exact_instance_of::<PyString>() && !parts.args.is_truthy()?;
    // Such a record with nothing but `extra=` fields can go through a call
    // site of its shape (message and key objects, level, value kinds), as
    // the direct path's calls do: only the values are written.
    if plain_msg
        && !call_site
        && parts.exc_info.is_none()
        && parts.stack_info.is_none()
        && log
            .get()
            .record_site_call(py, level, ts_ns, &parts.msg, &parts.extra)?
            .is_some()
    {
        return Ok(());
    }
    // The message borrowed, without the call, when it is `msg` itself.
    let msg: Cow<'_, str> = if plain_msg {
        convert::call_text(&parts.msg)
    } else {
        Cow::Owned(convert::text(
            &record.call_method0(intern!(py, "getMessage"))?,
        ))
    };

    let mut fields: SmallVec<[Field<'_>; INLINE]> = SmallVec::with_capacity(parts.extra.len() + 1);
    for (k, v) in &parts.extra {
        fields.push(Field {
            key: convert::call_text(k),
            value: convert::call_value(v),
        });
    }

    let exc_info = &parts.exc_info;
    if exc_info.is_truthy()? {
        let value = exc_info.get_item(1)?;
        if !value.is_none() {
            set(
                &mut fields,
                "exception",
                convert::value(&value, 0, &mut Vec::new()),
            );
        } else {
            let ty = exc_info.get_item(0)?;
            if !ty.is_none() {
                let type_name = convert::text(&ty.getattr(intern!(py, "__name__"))?);
                set(
                    &mut fields,
                    "exception",
                    FieldValue::Group(vec![Field {
                        key: Cow::Borrowed("type"),
                        value: FieldValue::Str(Cow::Owned(type_name)),
                    }]),
                );
            }
        }
    }
    if parts.stack_info.is_truthy()? {
        set(
            &mut fields,
            "stack_info",
            convert::value(&parts.stack_info, 0, &mut Vec::new()),
        );
    }
    if call_site {
        for key in ["pathname", "lineno", "funcName"] {
            let v = record.getattr(key)?;
            set(&mut fields, key, convert::value(&v, 0, &mut Vec::new()));
        }
    }

    let ctx = trace::current(py);
    // Refused records are counted by the core (`stats()`); logging never
    // raises for them.
    let _ = core.log_with(level, ts_ns, ctx.as_ref(), msg.as_bytes(), &fields);
    Ok(())
}

/// What the handler reads of a record.
struct Parts<'py> {
    name: Bound<'py, PyAny>,
    levelno: Bound<'py, PyAny>,
    created: Bound<'py, PyAny>,
    msg: Bound<'py, PyAny>,
    args: Bound<'py, PyAny>,
    exc_info: Bound<'py, PyAny>,
    stack_info: Bound<'py, PyAny>,
    /// Whether `msg` and `args` are a plain `LogRecord`'s (no subclass
    /// `getMessage` to honour).
    plain: bool,
    /// The `extra=` keys and their values, in the record's order.
    extra: SmallVec<[(Bound<'py, PyAny>, Bound<'py, PyAny>); INLINE]>,
}

impl<'py> Parts<'py> {
    /// Reads a record of any class through its attributes: the `extra=`
    /// keys are everything in its `__dict__` (`attrs`) that a plain
    /// `LogRecord` does not have (`standard`). `plain`: the record is of
    /// class `LogRecord` itself.
    fn read(
        py: Python<'py>,
        record: &Bound<'py, PyAny>,
        plain: bool,
        attrs: &Bound<'py, PyDict>,
        standard: &Bound<'py, PyFrozenSet>,
    ) -> PyResult<Self> {
        // Only a str subclass key's `__hash__` or `__eq__` (in `contains`)
        // could run Python code during the walk; if it changed the dict,
        // the iterator would stop with an error, not read freed memory.
        let mut extra = SmallVec::new();
        for (k, v) in attrs.iter() {
            if !standard.contains(&k)? {
                extra.push((k, v));
            }
        }
        Ok(Parts {
            name: record.getattr(intern!(py, "name"))?,
            levelno: record.getattr(intern!(py, "levelno"))?,
            created: record.getattr(intern!(py, "created"))?,
            msg: record.getattr(intern!(py, "msg"))?,
            args: record.getattr(intern!(py, "args"))?,
            exc_info: record.getattr(intern!(py, "exc_info"))?,
            stack_info: record.getattr(intern!(py, "stack_info"))?,
            plain,
            extra,
        })
    }
}

/// The attribute names a plain `LogRecord.__init__` stores, in its order,
/// and where the handler's are among them.
struct Layout {
    keys: Vec<Py<PyString>>,
    /// For each key, its place in [`WANTED_NAMES`] when the handler reads it.
    wanted: Vec<Option<u8>>,
}

/// The attributes [`Parts`] holds, in its order.
const WANTED_NAMES: [&str; WANTED] = [
    "name",
    "levelno",
    "created",
    "msg",
    "args",
    "exc_info",
    "stack_info",
];
const WANTED: usize = 7;

static LAYOUT: PyOnceLock<Option<Layout>> = PyOnceLock::new();

/// The layout of a plain `LogRecord`'s `__dict__`, learnt from one made
/// here; `None` if it lacks an attribute the handler reads.
fn layout(py: Python<'_>) -> PyResult<Option<&Layout>> {
    let l = LAYOUT.get_or_try_init(py, || -> PyResult<Option<Layout>> {
        let rec = log_record_type(py)?.call1(("", 20, "", 0, "", PyTuple::empty(py), py.None()))?;
        let d = rec.getattr("__dict__")?.cast_into::<PyDict>()?;
        let mut keys = Vec::with_capacity(d.len());
        for (k, _) in d.iter() {
            keys.push(k.cast_into::<PyString>()?.unbind());
        }
        let mut wanted = vec![None; keys.len()];
        for (w, name) in WANTED_NAMES.iter().enumerate() {
            let Some(i) = keys
                .iter()
                .position(|k| k.bind(py).to_str().is_ok_and(|s| s == *name))
            else {
                return Ok(None);
            };
            wanted[i] = Some(w as u8);
        }
        Ok(Some(Layout { keys, wanted }))
    })?;
    Ok(l.as_ref())
}

/// The fast way to [`Parts`], for a record of class `LogRecord` itself (the
/// caller checks) whose `__dict__` starts with the attributes `__init__`
/// stores, as the very same key objects in the same order (the usual
/// record): the values
/// are taken by position in one walk, with no attribute lookups, and only
/// the keys after them are checked against `standard` (a formatter adds
/// `message` and `asctime` there). `None` for any other record.
fn plain_parts<'py>(
    py: Python<'py>,
    attrs: &Bound<'py, PyDict>,
    standard: &Bound<'py, PyFrozenSet>,
) -> PyResult<Option<Parts<'py>>> {
    let Some(l) = layout(py)? else {
        return Ok(None);
    };
    let n = l.keys.len();
    let mut vals: [Option<Bound<'py, PyAny>>; WANTED] = Default::default();
    let mut extra = SmallVec::new();
    let mut i = 0usize;
    let mut pos: ffi::Py_ssize_t = 0;
    let mut k: *mut ffi::PyObject = std::ptr::null_mut();
    let mut v: *mut ffi::PyObject = std::ptr::null_mut();
    // PyDict_Next checks its position against the dict's current table and
    // writes borrowed references to a key and value into the out-pointers.
    // Each is turned into an owned `Bound` (a new reference) before
    // anything else runs. Python code can run later in the walk (a str
    // subclass key's `__eq__` in `standard.contains`) and change the dict;
    // the walk then sees some entries twice or not at all, as any dict walk
    // would, but every reference it holds is owned.
    // SAFETY: `attrs` is a dict (checked by the cast) held alive by the
    // borrow, the GIL is held, and the out-pointers are valid locals.
    while unsafe { ffi::PyDict_Next(attrs.as_ptr(), &mut pos, &mut k, &mut v) } != 0 {
        if i < n {
            if k != l.keys[i].as_ptr() {
                return Ok(None);
            }
            if let Some(w) = l.wanted[i] {
                // SAFETY: `v` is a valid borrowed reference (above).
                vals[w as usize] = Some(unsafe { Bound::from_borrowed_ptr(py, v) });
            }
        } else {
            // SAFETY: as above, for both.
            let (key, val) = unsafe {
                (
                    Bound::from_borrowed_ptr(py, k),
                    Bound::from_borrowed_ptr(py, v),
                )
            };
            if !standard.contains(&key)? {
                extra.push((key, val));
            }
        }
        i += 1;
    }
    if i < n {
        return Ok(None);
    }
    // Every wanted key is among the first `n`, all of which were seen.
    let [name, levelno, created, msg, args, exc_info, stack_info] =
        vals.map(|v| v.unwrap_or_else(|| py.None().into_bound(py)));
    Ok(Some(Parts {
        name,
        levelno,
        created,
        msg,
        args,
        exc_info,
        stack_info,
        plain: true,
        extra,
    }))
}

/// `Handler.handle` for a `ringlog.Handler` whose class keeps the stock
/// `handle`, `emit` and `filter`: installed on the instance, so
/// `Logger.callHandlers` calls straight into Rust. It does what the
/// Python methods do: the handler's filters (when it has any), then the
/// record, with an error that is an `Exception` (other than
/// `RecursionError`) passed to `handleError` through `on_error`.
#[pyclass(frozen, module = "ringlog._ringlog", name = "_Handle")]
pub(crate) struct Handle {
    handler: Py<PyAny>,
    loggers: Py<PyDict>,
    standard: Py<PyFrozenSet>,
    /// `on_error(handler, record, exc)`: raises `exc` inside an `except`
    /// block and calls `handler.handleError(record)` there, so the stdlib's
    /// report sees the exception as being handled.
    on_error: Py<PyAny>,
}

#[pymethods]
impl Handle {
    #[new]
    fn new(
        handler: Py<PyAny>,
        loggers: Py<PyDict>,
        standard: Py<PyFrozenSet>,
        on_error: Py<PyAny>,
    ) -> Self {
        Handle {
            handler,
            loggers,
            standard,
            on_error,
        }
    }

    /// The handler's `handle(record)`. A method, not `__call__`: the
    /// instance attribute is this method bound to the `_Handle`, which
    /// CPython calls through vectorcall, with no argument tuple.
    fn handle<'py>(
        &self,
        py: Python<'py>,
        record: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let h = self.handler.bind(py);
        let dict = self.instance_dict(py);
        let mut record = record;
        let mut rv = PyBool::new(py, true).to_owned().into_any();
        if self
            .attr(dict.as_ref(), intern!(py, "filters"))?
            .is_truthy()?
        {
            rv = h.call_method1(intern!(py, "filter"), (&record,))?;
            if !rv.is_truthy()? {
                return Ok(rv);
            }
            // Since Python 3.12 a filter may return a replacement record.
            if rv.is_instance(log_record_type(py)?)? {
                record = rv.clone();
            }
        }
        // `emit` reads `call_site` inside its `try`: so does this.
        let done = self
            .attr(dict.as_ref(), intern!(py, "call_site"))
            .and_then(|v| v.is_truthy())
            .and_then(|call_site| {
                emit_log_record(
                    py,
                    &record,
                    self.loggers.bind(py),
                    self.standard.bind(py),
                    call_site,
                )
            });
        if let Err(e) = done {
            if !e.is_instance_of::<PyException>(py) || e.is_instance_of::<PyRecursionError>(py) {
                return Err(e);
            }
            self.on_error
                .bind(py)
                .call1((h, &record, e.into_value(py)))?;
        }
        Ok(rv)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.handler)?;
        visit.call(&self.loggers)?;
        visit.call(&self.standard)?;
        visit.call(&self.on_error)
    }
}

impl Handle {
    /// The handler's instance `__dict__` as it is now (it may have been
    /// replaced), where `filters` and `call_site` live: the Python side
    /// installs this `handle` only for classes that do not make either a
    /// data descriptor. `None` if it cannot be had.
    fn instance_dict<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyDict>> {
        // A NULL result comes with an exception set: it is cleared, and
        // the attribute lookup in `attr` then decides.
        // SAFETY: the handler is a live object and the GIL is held; the
        // result is a new reference or NULL.
        let d = unsafe {
            Bound::from_owned_ptr_or_opt(
                py,
                ffi::PyObject_GenericGetDict(self.handler.as_ptr(), std::ptr::null_mut()),
            )
        };
        if d.is_none() {
            drop(PyErr::take(py));
        }
        d?.cast_into::<PyDict>().ok()
    }

    /// The handler's attribute `name`: from its instance dict (a dict
    /// lookup instead of an attribute lookup), or, when it is not there
    /// (say deleted), through the usual lookup, which raises the usual
    /// error.
    fn attr<'py>(
        &self,
        dict: Option<&Bound<'py, PyDict>>,
        name: &Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(d) = dict {
            if let Some(v) = d.get_item(name)? {
                return Ok(v);
            }
        }
        self.handler.bind(name.py()).getattr(name)
    }
}

/// Replaces the field `key` in place, or appends it.
fn set<'a>(fields: &mut SmallVec<[Field<'a>; INLINE]>, key: &'static str, value: OwnedValue) {
    match fields.iter_mut().find(|f| f.key == key) {
        Some(f) => f.value = value,
        None => fields.push(Field {
            key: Cow::Borrowed(key),
            value,
        }),
    }
}

/// `logging.LogRecord`.
fn log_record_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    Ok(LOG_RECORD
        .get_or_try_init(py, || -> PyResult<Py<PyType>> {
            Ok(py
                .import("logging")?
                .getattr("LogRecord")?
                .cast_into::<PyType>()?
                .unbind())
        })?
        .bind(py))
}

/// `created` (float seconds) as ns since the epoch. Whole seconds apart
/// from the fraction: `created * 1e9` as one float would lose the last
/// digits (1700000000.25 gives ...249999872).
fn created_ns(created: f64) -> PyResult<u64> {
    if !(0.0..1.8e10).contains(&created) {
        return Err(PyValueError::new_err(format!(
            "LogRecord.created is not a time ringlog can write: {created}"
        )));
    }
    let secs = created.trunc();
    let frac = ((created - secs) * 1e9).round_ties_even();
    Ok(secs as u64 * 1_000_000_000 + frac as u64)
}

#[cfg(test)]
mod tests {
    use super::created_ns;

    #[test]
    fn created_keeps_its_fraction_exact() {
        assert_eq!(
            created_ns(1_700_000_000.25).unwrap(),
            1_700_000_000_250_000_000
        );
        assert_eq!(created_ns(0.0).unwrap(), 0);
        assert!(created_ns(-1.0).is_err());
        assert!(created_ns(f64::NAN).is_err());
        assert!(created_ns(f64::INFINITY).is_err());
    }
}
