//! `ringlog.Logger`: a named logger, with bound fields for children.
//!
//! A Python logger is made without starting anything (`get_logger` at
//! import time is the usual idiom, before `configure`). It finds its core
//! logger on first use and keeps it until the process-wide runtime changes
//! (`configure`, `shutdown`, a fork), which [`GENERATION`] tells it.

use crate::convert::{self, Field, OwnedField, OwnedValue};
use crate::{runtime_error, trace};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};
use ringlog::site::Kind;
use ringlog::{Level, Value};
use std::borrow::Cow;
use std::os::raw::c_int;
use std::panic::AssertUnwindSafe;
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
    /// Call sites of the direct path, for `logger` (cleared with it).
    sites: Vec<DirectSite>,
    /// Shapes seen once, the oldest replaced first; a second sighting
    /// makes a site.
    seen: Vec<Shape>,
    /// Records logged through `sites` (for tests).
    hits: u64,
    /// Shapes pushed out of `seen` since one was last seen twice.
    evicted: u32,
    /// Records left for which new shapes are not looked for: set when
    /// `evicted` reaches `CHURN`, as when messages are made per record
    /// (f-strings), so those records stop paying for the bookkeeping.
    /// Registered sites are still used meanwhile.
    pause: u32,
}

/// The shape of a call: the message and key objects of one Python call
/// site (CPython passes the same objects on every call from one place in
/// the code), its level and its value kinds. The objects are held, so a
/// match by identity is never a reused address.
#[derive(Debug)]
struct Shape {
    msg: Py<PyAny>,
    keys: ShapeKeys,
    level: u8,
    kinds: smallvec::SmallVec<[Kind; INLINE_FIELDS]>,
}

/// The key objects of a [`Shape`].
#[derive(Debug)]
enum ShapeKeys {
    /// A direct-path call's keyword-name tuple (one object per call place).
    Names(Option<Py<PyAny>>),
    /// A stdlib record's `extra=` keys, one by one.
    Each(smallvec::SmallVec<[Py<PyAny>; INLINE_FIELDS]>),
}

/// The keys of one call, as a [`Shape`] is matched against them.
#[derive(Clone, Copy)]
pub(crate) enum CallKeys<'a, 'py> {
    /// The keyword-name tuple of a level method call.
    Names(Option<&'a Bound<'py, PyTuple>>),
    /// A `LogRecord`'s `extra=` keys and values, in its order (exact str
    /// keys).
    Extra(&'a [(Bound<'py, PyAny>, Bound<'py, PyAny>)]),
}

impl CallKeys<'_, '_> {
    fn held(self) -> ShapeKeys {
        match self {
            CallKeys::Names(n) => ShapeKeys::Names(n.map(|n| n.clone().into_any().unbind())),
            CallKeys::Extra(e) => {
                ShapeKeys::Each(e.iter().map(|(k, _)| k.clone().unbind()).collect())
            }
        }
    }

    /// The key texts, paired with their kinds.
    fn texts(self, kinds: &[Kind]) -> smallvec::SmallVec<[(String, Kind); INLINE_FIELDS]> {
        let mut keys = smallvec::SmallVec::new();
        match self {
            CallKeys::Names(Some(n)) => {
                for (k, &t) in n.iter().zip(kinds) {
                    keys.push((convert::call_text(&k).into_owned(), t));
                }
            }
            CallKeys::Names(None) => {}
            CallKeys::Extra(e) => {
                for ((k, _), &t) in e.iter().zip(kinds) {
                    keys.push((convert::call_text(k).into_owned(), t));
                }
            }
        }
        keys
    }
}

impl Shape {
    fn is(
        &self,
        msg: *mut ffi::PyObject,
        keys: CallKeys<'_, '_>,
        level: u8,
        kinds: &[Kind],
    ) -> bool {
        self.head_is(msg, level, kinds)
            && match (&self.keys, keys) {
                (ShapeKeys::Names(held), CallKeys::Names(n)) => {
                    held.as_ref().map_or(std::ptr::null_mut(), |k| k.as_ptr())
                        == n.map_or(std::ptr::null_mut(), |n| n.as_ptr())
                }
                (ShapeKeys::Each(held), CallKeys::Extra(e)) => {
                    each_is(held, e.iter().map(|(k, _)| k.as_ptr()), e.len())
                }
                _ => false,
            }
    }

    /// The message object, level and kinds: all of the shape but its keys.
    fn head_is(&self, msg: *mut ffi::PyObject, level: u8, kinds: &[Kind]) -> bool {
        self.msg.as_ptr() == msg && self.level == level && self.kinds[..] == *kinds
    }

    /// Whether this is the shape of a record with these message and
    /// `extra=` key objects (`keys`, compared by address), level and kinds.
    fn is_record(
        &self,
        msg: *mut ffi::PyObject,
        keys: &[*mut ffi::PyObject],
        level: u8,
        kinds: &[Kind],
    ) -> bool {
        self.head_is(msg, level, kinds)
            && matches!(&self.keys, ShapeKeys::Each(held)
                if each_is(held, keys.iter().copied(), keys.len()))
    }
}

/// Whether the held `extra=` key objects are `keys` (`n` of them), one by
/// one: `zip` stops at the shorter side, so the lengths are compared too.
fn each_is(held: &[Py<PyAny>], keys: impl Iterator<Item = *mut ffi::PyObject>, n: usize) -> bool {
    held.len() == n && held.iter().zip(keys).all(|(h, k)| h.as_ptr() == k)
}

/// A direct-path shape registered as a core call site (`None`: the core
/// would not make it).
#[derive(Debug)]
struct DirectSite {
    shape: Shape,
    site: Option<ringlog::site::Site>,
}

/// Sites one logger registers for the direct path; past that, its calls
/// take the keyed path.
const MAX_DIRECT_SITES: usize = 32;
/// Shapes seen once that one logger remembers.
const MAX_SEEN: usize = 8;
/// Shapes pushed out of `seen` without any being seen twice, after which a
/// logger stops looking for new shapes for `PAUSE` records.
const CHURN: u32 = 64;
/// See `CHURN`.
const PAUSE: u32 = 4096;

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
    pub(crate) fn resolve(&self, py: Python<'_>) -> PyResult<ringlog::Logger> {
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
        let old = std::mem::replace(
            &mut *c,
            Cache {
                generation,
                logger: Some(l.clone()),
                ..Cache::default()
            },
        );
        // The old shapes hold Python objects: let go of them unlocked.
        drop(c);
        release(old);
        Ok(l)
    }

    /// Converts the fields and logs; a record below the level returns
    /// before any conversion. Drops and refusals are counted in `stats()`,
    /// not raised.
    fn emit(
        &self,
        py: Python<'_>,
        level: Level,
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
        let _ = l.log_with(level, 0, ctx.as_ref(), msg.as_bytes(), &owned);
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

    /// How many call sites the direct path registered for this logger and
    /// the current runtime, and how many records went through them (for
    /// tests).
    fn _direct_sites(&self) -> (usize, u64) {
        let c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        (c.sites.iter().filter(|d| d.site.is_some()).count(), c.hits)
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
        self.emit(py, level, msg, fields, None)
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
        self.emit(py, Level::ERROR, msg, fields, exc.as_ref())
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

// ------------------------------------------------------------------------
// The level methods (`trace` .. `fatal`) on the direct call path.
//
// pyo3 gives a method that takes `**kwargs` the tuple-and-dict calling
// convention: CPython builds an argument tuple and a keyword dict for every
// call and pyo3 copies the dict into another one. The level methods are
// the hot path, so they are installed on the class as plain
// `METH_FASTCALL | METH_KEYWORDS` method descriptors instead: the values
// arrive in a C array and the keyword names in a tuple of str, and a call
// below the level returns before touching either.

/// Keyword arguments held on the stack; more spill into a `Vec`.
const INLINE_FIELDS: usize = 8;

impl PyLogger {
    /// A level method: `msg` is `args[0]`, the keyword values follow the
    /// positional arguments and `kwnames` names them.
    ///
    /// # Safety
    /// `args` must point to `nargs + len(kwnames)` live objects and
    /// `kwnames` must be NULL or a tuple of str, as CPython passes them to
    /// a `METH_FASTCALL | METH_KEYWORDS` method; the GIL must be held.
    unsafe fn fast_call(
        &self,
        py: Python<'_>,
        name: &str,
        level: Level,
        args: *const *mut ffi::PyObject,
        nargs: ffi::Py_ssize_t,
        kwnames: *mut ffi::PyObject,
    ) -> PyResult<()> {
        if nargs != 1 {
            return Err(arity_error(name, nargs));
        }
        let l = self.resolve(py)?;
        if !l.enabled(level) {
            return Ok(());
        }
        let nkw = if kwnames.is_null() {
            0
        } else {
            // SAFETY: `kwnames` is a live tuple (the caller's contract).
            let kw = unsafe { Borrowed::from_ptr(py, kwnames) };
            kw.cast::<PyTuple>()?.len()
        };
        let nargs = 1usize;
        // SAFETY: CPython passes `nargs + nkw` live object pointers at
        // `args`, valid for the whole call.
        let argv: &[*mut ffi::PyObject] = unsafe { std::slice::from_raw_parts(args, nargs + nkw) };
        // Owned references for the call: a field's conversion may run
        // Python code, but the caller's array and tuple keep every object
        // alive regardless, and these `Bound`s make the borrows below safe.
        let msg = bound_from(py, argv[0]);
        let names: Option<Bound<'_, PyTuple>> = if nkw == 0 {
            None
        } else {
            Some(bound_from(py, kwnames).cast_into::<PyTuple>()?)
        };
        if let Some(done) = self.site_call(py, level, &msg, names.as_ref(), &argv[nargs..])? {
            return Ok(done);
        }
        // The keyed path may drop Python objects (errors of conversions
        // that fall back to repr, say): see `release`.
        attached(|| keyed_call(py, &l, level, &msg, names.as_ref(), &argv[nargs..]))
    }
}

/// The keyed path of a level method: the fields converted one by one,
/// `argv` holding the keyword values `names` names.
fn keyed_call(
    py: Python<'_>,
    l: &ringlog::Logger,
    level: Level,
    msg: &Bound<'_, PyAny>,
    names: Option<&Bound<'_, PyTuple>>,
    argv: &[*mut ffi::PyObject],
) -> PyResult<()> {
    let nkw = argv.len();
    let mut keys: [Option<Bound<'_, PyAny>>; INLINE_FIELDS] = Default::default();
    let mut values: [Option<Bound<'_, PyAny>>; INLINE_FIELDS] = Default::default();
    let mut spill_keys: Vec<Bound<'_, PyAny>> = Vec::new();
    let mut spill_values: Vec<Bound<'_, PyAny>> = Vec::new();
    if let Some(names) = &names {
        for i in 0..nkw {
            let k = names.get_item(i)?;
            let v = bound_from(py, argv[i]);
            if i < INLINE_FIELDS {
                keys[i] = Some(k);
                values[i] = Some(v);
            } else {
                spill_keys.push(k);
                spill_values.push(v);
            }
        }
    }
    // On the stack for the usual few fields: no allocation per call.
    let mut fields: smallvec::SmallVec<[Field<'_>; INLINE_FIELDS]> =
        smallvec::SmallVec::with_capacity(nkw);
    let inline = keys
        .iter()
        .zip(values.iter())
        .filter_map(|(k, v)| Some((k.as_ref()?, v.as_ref()?)));
    for (k, v) in inline.chain(spill_keys.iter().zip(spill_values.iter())) {
        fields.push(Field {
            key: convert::call_text(k),
            value: convert::call_value(v),
        });
    }
    let msg: Cow<'_, str> = convert::call_text(msg);
    let ctx = trace::current(py);
    // Refused records are counted by the core (`stats()`); logging
    // never raises for them.
    let _ = l.log_with(level, 0, ctx.as_ref(), msg.as_bytes(), &fields);
    Ok(())
}

/// Values as a call site takes them, with their kinds.
pub(crate) struct SiteArgs<'a> {
    pub(crate) kinds: smallvec::SmallVec<[Kind; INLINE_FIELDS]>,
    pub(crate) args: smallvec::SmallVec<[Value<'a>; INLINE_FIELDS]>,
}

/// `values` as call-site values: each an exact str that is valid UTF-8
/// (borrowed), bool, int that fits an i64, or float; `None` as soon as one
/// is anything else, a str with lone surrogates included (the keyed path
/// takes the record and writes it with replacement characters). Runs no
/// Python code.
#[inline]
pub(crate) fn site_args<'a, 'py: 'a>(
    values: impl IntoIterator<Item = Borrowed<'a, 'py, PyAny>>,
) -> Option<SiteArgs<'a>> {
    let mut a = SiteArgs {
        kinds: smallvec::SmallVec::new(),
        args: smallvec::SmallVec::new(),
    };
    for v in values {
        let (kind, arg) = if v.is_exact_instance_of::<PyString>() {
            // SAFETY: `v` is an exact str, alive for `'a`, and holding a
            // `Borrowed` means the GIL is held.
            let s = unsafe { convert::borrowed_utf8(v.as_ptr()) }?;
            (Kind::Str, Value::Str(s.as_bytes()))
        } else if v.is_exact_instance_of::<pyo3::types::PyBool>() {
            // SAFETY: the GIL is held; the singleton is only compared.
            let t = unsafe { ffi::Py_True() };
            (Kind::Bool, Value::Bool(v.as_ptr() == t))
        } else if v.is_exact_instance_of::<pyo3::types::PyInt>() {
            // Through the C API, so that an overflow leaves no `PyErr` to
            // drop here (see `release`).
            // SAFETY: `v` is an exact int and the GIL is held; an overflow
            // sets an exception, cleared at once.
            let i = unsafe { ffi::PyLong_AsLongLong(v.as_ptr()) };
            // SAFETY: as above.
            if i == -1 && unsafe { !ffi::PyErr_Occurred().is_null() } {
                // SAFETY: as above.
                unsafe { ffi::PyErr_Clear() };
                return None;
            }
            (Kind::I64, Value::I64(i))
        } else if v.is_exact_instance_of::<pyo3::types::PyFloat>() {
            // SAFETY: `v` is an exact float (this cannot fail).
            let f = unsafe { ffi::PyFloat_AsDouble(v.as_ptr()) };
            (Kind::F64, Value::F64(f))
        } else {
            return None;
        };
        a.kinds.push(kind);
        a.args.push(arg);
    }
    Some(a)
}

impl PyLogger {
    /// The call-site path of a level method: when the message is a str,
    /// every value a str, bool, int (i64) or float, and this logger has
    /// seen the same message and keyword-name objects at this level with
    /// these kinds before, the record goes through a core call site (only
    /// the values are written). The first sighting of a shape is
    /// remembered, the second registers the site. `Ok(None)`: take the
    /// keyed path.
    fn site_call(
        &self,
        py: Python<'_>,
        level: Level,
        msg: &Bound<'_, PyAny>,
        names: Option<&Bound<'_, PyTuple>>,
        values: &[*mut ffi::PyObject],
    ) -> PyResult<Option<()>> {
        if values.len() > INLINE_FIELDS || !msg.is_exact_instance_of::<PyString>() {
            return Ok(None);
        }
        let held: smallvec::SmallVec<[Bound<'_, PyAny>; INLINE_FIELDS]> =
            values.iter().map(|&v| bound_from(py, v)).collect();
        let refs: smallvec::SmallVec<[&Bound<'_, PyAny>; INLINE_FIELDS]> = held.iter().collect();
        self.site_log(py, level, 0, msg, CallKeys::Names(names), &refs)
    }

    /// The call-site path of `ringlog.Handler` for a plain `LogRecord`
    /// whose message is an exact str without arguments (the caller has
    /// checked), with no exception, stack or call site to add: as
    /// [`PyLogger::site_call`], with the record's `extra=` keys (each an
    /// exact str) in place of keyword names, and its `created` time
    /// (`ts_ns`). `Ok(None)`: take the keyed path.
    pub(crate) fn record_site_call(
        &self,
        py: Python<'_>,
        level: Level,
        ts_ns: u64,
        msg: &Bound<'_, PyAny>,
        extra: &[(Bound<'_, PyAny>, Bound<'_, PyAny>)],
    ) -> PyResult<Option<()>> {
        if extra.len() > INLINE_FIELDS
            || !extra
                .iter()
                .all(|(k, _)| k.is_exact_instance_of::<PyString>())
        {
            return Ok(None);
        }
        let refs: smallvec::SmallVec<[&Bound<'_, PyAny>; INLINE_FIELDS]> =
            extra.iter().map(|(_, v)| v).collect();
        self.site_log(py, level, ts_ns, msg, CallKeys::Extra(extra), &refs)
    }

    /// Logs through this shape's site when it has one (see
    /// [`PyLogger::direct_site`]), stamped `ts_ns` (0: now); `Ok(None)`
    /// when a value is not a site kind or the shape has no site.
    fn site_log(
        &self,
        py: Python<'_>,
        level: Level,
        ts_ns: u64,
        msg: &Bound<'_, PyAny>,
        keys: CallKeys<'_, '_>,
        values: &[&Bound<'_, PyAny>],
    ) -> PyResult<Option<()>> {
        let Some(a) = site_args(values.iter().map(|v| v.as_borrowed())) else {
            return Ok(None);
        };
        let Some(site) = self.direct_site(py, level, msg, keys, &a.kinds)? else {
            return Ok(None);
        };
        let ctx = trace::current(py);
        // Refused records are counted by the core, as on the keyed path.
        let _ = site.log_args_at(ts_ns, ctx.as_ref(), &a.args);
        Ok(Some(()))
    }

    /// The fast path of `ringlog.Handler` (`handler::Handle::fast`): logs
    /// the values through the site already registered for the shape of a
    /// record's message object, `extra=` key objects, level and kinds, as
    /// [`PyLogger::record_site_call`] does, with no Python object touched
    /// (the keys are compared by address only). `false`, having done
    /// nothing, when there is no such site or the runtime changed since it
    /// was made: the caller then takes the usual path, which counts the
    /// sightings and registers sites.
    pub(crate) fn log_registered(
        &self,
        level: Level,
        ts_ns: u64,
        ctx: Option<&ringlog::TraceContext>,
        msg: *mut ffi::PyObject,
        keys: &[*mut ffi::PyObject],
        a: &SiteArgs<'_>,
    ) -> bool {
        let lv = level.number();
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        // Ordering: Relaxed, see `GENERATION`.
        if c.generation != GENERATION.load(Ordering::Relaxed) {
            return false;
        }
        let found = c
            .sites
            .iter()
            .find(|d| d.shape.is_record(msg, keys, lv, &a.kinds))
            .and_then(|d| d.site.as_ref());
        let Some(site) = found else {
            return false;
        };
        // Refused records are counted by the core, as on the other paths.
        let _ = site.log_args_at(ts_ns, ctx, &a.args);
        c.hits += 1;
        true
    }

    /// The site registered for this shape, registering it on its second
    /// sighting; `None` while it has been seen once, when its site could
    /// not be made, and when the logger has all the sites it may have.
    ///
    /// The cache lock is held only for lookups and inserts: the texts of
    /// the message and keys are made (which may run Python code, for a str
    /// with lone surrogates) and the site registered (a write to the
    /// metadata file, with the GIL released) outside it, and entries it
    /// lets go of are dropped after it is released.
    fn direct_site(
        &self,
        py: Python<'_>,
        level: Level,
        msg: &Bound<'_, PyAny>,
        keys: CallKeys<'_, '_>,
        kinds: &[Kind],
    ) -> PyResult<Option<ringlog::site::Site>> {
        let lv = level.number();
        // Declared before the guard, so dropped after it is released.
        let evicted: Option<Shape>;
        let shape;
        let (generation, logger) = {
            let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            // Ordering: Relaxed, see `GENERATION`.
            if c.generation != GENERATION.load(Ordering::Relaxed) {
                return Ok(None);
            }
            if let Some(i) = c
                .sites
                .iter()
                .position(|d| d.shape.is(msg.as_ptr(), keys, lv, kinds))
            {
                c.hits += 1;
                return Ok(c.sites[i].site.clone());
            }
            if c.sites.len() >= MAX_DIRECT_SITES {
                return Ok(None);
            }
            if c.pause > 0 {
                c.pause -= 1;
                return Ok(None);
            }
            let Some(logger) = c.logger.clone() else {
                return Ok(None);
            };
            match c
                .seen
                .iter()
                .position(|s| s.is(msg.as_ptr(), keys, lv, kinds))
            {
                Some(at) => {
                    shape = c.seen.remove(at);
                    c.evicted = 0;
                    (c.generation, logger)
                }
                None => {
                    evicted = (c.seen.len() >= MAX_SEEN).then(|| c.seen.remove(0));
                    if evicted.is_some() {
                        c.evicted += 1;
                        if c.evicted >= CHURN {
                            c.evicted = 0;
                            c.pause = PAUSE;
                        }
                    }
                    c.seen.push(Shape {
                        msg: msg.clone().unbind(),
                        keys: keys.held(),
                        level: lv,
                        kinds: kinds.into(),
                    });
                    drop(c);
                    if evicted.is_some() {
                        release(evicted);
                    }
                    return Ok(None);
                }
            }
        };
        // The second sighting: make the site outside the lock.
        let texts = keys.texts(kinds);
        let text = convert::call_text(msg).into_owned();
        let site = py.detach(|| {
            let key_refs: smallvec::SmallVec<[(&[u8], Kind); INLINE_FIELDS]> =
                texts.iter().map(|(k, t)| (k.as_bytes(), *t)).collect();
            logger.site_bytes(level, text.as_bytes(), &key_refs).ok()
        });
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        // Another thread may have registered it, or the runtime changed.
        if c.generation != generation
            || c.sites.len() >= MAX_DIRECT_SITES
            || c.sites
                .iter()
                .any(|d| d.shape.is(msg.as_ptr(), keys, lv, kinds))
        {
            drop(c);
            release(shape);
            return Ok(site);
        }
        // A shape whose site could not be made is kept too (with none), so
        // it is not tried again on every other call.
        c.sites.push(DirectSite {
            shape,
            site: site.clone(),
        });
        Ok(site)
    }
}

/// Drops `held`, whose Python objects are let go of at once. A raw entry
/// point (a level method, `_Handle.handle`) runs with the GIL held but
/// without pyo3 knowing it, so a `Py` dropped there would wait in pyo3's
/// queue of deferred reference drops until pyo3's own wrappers next run
/// (which a program that only logs may never call): dropped inside
/// `Python::attach` (which finds the GIL held and only counts it), each
/// goes at once.
pub(crate) fn release<T>(held: T) {
    attached(|| drop(held));
}

/// Runs `f` inside `Python::attach` (see [`release`]), or directly when
/// pyo3 will not attach: while the interpreter finalizes (a record logged
/// from a `__del__` at exit, say), `attach` would panic. Objects dropped
/// then wait in pyo3's queue, which no longer matters.
pub(crate) fn attached<R>(f: impl FnOnce() -> R) -> R {
    let mut f = Some(f);
    if let Some(Some(r)) = Python::try_attach(|_| f.take().map(|f| f())) {
        return r;
    }
    match f.take() {
        Some(f) => f(),
        // `try_attach` returns None only without running the closure.
        None => unreachable!("the closure ran but returned nothing"),
    }
}

/// A new reference to an object the caller keeps alive.
#[inline]
fn bound_from<'py>(py: Python<'py>, p: *mut ffi::PyObject) -> Bound<'py, PyAny> {
    // SAFETY: only called with pointers CPython passed to a method call
    // (live for the call, GIL held); `to_owned` takes a new reference.
    unsafe { Borrowed::from_ptr(py, p) }.to_owned()
}

/// The `TypeError` pyo3 raises for a wrong number of positional arguments.
#[cold]
fn arity_error(name: &str, nargs: ffi::Py_ssize_t) -> PyErr {
    if nargs < 1 {
        PyTypeError::new_err(format!(
            "Logger.{name}() missing 1 required positional argument: 'msg'"
        ))
    } else {
        PyTypeError::new_err(format!(
            "Logger.{name}() takes 1 positional arguments but {nargs} were given"
        ))
    }
}

/// Runs the body of a method that CPython calls through a raw entry point
/// (a level method, `_Handle.handle`): no panic crosses into Python (it
/// becomes a `PanicException`), an error is raised (NULL), and success
/// returns the body's new reference.
///
/// # Safety
/// The GIL must be held, as it is when CPython calls a method.
pub(crate) unsafe fn raw_method(
    body: impl FnOnce(Python<'_>) -> PyResult<*mut ffi::PyObject>,
) -> *mut ffi::PyObject {
    // SAFETY: the caller's contract.
    let py = unsafe { Python::assume_attached() };
    let err = match std::panic::catch_unwind(AssertUnwindSafe(|| body(py))) {
        Ok(Ok(p)) => return p,
        Ok(Err(e)) => e,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic in a ringlog method".to_owned());
            PanicException::new_err(what)
        }
    };
    err.restore(py);
    std::ptr::null_mut()
}

/// Runs a level method for CPython through [`raw_method`]; success
/// returns None.
///
/// # Safety
/// As [`PyLogger::fast_call`], and `slf` must be a live object.
unsafe fn trampoline(
    name: &str,
    level: Level,
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let body = |py: Python<'_>| -> PyResult<*mut ffi::PyObject> {
        // SAFETY: `slf` is live for the call (the caller's contract).
        let slf = unsafe { Borrowed::from_ptr(py, slf) };
        let logger = slf.cast::<PyLogger>()?;
        // SAFETY: forwarded from this function's own contract.
        unsafe {
            logger
                .get()
                .fast_call(py, name, level, args, nargs, kwnames)
        }?;
        Ok(py.None().into_ptr())
    };
    // SAFETY: CPython calls a method only with the GIL held.
    unsafe { raw_method(body) }
}

macro_rules! level_methods {
    ($($fname:ident => $level:expr, $doc:literal;)*) => {
        $(
            /// The `METH_FASTCALL | METH_KEYWORDS` entry point of the level
            /// method of the same name.
            ///
            /// # Safety
            /// Called by CPython only, with the arguments it passes to such a
            /// method.
            unsafe extern "C" fn $fname(
                slf: *mut ffi::PyObject,
                args: *const *mut ffi::PyObject,
                nargs: ffi::Py_ssize_t,
                kwnames: *mut ffi::PyObject,
            ) -> *mut ffi::PyObject {
                // SAFETY: CPython's calling convention for this method kind
                // is exactly `trampoline`'s contract.
                unsafe { trampoline(stringify!($fname), $level, slf, args, nargs, kwnames) }
            }
        )*

        /// The level methods: name, entry point and docstring (with the
        /// text signature `inspect.signature` reads).
        const LEVEL_METHODS: &[(&std::ffi::CStr, ffi::PyCFunctionFastWithKeywords, &std::ffi::CStr)] = &[
            $((
                match std::ffi::CStr::from_bytes_with_nul(concat!(stringify!($fname), "\0").as_bytes()) {
                    Ok(c) => c,
                    Err(_) => panic!("method name"),
                },
                $fname,
                match std::ffi::CStr::from_bytes_with_nul(
                    concat!(stringify!($fname), "($self, msg, /, **fields)\n--\n\n", $doc, "\0").as_bytes(),
                ) {
                    Ok(c) => c,
                    Err(_) => panic!("method doc"),
                },
            ),)*
        ];
    };
}

level_methods! {
    trace => Level::TRACE, "Logs at TRACE (severity 1).";
    debug => Level::DEBUG, "Logs at DEBUG (severity 5).";
    info => Level::INFO, "Logs at INFO (severity 9).";
    warning => Level::WARN, "Logs at WARN (severity 13).";
    warn => Level::WARN, "Logs at WARN (severity 13); the same as `warning`.";
    error => Level::ERROR, "Logs at ERROR (severity 17).";
    critical => Level::FATAL, "Logs at FATAL (severity 21).";
    fatal => Level::FATAL, "Logs at FATAL (severity 21); the same as `critical`.";
}

/// Installs the level methods on the `Logger` class (module init).
pub(crate) fn install_level_methods(ty: &Bound<'_, PyType>) -> PyResult<()> {
    for &(name, meth, doc) in LEVEL_METHODS {
        install_raw_method(
            ty,
            name,
            ffi::PyMethodDefPointer {
                PyCFunctionFastWithKeywords: meth,
            },
            (ffi::METH_FASTCALL | ffi::METH_KEYWORDS) as c_int,
            doc,
        )?;
    }
    Ok(())
}

/// Installs one method with a raw entry point (`meth`, of the calling
/// convention `flags` names) on the class `ty`, replacing what pyo3 made.
pub(crate) fn install_raw_method(
    ty: &Bound<'_, PyType>,
    name: &'static std::ffi::CStr,
    meth: ffi::PyMethodDefPointer,
    flags: c_int,
    doc: &'static std::ffi::CStr,
) -> PyResult<()> {
    // CPython keeps a pointer to the definition for the life of the method
    // descriptor, i.e. of the class: leaked on purpose (a few small
    // structs, once per process).
    let def: &'static mut ffi::PyMethodDef = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: name.as_ptr(),
        ml_meth: meth,
        ml_flags: flags,
        ml_doc: doc.as_ptr(),
    }));
    // SAFETY: `ty` is a live type object, `def` a valid definition that
    // lives forever, and the GIL is held (`ty` is bound).
    let descr = unsafe {
        Bound::from_owned_ptr_or_err(ty.py(), ffi::PyDescr_NewMethod(ty.as_type_ptr(), def))
    }?;
    ty.setattr(name.to_str().unwrap_or_default(), descr)
}
