//! `ringlog_field`: a typed key/value pair in the caller's memory.

use ringlog::{FieldSource, InvalidField, ValueRef};
use std::ffi::c_char;

/// A field type code: one of the `RINGLOG_FIELD_*` constants.
pub type ringlog_field_type = u32;

/// `null` (no value).
pub const RINGLOG_FIELD_NULL: ringlog_field_type = 0;
/// Text in `value.str` (UTF-8; invalid bytes become U+FFFD in output).
pub const RINGLOG_FIELD_STR: ringlog_field_type = 1;
/// Signed integer in `value.i64`.
pub const RINGLOG_FIELD_I64: ringlog_field_type = 2;
/// Unsigned integer in `value.u64`.
pub const RINGLOG_FIELD_U64: ringlog_field_type = 3;
/// Double in `value.f64` (NaN and infinities are written as strings).
pub const RINGLOG_FIELD_F64: ringlog_field_type = 4;
/// Boolean in `value.boolean`.
pub const RINGLOG_FIELD_BOOL: ringlog_field_type = 5;
/// Bytes in `value.str` (written as base64).
pub const RINGLOG_FIELD_BYTES: ringlog_field_type = 6;
/// A nested group in `value.group` (written as an object).
pub const RINGLOG_FIELD_GROUP: ringlog_field_type = 7;
/// A list in `value.group` (written as a JSON array): its fields' keys
/// are ignored, only their values are written.
pub const RINGLOG_FIELD_ARRAY: ringlog_field_type = 8;

/// A byte string: pointer and length. `ptr` may be NULL only when `len`
/// is 0. Embedded NUL bytes are kept.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ringlog_bytes {
    /// First byte.
    pub ptr: *const c_char,
    /// Number of bytes.
    pub len: usize,
}

/// A group's fields: pointer and count.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ringlog_group {
    /// First field; may be NULL only when `n` is 0.
    pub fields: *const ringlog_field,
    /// Number of fields.
    pub n: usize,
}

/// A field's value; which member is read depends on the field's `type`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union ringlog_value {
    /// For `RINGLOG_FIELD_I64`.
    pub i64: i64,
    /// For `RINGLOG_FIELD_U64`.
    pub u64: u64,
    /// For `RINGLOG_FIELD_F64`.
    pub f64: f64,
    /// For `RINGLOG_FIELD_BOOL`.
    pub boolean: bool,
    /// For `RINGLOG_FIELD_STR` and `RINGLOG_FIELD_BYTES`.
    pub str: ringlog_bytes,
    /// For `RINGLOG_FIELD_GROUP` and `RINGLOG_FIELD_ARRAY`.
    pub group: ringlog_group,
}

impl std::fmt::Debug for ringlog_value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ringlog_value { .. }")
    }
}

/// One key/value pair. ringlog copies everything it points at during the
/// call that receives it; nothing is kept afterwards.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ringlog_field {
    /// Key bytes (UTF-8); may be NULL only when `key_len` is 0.
    pub key: *const c_char,
    /// Key length in bytes (at most 65535).
    pub key_len: usize,
    /// Which member of `value` is set.
    pub r#type: ringlog_field_type,
    /// The value.
    pub value: ringlog_value,
}

impl std::fmt::Debug for ringlog_field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ringlog_field")
            .field("key_len", &self.key_len)
            .field("type", &self.r#type)
            .finish()
    }
}

/// Reads a (ptr, len) pair as a slice.
///
/// # Safety
/// When `ptr` is not NULL it must be valid for reads of `len` bytes for the
/// duration of the call (the caller's contract for every ringlog pointer).
#[inline(always)]
pub(crate) unsafe fn bytes<'a>(ptr: *const c_char, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        Some(&[])
    } else if ptr.is_null() {
        None
    } else {
        // SAFETY: non-NULL and valid for `len` bytes by the caller's contract.
        Some(unsafe { std::slice::from_raw_parts(ptr.cast(), len) })
    }
}

// SAFETY: both methods only read the caller's field; the header requires
// the caller not to change a field (or what it points at) while the call
// that received it runs, so every read returns the same answer.
unsafe impl FieldSource for ringlog_field {
    #[inline(always)]
    fn key(&self) -> Option<&[u8]> {
        // SAFETY: the header documents that `key` is valid for `key_len`
        // bytes during the call.
        unsafe { bytes(self.key, self.key_len) }
    }

    #[inline(always)]
    fn value(&self) -> ValueRef<'_, Self> {
        // SAFETY: per the header, the union member matching `type` is the one set and its
        // pointers are valid during the call; any other type code is reported as invalid.
        unsafe {
            match self.r#type {
                RINGLOG_FIELD_NULL => ValueRef::Null,
                RINGLOG_FIELD_STR => match bytes(self.value.str.ptr, self.value.str.len) {
                    Some(s) => ValueRef::Str(s),
                    None => ValueRef::Invalid(InvalidField::NullPointer),
                },
                RINGLOG_FIELD_BYTES => match bytes(self.value.str.ptr, self.value.str.len) {
                    Some(s) => ValueRef::Bytes(s),
                    None => ValueRef::Invalid(InvalidField::NullPointer),
                },
                RINGLOG_FIELD_I64 => ValueRef::I64(self.value.i64),
                RINGLOG_FIELD_U64 => ValueRef::U64(self.value.u64),
                RINGLOG_FIELD_F64 => ValueRef::F64(self.value.f64),
                // Read the byte, not a `bool`: C may put any value there.
                RINGLOG_FIELD_BOOL => ValueRef::Bool(*(&self.value as *const _ as *const u8) != 0),
                RINGLOG_FIELD_GROUP | RINGLOG_FIELD_ARRAY => {
                    let g = self.value.group;
                    let members: &[ringlog_field] = if g.n == 0 {
                        &[]
                    } else if g.fields.is_null() {
                        return ValueRef::Invalid(InvalidField::NullPointer);
                    } else {
                        std::slice::from_raw_parts(g.fields, g.n)
                    };
                    if self.r#type == RINGLOG_FIELD_GROUP {
                        ValueRef::Group(members)
                    } else {
                        ValueRef::Array(members)
                    }
                }
                t => ValueRef::Invalid(InvalidField::UnknownType(t)),
            }
        }
    }
}

/// Reads the caller's field array.
///
/// # Safety
/// As [`bytes`], for `n` fields.
#[inline(always)]
pub(crate) unsafe fn fields<'a>(p: *const ringlog_field, n: usize) -> Option<&'a [ringlog_field]> {
    if n == 0 {
        Some(&[])
    } else if p.is_null() {
        None
    } else {
        // SAFETY: non-NULL and valid for `n` fields by the caller's contract.
        Some(unsafe { std::slice::from_raw_parts(p, n) })
    }
}
