//! Typed fields as producers hand them in.
//!
//! The record writer is generic over [`FieldSource`], so the Rust API
//! ([`Field`]), the C ABI (`ringlog_field`) and the language bindings each
//! describe fields in their own memory layout and the writer copies them
//! straight into the ring, with no intermediate allocation.

/// One key/value pair given to [`crate::Logger::log`].
///
/// ```
/// use ringlog::{Field, Value};
/// let fields = [
///     Field::str("user", "alice"),
///     Field::i64("status", 200),
///     Field::f64("latency_ms", 12.5),
///     Field::new("cache", Value::Bool(false)),
/// ];
/// assert_eq!(fields[1].key, b"status");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field<'a> {
    /// The key, as UTF-8 (invalid bytes become U+FFFD when encoded).
    pub key: &'a [u8],
    /// The typed value.
    pub value: Value<'a>,
}

/// A typed value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// JSON `null`.
    Null,
    /// Text (UTF-8 expected; invalid bytes become U+FFFD when encoded).
    Str(&'a [u8]),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float; NaN and infinities are written as strings by the JSON encoder.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// Raw bytes, written as base64 by the text encoders.
    Bytes(&'a [u8]),
    /// A nested group of fields (slog's `WithGroup`), written as an object.
    Group(&'a [Field<'a>]),
    /// A list of values, written as a JSON array (logfmt: keys `key.0`,
    /// `key.1`, …). The members' keys are ignored; [`Field::item`] makes
    /// one without a key.
    Array(&'a [Field<'a>]),
}

impl<'a> Field<'a> {
    /// A field with any value.
    pub fn new(key: &'a str, value: Value<'a>) -> Self {
        Field {
            key: key.as_bytes(),
            value,
        }
    }
    /// A text field.
    pub fn str(key: &'a str, v: &'a str) -> Self {
        Self::new(key, Value::Str(v.as_bytes()))
    }
    /// A signed integer field.
    pub fn i64(key: &'a str, v: i64) -> Self {
        Self::new(key, Value::I64(v))
    }
    /// An unsigned integer field.
    pub fn u64(key: &'a str, v: u64) -> Self {
        Self::new(key, Value::U64(v))
    }
    /// A float field.
    pub fn f64(key: &'a str, v: f64) -> Self {
        Self::new(key, Value::F64(v))
    }
    /// A boolean field.
    pub fn bool(key: &'a str, v: bool) -> Self {
        Self::new(key, Value::Bool(v))
    }
    /// A bytes field.
    pub fn bytes(key: &'a str, v: &'a [u8]) -> Self {
        Self::new(key, Value::Bytes(v))
    }
    /// A nested group.
    pub fn group(key: &'a str, v: &'a [Field<'a>]) -> Self {
        Self::new(key, Value::Group(v))
    }
    /// A list.
    pub fn array(key: &'a str, v: &'a [Field<'a>]) -> Self {
        Self::new(key, Value::Array(v))
    }
    /// A list member: a value without a key.
    pub fn item(value: Value<'a>) -> Self {
        Field { key: b"", value }
    }
}

/// Why a field given through a foreign layout cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidField {
    /// A pointer was NULL while its length was not zero.
    NullPointer,
    /// The type code is not one of the known field types.
    UnknownType(u32),
}

/// A view of one field's value, as a [`FieldSource`] exposes it.
#[derive(Debug)]
pub enum ValueRef<'a, F> {
    /// `null`.
    Null,
    /// Text.
    Str(&'a [u8]),
    /// Signed integer.
    I64(i64),
    /// Unsigned integer.
    U64(u64),
    /// Float.
    F64(f64),
    /// Boolean.
    Bool(bool),
    /// Bytes.
    Bytes(&'a [u8]),
    /// Nested fields.
    Group(&'a [F]),
    /// A list; the members' keys are not read.
    Array(&'a [F]),
    /// The field cannot be read; the record is rejected with this reason.
    Invalid(InvalidField),
}

/// A field in some caller's memory layout that the record writer can copy.
///
/// # Safety
/// The writer sizes the record from one pass over the fields and then
/// copies them in a second pass, so an implementation must return the same
/// key and the same value (same lengths) on every call for the same field
/// while a log call runs. A different answer the second time would make the
/// writer copy past the space it reserved. `key` returns `None` when the key
/// cannot be read (a NULL pointer with a non-zero length); the writer then
/// rejects the record.
pub unsafe trait FieldSource: Sized {
    /// The key bytes, or `None` when the key cannot be read.
    fn key(&self) -> Option<&[u8]>;
    /// The value.
    fn value(&self) -> ValueRef<'_, Self>;
}

// SAFETY: `Field` is plain borrowed data; both methods read it unchanged.
unsafe impl<'a> FieldSource for Field<'a> {
    #[inline]
    fn key(&self) -> Option<&[u8]> {
        Some(self.key)
    }
    #[inline]
    fn value(&self) -> ValueRef<'_, Self> {
        match self.value {
            Value::Null => ValueRef::Null,
            Value::Str(s) => ValueRef::Str(s),
            Value::I64(v) => ValueRef::I64(v),
            Value::U64(v) => ValueRef::U64(v),
            Value::F64(v) => ValueRef::F64(v),
            Value::Bool(v) => ValueRef::Bool(v),
            Value::Bytes(b) => ValueRef::Bytes(b),
            Value::Group(g) => ValueRef::Group(g),
            Value::Array(g) => ValueRef::Array(g),
        }
    }
}
