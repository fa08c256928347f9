//! Python values to ringlog field values.
//!
//! Each keyword argument becomes an [`OwnedField`]: a copy of the value in
//! Rust memory, so no Python object is touched while the record writer
//! copies it into the ring. The common types (str, int, float, bool, None,
//! bytes, dict) are recognised by their exact type first; everything else
//! goes through the slower `isinstance` checks and, last, the configurable
//! default (`repr` unless [`set_default`] installed another).
//!
//! A dict becomes a nested group (a JSON object). The core record model has
//! no array type yet, so a list, tuple or set is written as a string holding
//! its JSON text. Both walks carry the containers on the current path and
//! stop at [`MAX_DEPTH`]: a circular structure becomes `"<circular>"`
//! instead of hanging, and conversion never raises into the caller.

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString,
    PyTuple, PyType,
};
use ringlog::{FieldSource, ValueRef};
use std::borrow::Cow;
use std::sync::Mutex;

/// How deep dicts and lists may nest before the rest is written as text.
/// Below the core's own limit of 32 nested groups.
pub(crate) const MAX_DEPTH: usize = 16;

/// A field value: copied out of Python, or (on the direct call path)
/// borrowing a str's UTF-8 from the Python object for the call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldValue<'a> {
    /// `None`.
    Null,
    /// Text (lone surrogates already replaced by U+FFFD).
    Str(Cow<'a, str>),
    /// An int that fits i64.
    I64(i64),
    /// An int that fits u64 but not i64.
    U64(u64),
    /// A float (NaN and the infinities are written as strings by the core).
    F64(f64),
    /// A bool.
    Bool(bool),
    /// bytes or bytearray.
    Bytes(Vec<u8>),
    /// A dict (or an exception), written as a nested object.
    Group(Vec<Field<'a>>),
    /// A list, tuple or set, written as an array (the members' keys are
    /// empty).
    Array(Vec<Field<'a>>),
}

/// A key and its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field<'a> {
    /// The key (UTF-8).
    pub key: Cow<'a, str>,
    /// The value.
    pub value: FieldValue<'a>,
}

/// A field value in Rust memory, owning everything.
pub(crate) type OwnedValue = FieldValue<'static>;
/// A field in Rust memory, owning everything (bound fields, nested values).
pub(crate) type OwnedField = Field<'static>;

impl OwnedField {
    pub(crate) fn new(key: impl Into<String>, value: OwnedValue) -> Self {
        Field {
            key: Cow::Owned(key.into()),
            value,
        }
    }
}

// SAFETY: a `Field` is immutable while a log call borrows it (the writer
// gets `&[Field]`), and a borrowed key or value points into a Python str
// the caller keeps alive for the call (str objects are immutable), so
// `key` and `value` return the same bytes and the same lengths on every
// call.
unsafe impl FieldSource for Field<'_> {
    #[inline]
    fn key(&self) -> Option<&[u8]> {
        Some(self.key.as_bytes())
    }
    #[inline]
    fn value(&self) -> ValueRef<'_, Self> {
        match &self.value {
            FieldValue::Null => ValueRef::Null,
            FieldValue::Str(s) => ValueRef::Str(s.as_bytes()),
            FieldValue::I64(v) => ValueRef::I64(*v),
            FieldValue::U64(v) => ValueRef::U64(*v),
            FieldValue::F64(v) => ValueRef::F64(*v),
            FieldValue::Bool(v) => ValueRef::Bool(*v),
            FieldValue::Bytes(b) => ValueRef::Bytes(b),
            FieldValue::Group(g) => ValueRef::Group(g),
            FieldValue::Array(a) => ValueRef::Array(a),
        }
    }
}

/// The stdlib types checked with `isinstance`, imported once.
struct Types {
    enum_: Py<PyType>,
    datetime: Py<PyType>,
    date: Py<PyType>,
    time: Py<PyType>,
    decimal: Py<PyType>,
    uuid: Py<PyType>,
    base_exception: Py<PyType>,
}

static TYPES: PyOnceLock<Option<Types>> = PyOnceLock::new();

fn types(py: Python<'_>) -> Option<&Types> {
    TYPES
        .get_or_init(py, || {
            let get = |module: &str, name: &str| -> PyResult<Py<PyType>> {
                Ok(py
                    .import(module)?
                    .getattr(name)?
                    .cast_into::<PyType>()?
                    .unbind())
            };
            (|| -> PyResult<Types> {
                Ok(Types {
                    enum_: get("enum", "Enum")?,
                    datetime: get("datetime", "datetime")?,
                    date: get("datetime", "date")?,
                    time: get("datetime", "time")?,
                    decimal: get("decimal", "Decimal")?,
                    uuid: get("uuid", "UUID")?,
                    base_exception: get("builtins", "BaseException")?,
                })
            })()
            .ok()
        })
        .as_ref()
}

/// The callable used for values of other types (`None`: `repr`).
static DEFAULT: Mutex<Option<Py<PyAny>>> = Mutex::new(None);

/// Installs the callable that turns values of other types into something
/// loggable (`None` restores `repr`).
///
/// # Errors
/// `TypeError` when `f` is neither callable nor None.
#[pyfunction]
#[pyo3(signature = (f))]
pub(crate) fn set_default(f: Option<Bound<'_, PyAny>>) -> PyResult<()> {
    if let Some(f) = &f {
        if !f.is_callable() {
            return Err(PyTypeError::new_err("default must be callable or None"));
        }
    }
    let new = f.map(Bound::unbind);
    let old = {
        let mut g = DEFAULT.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *g, new)
    };
    // Dropped after the lock is released: a decref can run Python code.
    drop(old);
    Ok(())
}

fn default_hook(py: Python<'_>) -> Option<Py<PyAny>> {
    let g = DEFAULT.lock().unwrap_or_else(|e| e.into_inner());
    g.as_ref().map(|f| f.clone_ref(py))
}

/// `str(obj)`, with lone surrogates replaced; never fails.
pub(crate) fn text(obj: &Bound<'_, PyAny>) -> String {
    if let Ok(s) = obj.cast_exact::<PyString>() {
        return str_lossy(s);
    }
    match obj.str() {
        Ok(s) => str_lossy(&s),
        Err(_) => repr(obj),
    }
}

/// A Python str as UTF-8; each lone surrogate becomes one U+FFFD.
#[inline]
pub(crate) fn str_lossy(s: &Bound<'_, PyString>) -> String {
    match s.to_str() {
        Ok(t) => t.to_owned(),
        Err(_) => surrogates_replaced(s),
    }
}

#[cold]
fn surrogates_replaced(s: &Bound<'_, PyString>) -> String {
    // UTF-16 keeps a lone surrogate as one unit, which decodes to one
    // U+FFFD (UTF-8 with `surrogatepass` would give three).
    let units = s
        .call_method1("encode", ("utf-16-le", "surrogatepass"))
        .ok()
        .and_then(|b| b.cast_into::<PyBytes>().ok())
        .map(|b| {
            b.as_bytes()
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect::<Vec<u16>>()
        });
    match units {
        Some(u) => String::from_utf16_lossy(&u),
        None => s.to_string_lossy().into_owned(),
    }
}

/// An exact str's UTF-8, borrowed from the str object; `None` when it holds
/// lone surrogates (the caller then takes [`str_lossy`]).
///
/// # Safety
/// `obj` must point to an exact `str` that stays alive for `'a`, and the
/// GIL must be held.
#[inline]
pub(crate) unsafe fn borrowed_utf8<'a>(obj: *mut ffi::PyObject) -> Option<&'a str> {
    let mut len: ffi::Py_ssize_t = 0;
    // The UTF-8 form is cached in the str object and freed with it, so it
    // stays valid for `'a`.
    // SAFETY: `obj` is a live str and the GIL is held (caller's contract).
    let data = unsafe { ffi::PyUnicode_AsUTF8AndSize(obj, &mut len) };
    if data.is_null() {
        // Lone surrogates: clear the UnicodeEncodeError just raised.
        // SAFETY: the GIL is held.
        unsafe { ffi::PyErr_Clear() };
        return None;
    }
    let len = usize::try_from(len).ok()?;
    // SAFETY: CPython returned `len` bytes of valid UTF-8 at `data`, alive
    // as long as the str (see above).
    Some(unsafe {
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(data.cast::<u8>(), len))
    })
}

/// Text for a key or message on the direct call path: an exact str is
/// borrowed, anything else goes through [`text`].
#[inline]
pub(crate) fn call_text<'a>(obj: &'a Bound<'_, PyAny>) -> Cow<'a, str> {
    if obj.is_exact_instance_of::<PyString>() {
        // SAFETY: `obj` is an exact str, kept alive by the borrow for `'a`,
        // and holding a `Bound` means the GIL is held.
        if let Some(s) = unsafe { borrowed_utf8(obj.as_ptr()) } {
            return Cow::Borrowed(s);
        }
    }
    Cow::Owned(text(obj))
}

/// Converts one keyword argument's value on the direct call path: exact
/// str, int, float, bool and None without allocating (a str is borrowed),
/// anything else as [`value`] does.
#[inline]
pub(crate) fn call_value<'a>(obj: &'a Bound<'_, PyAny>) -> FieldValue<'a> {
    if obj.is_exact_instance_of::<PyString>() {
        // SAFETY: as in `call_text`.
        if let Some(s) = unsafe { borrowed_utf8(obj.as_ptr()) } {
            return FieldValue::Str(Cow::Borrowed(s));
        }
    } else if obj.is_exact_instance_of::<PyInt>() {
        return match int_kind(obj) {
            Kind::I64(v) => FieldValue::I64(v),
            Kind::U64(v) => FieldValue::U64(v),
            Kind::Str(s) => FieldValue::Str(Cow::Owned(s)),
            _ => FieldValue::Null,
        };
    } else if let Ok(f) = obj.cast_exact::<PyFloat>() {
        return FieldValue::F64(f.value());
    } else if let Ok(b) = obj.cast_exact::<PyBool>() {
        return FieldValue::Bool(b.is_true());
    } else if obj.is_none() {
        return FieldValue::Null;
    }
    value(obj, 0, &mut Vec::new())
}

/// `repr(obj)`, or a placeholder naming the type when `repr` raises.
pub(crate) fn repr(obj: &Bound<'_, PyAny>) -> String {
    match obj.repr() {
        Ok(s) => str_lossy(&s),
        Err(_) => {
            let name = obj
                .get_type()
                .name()
                .map(|n| str_lossy(&n))
                .unwrap_or_else(|_| "object".into());
            format!("<unrepresentable {name}>")
        }
    }
}

/// What a Python value is, once enums, dates, decimals, UUIDs and the
/// default hook have been applied.
enum Kind<'py> {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
    Bytes(Vec<u8>),
    Dict(Bound<'py, PyDict>),
    Seq(Bound<'py, PyAny>),
    Exception(Bound<'py, PyAny>),
}

fn int_kind(obj: &Bound<'_, PyAny>) -> Kind<'static> {
    if let Ok(v) = obj.extract::<i64>() {
        Kind::I64(v)
    } else if let Ok(v) = obj.extract::<u64>() {
        Kind::U64(v)
    } else {
        // Beyond 64 bits: the decimal digits, as text.
        Kind::Str(text(obj))
    }
}

fn classify<'py>(obj: &Bound<'py, PyAny>, depth: usize) -> Kind<'py> {
    // Exact types first: the common case costs a pointer comparison each.
    if let Ok(s) = obj.cast_exact::<PyString>() {
        return Kind::Str(str_lossy(s));
    }
    if obj.is_none() {
        return Kind::Null;
    }
    if let Ok(b) = obj.cast_exact::<PyBool>() {
        return Kind::Bool(b.is_true());
    }
    if obj.is_exact_instance_of::<PyInt>() {
        return int_kind(obj);
    }
    if let Ok(f) = obj.cast_exact::<PyFloat>() {
        return Kind::F64(f.value());
    }
    if let Ok(b) = obj.cast_exact::<PyBytes>() {
        return Kind::Bytes(b.as_bytes().to_vec());
    }
    if let Ok(d) = obj.cast_exact::<PyDict>() {
        return Kind::Dict(d.clone());
    }
    if obj.is_exact_instance_of::<PyList>() || obj.is_exact_instance_of::<PyTuple>() {
        return Kind::Seq(obj.clone());
    }
    classify_slow(obj, depth)
}

#[cold]
fn classify_slow<'py>(obj: &Bound<'py, PyAny>, depth: usize) -> Kind<'py> {
    let py = obj.py();
    if depth >= MAX_DEPTH {
        return Kind::Str(repr(obj));
    }
    if let Some(t) = types(py) {
        // Enum before int and str: IntEnum and StrEnum are both.
        if obj.is_instance(t.enum_.bind(py)).unwrap_or(false) {
            return match obj.getattr("value") {
                Ok(v) => classify(&v, depth + 1),
                Err(_) => Kind::Str(repr(obj)),
            };
        }
        // datetime is a subclass of date: check it first (same result).
        if obj.is_instance(t.datetime.bind(py)).unwrap_or(false)
            || obj.is_instance(t.date.bind(py)).unwrap_or(false)
            || obj.is_instance(t.time.bind(py)).unwrap_or(false)
        {
            return match obj.call_method0("isoformat") {
                Ok(s) => Kind::Str(text(&s)),
                Err(_) => Kind::Str(repr(obj)),
            };
        }
        if obj.is_instance(t.decimal.bind(py)).unwrap_or(false)
            || obj.is_instance(t.uuid.bind(py)).unwrap_or(false)
        {
            return Kind::Str(text(obj));
        }
        if obj.is_instance(t.base_exception.bind(py)).unwrap_or(false) {
            return Kind::Exception(obj.clone());
        }
    }
    if obj.is_instance_of::<PyBool>() {
        return Kind::Bool(obj.is_truthy().unwrap_or(false));
    }
    if obj.is_instance_of::<PyInt>() {
        return int_kind(obj);
    }
    if obj.is_instance_of::<PyFloat>() {
        return obj
            .extract::<f64>()
            .map(Kind::F64)
            .unwrap_or_else(|_| Kind::Str(repr(obj)));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Kind::Str(str_lossy(s));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Kind::Bytes(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Kind::Bytes(b.to_vec());
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        return Kind::Dict(d.clone());
    }
    if obj.is_instance_of::<PyList>()
        || obj.is_instance_of::<PyTuple>()
        || obj.is_instance_of::<PySet>()
        || obj.is_instance_of::<PyFrozenSet>()
    {
        return Kind::Seq(obj.clone());
    }
    if let Some(f) = default_hook(py) {
        return match f.bind(py).call1((obj,)) {
            // The hook's result is converted again, one level deeper, so a
            // hook that returns its argument cannot loop.
            Ok(v) => classify(&v, depth + 1),
            Err(_) => Kind::Str(repr(obj)),
        };
    }
    Kind::Str(repr(obj))
}

/// The containers on the path being converted, by address.
type Path = Vec<usize>;

/// Converts one value for a field.
pub(crate) fn value(obj: &Bound<'_, PyAny>, depth: usize, path: &mut Path) -> OwnedValue {
    match classify(obj, depth) {
        Kind::Null => OwnedValue::Null,
        Kind::Bool(b) => OwnedValue::Bool(b),
        Kind::I64(v) => OwnedValue::I64(v),
        Kind::U64(v) => OwnedValue::U64(v),
        Kind::F64(v) => OwnedValue::F64(v),
        Kind::Str(s) => OwnedValue::Str(Cow::Owned(s)),
        Kind::Bytes(b) => OwnedValue::Bytes(b),
        Kind::Dict(d) => guarded(d.as_any(), depth, path, |path| {
            OwnedValue::Group(dict_fields(&d, depth + 1, path))
        }),
        Kind::Seq(s) => guarded(&s, depth, path, |path| {
            OwnedValue::Array(seq_items(&s, depth + 1, path))
        }),
        Kind::Exception(e) => OwnedValue::Group(exception_fields(&e)),
    }
}

/// Runs `f` with `obj` on the path, or gives `"<circular>"` when it is
/// already there (or the text form when nesting is too deep).
fn guarded(
    obj: &Bound<'_, PyAny>,
    depth: usize,
    path: &mut Path,
    f: impl FnOnce(&mut Path) -> OwnedValue,
) -> OwnedValue {
    let id = obj.as_ptr() as usize;
    if path.contains(&id) {
        return OwnedValue::Str(Cow::Borrowed("<circular>"));
    }
    if depth >= MAX_DEPTH {
        return OwnedValue::Str(Cow::Owned(repr(obj)));
    }
    path.push(id);
    let v = f(path);
    path.pop();
    v
}

/// A dict's items as fields; keys that are not str are written as `str(key)`.
pub(crate) fn dict_fields(d: &Bound<'_, PyDict>, depth: usize, path: &mut Path) -> Vec<OwnedField> {
    // A snapshot of the items: converting a value may run Python code that
    // changes the dict.
    let items = d.items();
    let mut out = Vec::with_capacity(items.len());
    for item in items.iter() {
        let Ok((k, v)) = item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>() else {
            continue;
        };
        out.push(OwnedField::new(text(&k), value(&v, depth, path)));
    }
    out
}

/// The `exception` group: `type`, `message` and `traceback` (the text
/// `traceback.format_exception` gives).
pub(crate) fn exception_fields(e: &Bound<'_, PyAny>) -> Vec<OwnedField> {
    let py = e.py();
    let ty = e.get_type();
    let qual = ty
        .qualname()
        .map(|n| str_lossy(&n))
        .unwrap_or_else(|_| "?".into());
    let module = ty.module().map(|m| str_lossy(&m)).unwrap_or_default();
    let type_name = if module.is_empty() || module == "builtins" {
        qual
    } else {
        format!("{module}.{qual}")
    };
    let mut out = vec![
        OwnedField::new("type", OwnedValue::Str(Cow::Owned(type_name))),
        OwnedField::new("message", OwnedValue::Str(Cow::Owned(text(e)))),
    ];
    let tb = py
        .import("traceback")
        .and_then(|m| m.call_method1("format_exception", (e,)))
        .and_then(|lines| {
            let mut s = String::new();
            for l in lines.try_iter()? {
                s.push_str(&text(&l?));
            }
            Ok(s)
        });
    if let Ok(tb) = tb {
        out.push(OwnedField::new(
            "traceback",
            OwnedValue::Str(Cow::Owned(tb)),
        ));
    }
    out
}

/// A sequence's (or set's) members, in iteration order, as fields with
/// empty keys; iteration stops at the first error.
fn seq_items(s: &Bound<'_, PyAny>, depth: usize, path: &mut Path) -> Vec<OwnedField> {
    let mut out = Vec::new();
    if let Ok(it) = s.try_iter() {
        for item in it {
            match item {
                Ok(v) => out.push(OwnedField::new(String::new(), value(&v, depth, path))),
                Err(_) => break,
            }
        }
    }
    out
}
