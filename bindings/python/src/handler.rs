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
use pyo3::exceptions::{PyException, PyOverflowError, PyRecursionError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFrozenSet, PyString, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};
use ringlog::Level;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::sync::OnceLock;

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
    emit_record(py, record, loggers, standard, call_site).map(drop)
}

/// [`emit_log_record`], returning the record's name and the ringlog logger
/// it went to when it went through a call site (`None` otherwise: only a
/// name whose records can take the fast path is worth remembering; those
/// of records rebuilt elsewhere, say unpickled from a queue, are new
/// objects each time and never match a shape).
fn emit_record<'py>(
    py: Python<'py>,
    record: &Bound<'py, PyAny>,
    loggers: &Bound<'py, PyDict>,
    standard: &Bound<'py, PyFrozenSet>,
    call_site: bool,
) -> PyResult<Option<(Bound<'py, PyAny>, Bound<'py, PyLogger>)>> {
    let exact = record.get_type().is(log_record_type(py)?);
    let attrs = if exact {
        // `LogRecord` keeps its attributes in a plain instance dict.
        generic_dict(py, record.as_ptr())?
    } else {
        record
            .getattr(intern!(py, "__dict__"))?
            .cast_into::<PyDict>()?
    };
    let found = if exact {
        plain_parts(py, &attrs, standard)
    } else {
        None
    };
    let mut parts = match found {
        Some(p) => p,
        None => Parts::read(py, record, exact, &attrs, standard)?,
    };
    // A patched `LogRecord.getMessage` is called, as for a subclass's own.
    parts.plain = parts.plain && stock_get_message(py);
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
    // Any int is a level to the stdlib: one beyond 64 bits is the highest
    // (or lowest) there is.
    let levelno: i64 = match parts.levelno.extract() {
        Ok(n) => n,
        Err(e) if e.is_instance_of::<PyOverflowError>(py) => {
            if parts.levelno.gt(0)? {
                i64::MAX
            } else {
                i64::MIN
            }
        }
        Err(e) => return Err(e),
    };
    let level = Level::from_number(severity_of(levelno)).unwrap_or(Level::INFO);
    let core = log.get().resolve(py)?;
    if !core.enabled(level) {
        return Ok(None);
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
        && parts.exc_text.is_none()
        && parts.stack_info.is_none()
        && log
            .get()
            .record_site_call(py, level, ts_ns, &parts.msg, &parts.extra)?
            .is_some()
    {
        return Ok(Some((parts.name, log)));
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
    } else if parts.exc_text.is_truthy()? {
        // No exception, but its text (from a record that was pickled, or
        // made by `makeLogRecord`): what the stdlib's Formatter prints.
        set(
            &mut fields,
            "exception",
            FieldValue::Group(vec![Field {
                key: Cow::Borrowed("traceback"),
                value: convert::value(&parts.exc_text, 0, &mut Vec::new()),
            }]),
        );
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
    Ok(None)
}

/// What the handler reads of a record.
struct Parts<'py> {
    name: Bound<'py, PyAny>,
    levelno: Bound<'py, PyAny>,
    created: Bound<'py, PyAny>,
    msg: Bound<'py, PyAny>,
    args: Bound<'py, PyAny>,
    exc_info: Bound<'py, PyAny>,
    /// The traceback text a formatter (or the sender of a pickled record)
    /// left, written when there is no `exc_info`.
    exc_text: Bound<'py, PyAny>,
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
        // A str subclass key's `__hash__` or `__eq__` (in `contains`)
        // could run Python code during the walk and change the dict, which
        // its iterator reports with a panic: the walk goes over a copy.
        let mut extra = SmallVec::new();
        for (k, v) in attrs.copy()?.iter() {
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
            exc_text: record.getattr(intern!(py, "exc_text"))?,
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
    "exc_text",
    "stack_info",
];
const WANTED: usize = 8;

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

/// What [`walk_plain`] reads of a plain record's `__dict__`: the values of
/// [`WANTED_NAMES`] (in its order) and the `extra=` keys and values, all
/// borrowed references into the dict.
struct Walk {
    wanted: [*mut ffi::PyObject; WANTED],
    keys: SmallVec<[*mut ffi::PyObject; INLINE]>,
    values: SmallVec<[*mut ffi::PyObject; INLINE]>,
}

impl Walk {
    fn new() -> Self {
        Walk {
            wanted: [std::ptr::null_mut(); WANTED],
            keys: SmallVec::new(),
            values: SmallVec::new(),
        }
    }
}

/// Reads the `__dict__` (`attrs`) of a record of class `LogRecord` itself
/// (the caller checks) whose first entries are the attributes `__init__`
/// stores, as the very same key objects in the same order (the usual
/// record), into `w` (which it empties first), in one walk: each of those
/// entries is compared by address and the values the handler needs taken
/// by their place, with no lookups; the entries after them (the `extra=`
/// keys, and `message` and `asctime` when a formatter ran first) are
/// collected. With `standard`, those are checked against it and the
/// standard ones left out; without, all are kept (for a caller that
/// matches them by address against keys already known to be `extra=`
/// keys). `false` for any other record (one with an entry deleted, moved
/// or set again, say), and for one with more than [`INLINE`] keys to keep
/// or one among them that is not an exact str.
///
/// Runs no Python code: the keys are only compared by address, or looked
/// up in `standard` when they are exact str, whose hash and equality are
/// CPython's own. So the references it finds stay valid while `attrs` is
/// held and no Python code runs.
fn walk_plain(
    py: Python<'_>,
    attrs: &Bound<'_, PyDict>,
    standard: Option<&Bound<'_, PyFrozenSet>>,
    w: &mut Walk,
) -> bool {
    let Ok(Some(l)) = layout(py) else {
        return false;
    };
    let n = l.keys.len();
    w.keys.clear();
    w.values.clear();
    let mut i = 0usize;
    let mut pos: ffi::Py_ssize_t = 0;
    let mut k: *mut ffi::PyObject = std::ptr::null_mut();
    let mut v: *mut ffi::PyObject = std::ptr::null_mut();
    // PyDict_Next checks its position against the dict's current table and
    // writes borrowed references to a key and value into the out-pointers.
    // SAFETY: `attrs` is a dict (checked by its type) held alive by the
    // borrow, the GIL is held, and the out-pointers are valid locals.
    while unsafe { ffi::PyDict_Next(attrs.as_ptr(), &mut pos, &mut k, &mut v) } != 0 {
        if i < n {
            if k != l.keys[i].as_ptr() {
                return false;
            }
            if let Some(at) = l.wanted[i] {
                w.wanted[at as usize] = v;
            }
            i += 1;
            continue;
        }
        if let Some(standard) = standard {
            // SAFETY: `k` is a live object (a borrowed reference, above).
            if unsafe { ffi::Py_TYPE(k) } != std::ptr::addr_of_mut!(ffi::PyUnicode_Type) {
                return false;
            }
            // SAFETY: `standard` is a frozenset and `k` an exact str (no
            // Python code runs); -1 comes with an exception set, cleared.
            match unsafe { ffi::PySet_Contains(standard.as_ptr(), k) } {
                0 => {}
                1 => continue,
                _ => {
                    // SAFETY: the GIL is held.
                    unsafe { ffi::PyErr_Clear() };
                    return false;
                }
            }
        }
        if w.keys.len() == INLINE {
            return false;
        }
        w.keys.push(k);
        w.values.push(v);
    }
    // Every wanted key is among the first `n`, all of which were seen.
    i == n
}

/// The fast way to [`Parts`] for a record of class `LogRecord` itself (the
/// caller checks): [`walk_plain`], with the references it found made owned
/// at once. `None` when the walk does not apply.
fn plain_parts<'py>(
    py: Python<'py>,
    attrs: &Bound<'py, PyDict>,
    standard: &Bound<'py, PyFrozenSet>,
) -> Option<Parts<'py>> {
    let mut w = Walk::new();
    if !walk_plain(py, attrs, Some(standard), &mut w) {
        return None;
    }
    // SAFETY: each pointer is a live borrowed reference from the walk (no
    // Python code has run since); `from_borrowed_ptr` takes a new one.
    let own = |p: *mut ffi::PyObject| unsafe { Bound::from_borrowed_ptr(py, p) };
    let [name, levelno, created, msg, args, exc_info, exc_text, stack_info] = w.wanted.map(own);
    let extra = w
        .keys
        .iter()
        .zip(&w.values)
        .map(|(&k, &v)| (own(k), own(v)))
        .collect();
    Some(Parts {
        name,
        levelno,
        created,
        msg,
        args,
        exc_info,
        exc_text,
        stack_info,
        plain: true,
        extra,
    })
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
    /// Record names (exact str objects, matched by identity: a logger's
    /// records all carry its `name` object) and the ringlog logger each
    /// went to, for [`Handle::fast`]; filled by the usual path when it
    /// writes a record through a call site, up to [`NAMES`] of them, never
    /// emptied. Filled in order and read with no lock: a filled slot is
    /// never changed, so a reader takes each slot with one atomic load.
    names: [OnceLock<(Py<PyAny>, Py<PyLogger>)>; NAMES],
}

/// Record names a [`Handle`] remembers; records of other loggers take the
/// usual path.
const NAMES: usize = 16;

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
            names: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    /// How many record names are remembered (for tests).
    fn _remembered(&self) -> usize {
        self.remembered().count()
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.handler)?;
        visit.call(&self.loggers)?;
        visit.call(&self.standard)?;
        visit.call(&self.on_error)?;
        for (n, l) in self.remembered() {
            visit.call(n)?;
            visit.call(l)?;
        }
        Ok(())
    }
}

/// The `METH_FASTCALL` entry point of `_Handle.handle(record)`: the bound
/// method the Python side installs as the handler's `handle`, called with
/// no argument tuple and no pyo3 wrapper.
///
/// # Safety
/// Called by CPython only, with the arguments it passes to such a method.
unsafe extern "C" fn handle_entry(
    slf: *mut ffi::PyObject,
    args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    let body = |py: Python<'_>| -> PyResult<*mut ffi::PyObject> {
        if nargs != 1 {
            return Err(PyTypeError::new_err(format!(
                "handle() takes exactly one argument ({nargs} given)"
            )));
        }
        // SAFETY: CPython passes a live `slf` and `nargs` live objects at
        // `args`, all alive for the call.
        let (slf, record) = unsafe { (Borrowed::from_ptr(py, slf), *args) };
        let handle = slf.cast::<Handle>()?;
        let h = handle.get();
        let overridden = h.overridden(py);
        if !overridden && h.fast(py, record) {
            // SAFETY: `record` is live for the call (CPython's argument).
            let record = unsafe { Borrowed::from_ptr(py, record) };
            return Ok(passed(py, &record).into_ptr());
        }
        // SAFETY: as above.
        let record = unsafe { Bound::from_borrowed_ptr(py, record) };
        // The usual path drops Python objects (errors, evicted shapes):
        // see `logger::release`.
        crate::logger::attached(|| {
            if overridden {
                h.delegate(py, record)
            } else {
                h.handle(py, record)
            }
            .map(Bound::into_ptr)
        })
    };
    // SAFETY: CPython calls a method with the GIL held.
    unsafe { crate::logger::raw_method(body) }
}

/// Installs [`handle_entry`] as `_Handle.handle` (module init).
pub(crate) fn install_handle_method(ty: &Bound<'_, PyType>) -> PyResult<()> {
    crate::logger::install_raw_method(
        ty,
        c"handle",
        ffi::PyMethodDefPointer {
            PyCFunctionFast: handle_entry,
        },
        ffi::METH_FASTCALL,
        c"handle($self, record, /)\n--\n\nThe handler's `handle(record)`.",
    )
}

impl Handle {
    /// The usual record, logged with no attribute lookups and no reference
    /// counting: a plain `LogRecord` whose shape (message and `extra=` key
    /// objects, level, value kinds) already has a call site in the logger
    /// its name went to before, with no exception, stack or arguments, to
    /// a handler with no filters and without `call_site`. `false`, having
    /// done nothing, for anything else: [`Handle::handle`] then takes it
    /// (and registers the site or remembers the name for next time).
    ///
    /// The record's values are borrowed references into its `__dict__`,
    /// held here: nothing below runs Python code or lets the GIL go before
    /// the record is written (the trace context, whose lookup is a Python
    /// call, is taken first), so nothing can change the dict meanwhile.
    fn fast(&self, py: Python<'_>, record: *mut ffi::PyObject) -> bool {
        let ctx = trace::current(py);
        let Ok(lr) = log_record_type(py) else {
            return false;
        };
        // SAFETY: `record` is a live object (the caller's).
        if unsafe { ffi::Py_TYPE(record) } != lr.as_type_ptr()
            || !stock_get_message(py)
            || !self.plain_state(py)
        {
            return false;
        }
        let Ok(attrs) = generic_dict(py, record) else {
            return false;
        };
        // The keys after the `__init__` attributes are taken unchecked:
        // `log_registered` matches them by address against the `extra=`
        // keys of a registered shape, which the usual path checked.
        let mut w = Walk::new();
        if !walk_plain(py, &attrs, None, &mut w) {
            return false;
        }
        let [name, levelno, created, msg, args, exc_info, exc_text, stack_info] = w.wanted;
        // Every pointer is a live borrowed reference from the walk (no
        // Python code has run since); only types and values are read.
        // SAFETY: as just said; the GIL is held.
        let (levelno, created) = unsafe {
            let none = ffi::Py_None();
            let str_type = std::ptr::addr_of_mut!(ffi::PyUnicode_Type);
            if exc_info != none
                || exc_text != none
                || stack_info != none
                || ffi::Py_TYPE(msg) != str_type
                || ffi::Py_TYPE(name) != str_type
                || ffi::Py_TYPE(args) != std::ptr::addr_of_mut!(ffi::PyTuple_Type)
                || ffi::PyTuple_Size(args) != 0
                || ffi::Py_TYPE(levelno) != std::ptr::addr_of_mut!(ffi::PyLong_Type)
                || ffi::Py_TYPE(created) != std::ptr::addr_of_mut!(ffi::PyFloat_Type)
            {
                return false;
            }
            let levelno = ffi::PyLong_AsLongLong(levelno);
            // An overflow raised (and may have run the collector): stop
            // before any other borrowed reference is used.
            if levelno == -1 && !ffi::PyErr_Occurred().is_null() {
                ffi::PyErr_Clear();
                return false;
            }
            // An exact float: cannot fail.
            (levelno, ffi::PyFloat_AsDouble(created))
        };
        let Ok(ts_ns) = created_ns(created) else {
            return false;
        };
        let values = w.values.iter().map(|&v| {
            // SAFETY: as above, for the `extra=` values.
            unsafe { Borrowed::from_ptr(py, v) }
        });
        let Some(a) = crate::logger::site_args(values) else {
            return false;
        };
        let level = Level::from_number(severity_of(levelno)).unwrap_or(Level::INFO);
        let Some((_, log)) = self.remembered().find(|(n, _)| n.as_ptr() == name) else {
            return false;
        };
        log.get()
            .log_registered(level, ts_ns, ctx.as_ref(), msg, &w.keys, &a)
    }

    /// Whether the handler has no filters (an empty list) and `call_site`
    /// False, read from its instance `__dict__` as the Python `handle` and
    /// `emit` would find them. Each value is checked as soon as it is
    /// found, before the next lookup (which could run Python code).
    fn plain_state(&self, py: Python<'_>) -> bool {
        let Some(d) = self.instance_dict(py) else {
            return false;
        };
        // SAFETY: `d` is a dict held by this frame, the keys are interned
        // str and the GIL is held; a borrowed result is used at once.
        unsafe {
            let filters = ffi::PyDict_GetItemWithError(d.as_ptr(), intern!(py, "filters").as_ptr());
            if filters.is_null()
                || ffi::Py_TYPE(filters) != std::ptr::addr_of_mut!(ffi::PyList_Type)
                || ffi::PyList_Size(filters) != 0
            {
                ffi::PyErr_Clear();
                return false;
            }
            let call_site =
                ffi::PyDict_GetItemWithError(d.as_ptr(), intern!(py, "call_site").as_ptr());
            if call_site != ffi::Py_False() {
                ffi::PyErr_Clear();
                return false;
            }
        }
        true
    }

    /// Whether an `emit` or `filter` is set on the handler instance (a mock
    /// in a test, say): such a handler's records go to [`Handle::delegate`].
    /// Looked up in the instance `__dict__` (exact str keys: no Python code
    /// runs); an error is cleared and counts as set, since delegating is
    /// right for any handler.
    fn overridden(&self, py: Python<'_>) -> bool {
        let Some(d) = self.instance_dict(py) else {
            return false;
        };
        [intern!(py, "emit"), intern!(py, "filter")]
            .into_iter()
            .any(|name| {
                // The borrowed result is only compared with NULL.
                // SAFETY: `d` is a held dict, the key an interned str, GIL held.
                unsafe {
                    if !ffi::PyDict_GetItemWithError(d.as_ptr(), name.as_ptr()).is_null() {
                        return true;
                    }
                    let failed = !ffi::PyErr_Occurred().is_null();
                    if failed {
                        ffi::PyErr_Clear();
                    }
                    failed
                }
            })
    }

    /// The record handed to the class's Python `handle`, which calls the
    /// instance's `emit` and `filter` (and takes the handler lock around an
    /// `emit` that is not ringlog's).
    fn delegate<'py>(
        &self,
        py: Python<'py>,
        record: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let h = self.handler.bind(py);
        h.get_type()
            .getattr(intern!(py, "handle"))?
            .call1((h, &record))
    }

    /// The handler's `handle(record)`, for any record.
    fn handle<'py>(
        &self,
        py: Python<'py>,
        record: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let h = self.handler.bind(py);
        let dict = self.instance_dict(py);
        let mut record = record;
        let mut rv = passed(py, &record);
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
                emit_record(
                    py,
                    &record,
                    self.loggers.bind(py),
                    self.standard.bind(py),
                    call_site,
                )
            });
        match done {
            Ok(Some((name, log))) => self.remember(name, log),
            Ok(None) => {}
            Err(e) => {
                // Normalized by CPython (restore, then fetch): pyo3's own
                // normalizing of an error made in Rust attaches, which it
                // refuses (with a panic) while the interpreter finalizes.
                e.restore(py);
                let e = PyErr::fetch(py);
                if !e.is_instance_of::<PyException>(py) || e.is_instance_of::<PyRecursionError>(py)
                {
                    return Err(e);
                }
                self.on_error
                    .bind(py)
                    .call1((h, &record, e.into_value(py)))?;
            }
        }
        Ok(rv)
    }

    /// Keeps `name` (when an exact str) and the logger its records go to,
    /// for [`Handle::fast`].
    fn remember(&self, name: Bound<'_, PyAny>, log: Bound<'_, PyLogger>) {
        if !name.is_exact_instance_of::<PyString>() {
            return;
        }
        if self.remembered().any(|(n, _)| n.as_ptr() == name.as_ptr()) {
            return;
        }
        // The first empty slot (the GIL keeps two threads from meeting
        // here; a slot another filled first keeps its value, and this one
        // is let go of at once).
        if let Some(slot) = self.names.iter().find(|s| s.get().is_none()) {
            if let Err(lost) = slot.set((name.unbind(), log.unbind())) {
                crate::logger::release(lost);
            }
        }
    }

    /// The remembered names and their loggers, in the order they came.
    fn remembered(&self) -> impl Iterator<Item = &(Py<PyAny>, Py<PyLogger>)> {
        self.names.iter().map_while(OnceLock::get)
    }

    /// The handler's instance `__dict__` as it is now (it may have been
    /// replaced), where `filters` and `call_site` live: the Python side
    /// installs this `handle` only for classes that do not make either a
    /// data descriptor. `None` if it cannot be had.
    fn instance_dict<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyDict>> {
        generic_dict(py, self.handler.as_ptr()).ok()
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

/// The instance `__dict__` of `obj` (a live object), as `obj.__dict__`
/// gives it without looking the descriptor up on its type.
///
/// # Errors
/// What CPython raises when `obj` has none, or a `TypeError` when it is
/// not a dict.
fn generic_dict<'py>(py: Python<'py>, obj: *mut ffi::PyObject) -> PyResult<Bound<'py, PyDict>> {
    // SAFETY: `obj` is live (the caller's contract) and the GIL is held;
    // the result is a new reference, or NULL with an exception set.
    let d = unsafe {
        Bound::from_owned_ptr_or_err(py, ffi::PyObject_GenericGetDict(obj, std::ptr::null_mut()))
    }?;
    Ok(d.cast_into::<PyDict>()?)
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

/// Whether `LogRecord.getMessage` is the stdlib's own function (nobody has
/// patched the class since the handler first looked): only then is a plain
/// record's message its `msg` when it has no arguments. The function seen
/// first is kept as the stock one if its code is `logging`'s own
/// `getMessage` and it wraps nothing; one patched in before that (a
/// `functools.wraps` wrapper included) is never taken for it. After that
/// first look it runs no Python code: a function looked up on a class
/// with the plain metaclass is the function itself.
fn stock_get_message(py: Python<'_>) -> bool {
    static STOCK: PyOnceLock<Option<Py<PyAny>>> = PyOnceLock::new();
    let Ok(lr) = log_record_type(py) else {
        return false;
    };
    let Ok(now) = lr.getattr(intern!(py, "getMessage")) else {
        return false;
    };
    let stock = STOCK.get_or_init(py, || {
        let text = |obj: &Bound<'_, PyAny>, attr: &str| {
            obj.getattr(attr)
                .ok()
                .and_then(|v| v.extract::<String>().ok())
        };
        // Its code is `logging`'s own (a `functools.wraps` wrapper copies
        // the names, not the code) and it wraps nothing.
        let logging_file = py
            .import("logging")
            .ok()
            .and_then(|m| text(m.as_any(), "__file__"));
        let code = now.getattr("__code__").ok();
        let own_code = code.as_ref().is_some_and(|c| {
            text(c, "co_name").as_deref() == Some("getMessage")
                && logging_file.is_some()
                && text(c, "co_filename") == logging_file
        });
        let wraps = now.hasattr("__wrapped__").unwrap_or(true);
        (own_code
            && !wraps
            && text(&now, "__qualname__").as_deref() == Some("LogRecord.getMessage"))
        .then(|| now.clone().unbind())
    });
    stock.as_ref().is_some_and(|f| f.is(&now))
}

/// What `handle` returns for a record that no filter stopped, as the
/// stdlib's does: the record from Python 3.12 on (where `Filterer.filter`
/// returns it), `True` before.
fn passed<'py>(py: Python<'py>, record: &Bound<'py, PyAny>) -> Bound<'py, PyAny> {
    static RETURNS_RECORD: PyOnceLock<bool> = PyOnceLock::new();
    if *RETURNS_RECORD.get_or_init(py, || py.version_info() >= (3, 12)) {
        record.clone()
    } else {
        PyBool::new(py, true).to_owned().into_any()
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
