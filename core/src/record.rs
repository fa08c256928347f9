//! The binary record: what a producer copies into its ring and the flusher
//! (or recovery) decodes.
//!
//! A record body is laid out as follows (native byte order, no alignment
//! assumed inside the body; the frame around it is 8-byte aligned):
//!
//! | offset | size | content |
//! |---|---|---|
//! | 0 | 8 | timestamp, ns since the Unix epoch (UTC) |
//! | 8 | 8 | per-ring sequence number |
//! | 16 | 8 | logger id (see `registry`) |
//! | 24 | 1 | severity number 1..=24 |
//! | 25 | 1 | flags: bit 0 = a trace context follows |
//! | 26 | 2 | number of top-level fields |
//! | 28 | 4 | message length |
//! | 32 | 32 | trace context, when flag bit 0 is set: trace id 16, span id 8, flags 1, zero 7 |
//! | … | msg | message bytes |
//! | … | … | fields |
//!
//! A field is `tag u8, 0 u8, key_len u16, key bytes, value`, where the value
//! is nothing (null), 1 byte (bool), 8 bytes (i64, u64, f64), `len u32` and
//! the bytes (str, bytes), or `count u32, byte_len u32` and the nested fields
//! (group, and array: an array's members are fields with empty keys). The
//! byte length lets a reader skip a group or an array in O(1).
//!
//! The same field encoding stores a child logger's bound fields in the
//! registry, so they are copied once, when the child is made.
//!
//! A call-site record (flag bit 1) has the same fixed part with a message
//! length of 0; its "logger id" names a call site, whose definition holds
//! the logger's name and bound fields, the message and a key table. The
//! key table is the field encoding without values (`tag u8, 0 u8,
//! key_len u16, key bytes` per field), and the record's fields are the
//! values alone, one per key-table entry, in a word encoding (every value
//! whole 8-byte words, see [`site_value_at`]) so that the producer stores
//! and checksums words only.

use crate::context::TraceContext;
use crate::level::Level;
use crate::value::{FieldSource, InvalidField, ValueRef};
use std::fmt;

/// Field type tags, shared with the C ABI's `RINGLOG_FIELD_*` constants.
pub mod tag {
    /// `null`.
    pub const NULL: u8 = 0;
    /// UTF-8 text.
    pub const STR: u8 = 1;
    /// Signed 64-bit integer.
    pub const I64: u8 = 2;
    /// Unsigned 64-bit integer.
    pub const U64: u8 = 3;
    /// 64-bit float.
    pub const F64: u8 = 4;
    /// Boolean.
    pub const BOOL: u8 = 5;
    /// Raw bytes.
    pub const BYTES: u8 = 6;
    /// Nested group of fields.
    pub const GROUP: u8 = 7;
    /// Array: a group whose members have empty keys, written as a list.
    pub const ARRAY: u8 = 8;
}

/// True for the field types whose values vary in size (text and bytes).
#[inline(always)]
pub(crate) fn varies(t: u8) -> bool {
    t == tag::STR || t == tag::BYTES
}

/// Size of the fixed part of a record body.
pub(crate) const FIXED_LEN: usize = 32;
/// Size of the optional trace-context part.
pub(crate) const CTX_LEN: usize = 32;
/// Groups nest at most this deep.
pub const MAX_DEPTH: usize = 32;
const FLAG_CTX: u8 = 1;
/// Flag bit 1: a call-site record (see [`crate::site`]): the message is
/// empty and the fields are values only, their keys and types held by the
/// site's definition under the record's logger id.
pub(crate) const FLAG_SITE: u8 = 2;

/// Why a record cannot be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// A field key pointer was NULL with a non-zero length.
    NullKey {
        /// Index of the field at its nesting level.
        index: usize,
    },
    /// A field value pointer was NULL with a non-zero length.
    NullValue {
        /// Index of the field at its nesting level.
        index: usize,
    },
    /// A field's type code is unknown.
    UnknownType {
        /// Index of the field at its nesting level.
        index: usize,
        /// The code given.
        code: u32,
    },
    /// A key is longer than 65,535 bytes.
    KeyTooLong {
        /// Index of the field at its nesting level.
        index: usize,
    },
    /// Groups nest deeper than [`MAX_DEPTH`].
    TooDeep,
    /// More than 65,535 top-level fields, or a value over 4 GiB.
    TooMany,
    /// A call site got a different number of values than it has keys.
    ArgCount {
        /// Keys the site was registered with.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// A call-site value's type is not the one its key was registered with.
    ArgType {
        /// Index of the value.
        index: usize,
    },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::NullKey { index } => {
                write!(f, "field {index}: key pointer is NULL but key_len is not 0")
            }
            RecordError::NullValue { index } => {
                write!(
                    f,
                    "field {index}: value pointer is NULL but its length is not 0"
                )
            }
            RecordError::UnknownType { index, code } => {
                write!(f, "field {index}: unknown field type code {code}")
            }
            RecordError::KeyTooLong { index } => {
                write!(f, "field {index}: key is longer than 65535 bytes")
            }
            RecordError::TooDeep => write!(f, "groups nest deeper than {MAX_DEPTH} levels"),
            RecordError::TooMany => {
                write!(f, "more than 65535 top-level fields, or a value over 4 GiB")
            }
            RecordError::ArgCount { expected, got } => {
                write!(f, "the call site has {expected} keys but got {got} values")
            }
            RecordError::ArgType { index } => {
                write!(
                    f,
                    "value {index}: type differs from the one the call site registered"
                )
            }
        }
    }
}

/// Byte length of `fields` once written, after checking every field.
///
/// # Errors
/// A field that cannot be read or written is reported with its index.
#[inline]
pub(crate) fn fields_len<F: FieldSource>(fields: &[F], depth: usize) -> Result<usize, RecordError> {
    fields_len_k::<F, true>(fields, depth)
}

/// [`fields_len`]; without `KEYED` (an array's members) keys are neither
/// read nor written.
#[inline(always)]
fn fields_len_k<F: FieldSource, const KEYED: bool>(
    fields: &[F],
    depth: usize,
) -> Result<usize, RecordError> {
    if depth > MAX_DEPTH {
        return Err(RecordError::TooDeep);
    }
    let mut n = 0usize;
    for (index, f) in fields.iter().enumerate() {
        n += 4;
        if KEYED {
            let key = f.key().ok_or(RecordError::NullKey { index })?;
            if key.len() > u16::MAX as usize {
                return Err(RecordError::KeyTooLong { index });
            }
            n += key.len();
        }
        n += match f.value() {
            ValueRef::Null => 0,
            ValueRef::Bool(_) => 1,
            ValueRef::I64(_) | ValueRef::U64(_) | ValueRef::F64(_) => 8,
            ValueRef::Str(s) | ValueRef::Bytes(s) => {
                if s.len() > u32::MAX as usize {
                    return Err(RecordError::TooMany);
                }
                4 + s.len()
            }
            ValueRef::Group(g) => group_len::<F, true>(g, depth)?,
            ValueRef::Array(g) => group_len::<F, false>(g, depth)?,
            ValueRef::Invalid(InvalidField::NullPointer) => {
                return Err(RecordError::NullValue { index })
            }
            ValueRef::Invalid(InvalidField::UnknownType(code)) => {
                return Err(RecordError::UnknownType { index, code })
            }
        };
    }
    Ok(n)
}

/// Byte length of a group value (kept out of line so the common, flat
/// case of [`fields_len`] inlines into the hot path).
#[inline(never)]
fn group_len<F: FieldSource, const KEYED: bool>(
    g: &[F],
    depth: usize,
) -> Result<usize, RecordError> {
    let inner = fields_len_k::<F, KEYED>(g, depth + 1)?;
    if inner > u32::MAX as usize || g.len() > u32::MAX as usize {
        return Err(RecordError::TooMany);
    }
    Ok(8 + inner)
}

/// Byte length of a whole record body.
#[inline]
pub(crate) fn record_len(has_ctx: bool, msg_len: usize, fields_len: usize) -> usize {
    FIXED_LEN + if has_ctx { CTX_LEN } else { 0 } + msg_len + fields_len
}

/// The fixed part of a record, as the producer fills it in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Head<'c> {
    pub ts_ns: u64,
    pub seq: u64,
    pub logger_id: u64,
    pub level: u8,
    pub ctx: Option<&'c TraceContext>,
}

/// Appends a whole record body to `buf` and returns where it is: for the
/// records ringlog makes itself (drop reports, recovery notes).
pub(crate) fn append_record(
    buf: &mut Vec<u8>,
    head: &Head<'_>,
    msg: &[u8],
    fields: &[crate::value::Field<'_>],
) -> std::ops::Range<usize> {
    // Our own fields always size; if one ever did not, the record goes
    // without fields rather than with a wrong size.
    let (flen, fields) = match fields_len(fields, 0) {
        Ok(n) => (n, fields),
        Err(_) => (0, &[][..]),
    };
    let len = record_len(head.ctx.is_some(), msg.len(), flen);
    let off = buf.len();
    buf.resize(off + len, 0);
    // SAFETY: `buf[off..]` was just sized to `record_len(..)` bytes for
    // exactly this head, message and fields.
    unsafe { write_record(buf.as_mut_ptr().add(off), head, msg, fields) };
    off..off + len
}

/// A raw cursor over memory the caller has sized with [`record_len`].
pub(crate) struct Writer {
    p: *mut u8,
}

impl Writer {
    /// # Safety
    /// `p` must be valid for writes of every byte later written through it.
    pub(crate) unsafe fn new(p: *mut u8) -> Self {
        Writer { p }
    }
    #[inline(always)]
    fn put(&mut self, src: &[u8]) {
        // SAFETY: `Writer::new`'s contract: the destination was sized by `record_len`/`fields_len`,
        // which count exactly the bytes put here; `src` is a separate borrow, never the buffer.
        unsafe {
            copy_small(src.as_ptr(), self.p, src.len());
            self.p = self.p.add(src.len());
        }
    }
    #[inline(always)]
    fn put_raw<T: Copy>(&mut self, v: T) {
        // SAFETY: as in `put`: the destination was sized for these bytes.
        unsafe {
            std::ptr::write_unaligned(self.p.cast::<T>(), v);
            self.p = self.p.add(std::mem::size_of::<T>());
        }
    }
    /// A field's tag, a zero byte and the key length (one store, in the
    /// order `field_at` reads them), then the key.
    #[inline(always)]
    fn put_key(&mut self, t: u8, key: &[u8]) {
        let kl = (key.len() as u16).to_ne_bytes();
        self.put_raw::<[u8; 4]>([t, 0, kl[0], kl[1]]);
        self.put(key);
    }
    #[inline(always)]
    fn put_u8(&mut self, v: u8) {
        self.put_raw(v)
    }
    #[inline(always)]
    fn put_u16(&mut self, v: u16) {
        self.put_raw(v)
    }
    #[inline(always)]
    fn put_u32(&mut self, v: u32) {
        self.put_raw(v)
    }
    #[inline(always)]
    fn put_u64(&mut self, v: u64) {
        self.put_raw(v)
    }
}

/// Copies `n` bytes without a call into `memcpy` for the short keys and
/// values that make up most records (two overlapping loads and stores cover
/// any length up to 32). Used by the record writer and the encoders; in
/// both, `memmove` calls were among the largest costs in the profiles.
///
/// # Safety
/// `src` is valid for reads and `dst` for writes of `n` bytes, and the two
/// ranges do not overlap.
#[inline(always)]
pub(crate) unsafe fn copy_small(src: *const u8, dst: *mut u8, n: usize) {
    use std::ptr::{read_unaligned as rd, write_unaligned as wr};
    // SAFETY: every access below is within the first `n` bytes of `src`
    // and `dst` (the branches bound `n`), per the function's contract.
    unsafe {
        if n <= 16 {
            if n >= 8 {
                let a: u64 = rd(src.cast());
                let b: u64 = rd(src.add(n - 8).cast());
                wr(dst.cast(), a);
                wr(dst.add(n - 8).cast(), b);
            } else if n >= 4 {
                let a: u32 = rd(src.cast());
                let b: u32 = rd(src.add(n - 4).cast());
                wr(dst.cast(), a);
                wr(dst.add(n - 4).cast(), b);
            } else if n > 0 {
                *dst = *src;
                *dst.add(n / 2) = *src.add(n / 2);
                *dst.add(n - 1) = *src.add(n - 1);
            }
        } else if n <= 32 {
            let a: u128 = rd(src.cast());
            let b: u128 = rd(src.add(n - 16).cast());
            wr(dst.cast(), a);
            wr(dst.add(n - 16).cast(), b);
        } else {
            std::ptr::copy_nonoverlapping(src, dst, n);
        }
    }
}

/// Writes a record body.
///
/// # Safety
/// `dst` must be valid for `record_len(h.ctx.is_some(), msg.len(), flen)`
/// bytes, where `flen` is what [`fields_len`] returned for `fields`.
#[inline]
pub(crate) unsafe fn write_record<F: FieldSource>(
    dst: *mut u8,
    h: &Head<'_>,
    msg: &[u8],
    fields: &[F],
) {
    // SAFETY: forwarded from this function's contract.
    let mut w = unsafe { Writer::new(dst) };
    w.put_u64(h.ts_ns);
    w.put_u64(h.seq);
    w.put_u64(h.logger_id);
    w.put_u8(h.level);
    w.put_u8(if h.ctx.is_some() { FLAG_CTX } else { 0 });
    w.put_u16(fields.len() as u16);
    w.put_u32(msg.len() as u32);
    if let Some(ctx) = h.ctx {
        w.put(&ctx.trace_id);
        w.put(&ctx.span_id);
        w.put_raw::<[u8; 8]>([ctx.flags, 0, 0, 0, 0, 0, 0, 0]);
    }
    w.put(msg);
    write_fields(&mut w, fields);
}

/// Writes a call-site record body and returns its CRC32C: the fixed part
/// (with `word3`, the site's level, flags and count, plus the
/// trace-context flag), the trace context, then each value in the word
/// encoding ([`site_value_at`]). Every piece is a whole 8-byte word, so on
/// CPUs with SSE4.2 the CRC is taken word by word as the words are
/// stored, without reading the body back.
///
/// # Safety
/// `dst` must be valid for `body` bytes, where `body` is
/// `record_len(h.ctx.is_some(), 0, vlen)` and `vlen` is what
/// `site::values_len` returned for these `tags` and `values`.
#[inline(always)]
pub(crate) unsafe fn write_site_record<A: crate::site::ArgSource>(
    dst: *mut u8,
    body: u64,
    h: &Head<'_>,
    word3: u64,
    tags: &[u8],
    values: &[A],
) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::crc::has_sse42() {
            // SAFETY: forwarded; the CPU has SSE4.2 (checked just above).
            return !(unsafe { write_site_words::<A, true>(dst, h, word3, tags, values) } as u32);
        }
    }
    // SAFETY: this function's contract.
    unsafe {
        write_site_words::<A, false>(dst, h, word3, tags, values);
        crate::crc::crc32c(std::slice::from_raw_parts(dst, body as usize))
    }
}

/// Stores the words of a call-site record body; with `CRC`, returns the
/// running CRC32C state over them (SSE4.2 only; the caller must have it).
///
/// # Safety
/// As [`write_site_record`]; with `CRC`, the CPU supports SSE4.2.
#[inline(always)]
unsafe fn write_site_words<A: crate::site::ArgSource, const CRC: bool>(
    dst: *mut u8,
    h: &Head<'_>,
    word3: u64,
    tags: &[u8],
    values: &[A],
) -> u64 {
    use crate::site::Arg;
    let mut p = dst.cast::<u64>();
    let mut crc: u64 = 0xffff_ffff;
    macro_rules! put {
        ($w:expr) => {{
            let w: u64 = $w;
            // `record_len` over `site::values_len` counts the same words
            // for the same values.
            // SAFETY: the body was sized for every word stored here.
            unsafe {
                std::ptr::write_unaligned(p, w);
                p = p.add(1);
            }
            #[cfg(target_arch = "x86_64")]
            if CRC {
                // SAFETY: `CRC` is set only on CPUs with SSE4.2.
                crc = unsafe { crate::crc::crc32_word(crc, u64::from_le(w)) };
            }
        }};
    }
    put!(h.ts_ns);
    put!(h.seq);
    put!(h.logger_id);
    if let Some(ctx) = h.ctx {
        put!(word3 | u64::from_ne_bytes([0, FLAG_CTX, 0, 0, 0, 0, 0, 0]));
        let id = &ctx.trace_id;
        put!(u64::from_ne_bytes(id[..8].try_into().unwrap_or_default()));
        put!(u64::from_ne_bytes(id[8..].try_into().unwrap_or_default()));
        put!(u64::from_ne_bytes(ctx.span_id));
        put!(u64::from_ne_bytes([ctx.flags, 0, 0, 0, 0, 0, 0, 0]));
    } else {
        put!(word3);
    }
    for (&t, v) in tags.iter().zip(values) {
        // `values_len` accepted every value; the contract of `ArgSource`
        // makes this second read give the same answer.
        let var = varies(t);
        match v.arg(t) {
            Ok(Arg::Word(x)) if !var && t != tag::NULL => {
                put!(if t == tag::BOOL { (x != 0) as u64 } else { x })
            }
            Ok(Arg::Bytes(s)) if var => {
                put!(s.len() as u64);
                let mut src = s.as_ptr();
                let mut left = s.len();
                while left >= 8 {
                    // SAFETY: 8 bytes remain in `s` at `src`.
                    put!(unsafe { std::ptr::read_unaligned(src.cast::<u64>()) });
                    // SAFETY: still inside `s` (or one past its end).
                    src = unsafe { src.add(8) };
                    left -= 8;
                }
                if left > 0 {
                    // SAFETY: `left` (1..=7) bytes remain at `src`.
                    put!(unsafe { load_tail(src, left) });
                }
            }
            // A fixed-size value the size pass did not read (see
            // `ArgSource::WORDS_ALWAYS_READ`) and that cannot be read as
            // its kind: its word was sized all the same.
            _ if !var && t != tag::NULL => put!(0),
            _ => {}
        }
    }
    crc
}

/// The `n` bytes at `src` (1 to 7) as the low bytes of a little-endian
/// word, the rest zero, assembled in registers: going through a stack
/// buffer would make the word's load wait on a failed store forward.
///
/// # Safety
/// `src` is valid for reads of `n` bytes, `0 < n < 8`.
#[inline(always)]
pub(crate) unsafe fn load_tail(src: *const u8, n: usize) -> u64 {
    use std::ptr::read_unaligned as rd;
    debug_assert!(n > 0 && n < 8);
    // SAFETY: every read is within the first `n` bytes at `src`.
    let v = unsafe {
        if n >= 4 {
            let a = u32::from_le(rd(src.cast::<u32>())) as u64;
            let b = u32::from_le(rd(src.add(n - 4).cast::<u32>())) as u64;
            a | (b << (8 * (n - 4)))
        } else {
            let a = *src as u64;
            let b = *src.add(n / 2) as u64;
            let c = *src.add(n - 1) as u64;
            a | (b << (8 * (n / 2))) | (c << (8 * (n - 1)))
        }
    };
    u64::from_le(v)
}

/// Writes fields that [`fields_len`] accepted.
#[inline]
pub(crate) fn write_fields<F: FieldSource>(w: &mut Writer, fields: &[F]) {
    write_fields_k::<F, true>(w, fields)
}

/// [`write_fields`]; without `KEYED` (an array's members) every key is
/// written empty.
#[inline(always)]
fn write_fields_k<F: FieldSource, const KEYED: bool>(w: &mut Writer, fields: &[F]) {
    for f in fields {
        let key = if KEYED { f.key().unwrap_or(b"") } else { b"" };
        // One match per field: the tag, the key and the value are written
        // from the same arm (measured: fewer dispatches on the hot path).
        match f.value() {
            ValueRef::Null | ValueRef::Invalid(_) => w.put_key(tag::NULL, key),
            ValueRef::Bool(b) => {
                w.put_key(tag::BOOL, key);
                w.put_u8(b as u8)
            }
            ValueRef::I64(v) => {
                w.put_key(tag::I64, key);
                w.put_u64(v as u64)
            }
            ValueRef::U64(v) => {
                w.put_key(tag::U64, key);
                w.put_u64(v)
            }
            ValueRef::F64(v) => {
                w.put_key(tag::F64, key);
                w.put_u64(v.to_bits())
            }
            ValueRef::Str(s) => {
                w.put_key(tag::STR, key);
                w.put_u32(s.len() as u32);
                w.put(s);
            }
            ValueRef::Bytes(s) => {
                w.put_key(tag::BYTES, key);
                w.put_u32(s.len() as u32);
                w.put(s);
            }
            ValueRef::Group(g) => {
                w.put_key(tag::GROUP, key);
                write_group::<F, true>(w, g)
            }
            ValueRef::Array(g) => {
                w.put_key(tag::ARRAY, key);
                write_group::<F, false>(w, g)
            }
        }
    }
}

/// Writes a group value (out of line, as [`group_len`]).
#[inline(never)]
fn write_group<F: FieldSource, const KEYED: bool>(w: &mut Writer, g: &[F]) {
    // fields_len already succeeded for this group.
    let inner = fields_len_k::<F, KEYED>(g, 0).unwrap_or(0);
    w.put_u32(g.len() as u32);
    w.put_u32(inner as u32);
    write_fields_k::<F, KEYED>(w, g);
}

/// Encodes fields into a fresh buffer (bound fields of a child logger).
///
/// # Errors
/// As [`fields_len`].
pub(crate) fn encode_fields<F: FieldSource>(fields: &[F]) -> Result<Vec<u8>, RecordError> {
    let n = fields_len(fields, 0)?;
    let mut v = vec![0u8; n];
    // SAFETY: `v` holds exactly `n` bytes, the size `fields_len` computed.
    let mut w = unsafe { Writer::new(v.as_mut_ptr()) };
    write_fields(&mut w, fields);
    Ok(v)
}

/// Why a stored record could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The body ends before a length says it should.
    Truncated,
    /// A tag, level or flag has a value no writer produces.
    Invalid,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecodeError::Truncated => "record body is truncated",
            DecodeError::Invalid => "record body holds an invalid tag, level or flag",
        })
    }
}

#[inline(always)]
fn rd_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
#[inline(always)]
fn rd_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
#[inline(always)]
fn rd_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// A decoded record that borrows the ring (or file) it was read from.
#[derive(Clone, Debug)]
pub struct RecordView<'a> {
    /// ns since the Unix epoch, UTC.
    pub ts_ns: u64,
    /// Per-ring sequence number.
    pub seq: u64,
    /// Logger id, resolved through the registry.
    pub logger_id: u64,
    /// Severity.
    pub level: Level,
    /// Trace context, if the record carries one.
    pub trace: Option<TraceContext>,
    /// Message bytes (UTF-8 expected).
    pub msg: &'a [u8],
    /// The record's own fields (bound fields come from the logger).
    pub fields: Fields<'a>,
    /// A call-site record: `logger_id` names the site, and the message
    /// and keys come from its definition ([`RecordView::with_site`]).
    pub site: bool,
}

impl<'a> RecordView<'a> {
    /// Decodes and fully validates a record body.
    ///
    /// # Errors
    /// [`DecodeError`] when any length, tag or level is inconsistent; the
    /// body is never read out of bounds.
    /// A call-site record's values can only be checked against its key
    /// table: [`RecordView::with_site_checked`] does that.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let r = Self::decode_head(body)?;
        if r.site {
            return Ok(r);
        }
        let used = validate_fields(r.fields.buf, r.fields.count, 0)?;
        if used != r.fields.buf.len() {
            return Err(DecodeError::Invalid);
        }
        Ok(r)
    }

    /// Decodes the fixed part and the message of a body that this process
    /// wrote itself (a live ring), without walking the fields first. Still
    /// memory-safe on any input: the field iterator checks every bound and
    /// stops at the first malformed field.
    ///
    /// # Errors
    /// [`DecodeError`] when the fixed part or the message is inconsistent.
    #[inline]
    pub fn decode_trusted(body: &'a [u8]) -> Result<Self, DecodeError> {
        Self::decode_head(body)
    }

    #[inline]
    fn decode_head(body: &'a [u8]) -> Result<Self, DecodeError> {
        use DecodeError::*;
        let ts_ns = rd_u64(body, 0).ok_or(Truncated)?;
        let seq = rd_u64(body, 8).ok_or(Truncated)?;
        let logger_id = rd_u64(body, 16).ok_or(Truncated)?;
        let level = Level::from_number(*body.get(24).ok_or(Truncated)?).ok_or(Invalid)?;
        let flags = *body.get(25).ok_or(Truncated)?;
        if flags & !(FLAG_CTX | FLAG_SITE) != 0 {
            return Err(Invalid);
        }
        let site = flags & FLAG_SITE != 0;
        let nfields = rd_u16(body, 26).ok_or(Truncated)? as u32;
        let msg_len = rd_u32(body, 28).ok_or(Truncated)? as usize;
        if site && msg_len != 0 {
            return Err(Invalid);
        }
        let mut at = FIXED_LEN;
        let trace = if flags & FLAG_CTX != 0 {
            let c = body.get(at..at + CTX_LEN).ok_or(Truncated)?;
            at += CTX_LEN;
            let mut ctx = TraceContext::default();
            ctx.trace_id.copy_from_slice(&c[0..16]);
            ctx.span_id.copy_from_slice(&c[16..24]);
            ctx.flags = c[24];
            Some(ctx)
        } else {
            None
        };
        let msg = body.get(at..at + msg_len).ok_or(Truncated)?;
        at += msg_len;
        let rest = &body[at..];
        Ok(RecordView {
            ts_ns,
            seq,
            logger_id,
            level,
            trace,
            msg,
            fields: Fields {
                buf: rest,
                count: nfields,
                // A site record's fields read nothing until the key table
                // is supplied.
                keys: if site { Some(&[]) } else { None },
            },
            site,
        })
    }

    /// A call-site record completed from its site's definition: `msg`
    /// and the key table `keys`. Reading the fields stays in bounds on
    /// any input and stops at the first value that does not fit.
    /// A record that is not a site record is returned unchanged.
    #[inline]
    pub fn with_site<'b>(self, msg: &'b [u8], keys: &'b [u8]) -> RecordView<'b>
    where
        'a: 'b,
    {
        if !self.site {
            return self;
        }
        RecordView {
            msg,
            fields: Fields {
                keys: Some(keys),
                ..self.fields
            },
            ..self
        }
    }

    /// As [`RecordView::with_site`], after checking that the values match
    /// the key table exactly (recovery reads bodies from outside).
    ///
    /// # Errors
    /// [`DecodeError`] when a value is cut short or bytes are left over.
    pub fn with_site_checked<'b>(
        self,
        msg: &'b [u8],
        keys: &'b [u8],
    ) -> Result<RecordView<'b>, DecodeError>
    where
        'a: 'b,
    {
        if self.site
            && validate_site_values(self.fields.buf, keys, self.fields.count)?
                != self.fields.buf.len()
        {
            return Err(DecodeError::Invalid);
        }
        Ok(self.with_site(msg, keys))
    }
}

/// True when `keys` is a well-formed key table of exactly `count` keys,
/// each of a known, non-group type.
pub(crate) fn key_table_ok(keys: &[u8], count: u16) -> bool {
    let mut at = 0usize;
    for _ in 0..count {
        match key_at(keys, at) {
            Some((t, _, next)) if t <= tag::BYTES => at = next,
            _ => return false,
        }
    }
    at == keys.len()
}

/// Checks `count` call-site values at the start of `b` against the key
/// table `keys` (which must hold exactly `count` entries, none a group);
/// returns the values' length.
pub(crate) fn validate_site_values(
    b: &[u8],
    keys: &[u8],
    count: u32,
) -> Result<usize, DecodeError> {
    let (mut k, mut at) = (0usize, 0usize);
    for _ in 0..count {
        let (t, _, kv) = key_at(keys, k).ok_or(DecodeError::Invalid)?;
        if t == tag::GROUP {
            return Err(DecodeError::Invalid);
        }
        let (_, next) = site_value_at(t, b, at).ok_or(DecodeError::Truncated)?;
        k = kv;
        at = next;
    }
    if k != keys.len() {
        return Err(DecodeError::Invalid);
    }
    Ok(at)
}

/// Checks `count` encoded fields at the start of `b`; returns their length.
pub(crate) fn validate_fields(b: &[u8], count: u32, depth: usize) -> Result<usize, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::Invalid);
    }
    let mut at = 0usize;
    for _ in 0..count {
        let (_, next) = field_at(b, at).ok_or(DecodeError::Truncated)?;
        if b[at] == tag::GROUP || b[at] == tag::ARRAY {
            let klen = rd_u16(b, at + 2).unwrap_or(0) as usize;
            let v = at + 4 + klen;
            let n = rd_u32(b, v).unwrap_or(0);
            let inner = &b[v + 8..next];
            if validate_fields(inner, n, depth + 1)? != inner.len() {
                return Err(DecodeError::Invalid);
            }
        }
        at = next;
    }
    Ok(at)
}

/// Decodes the field at `at`; returns it and the offset after it.
#[inline]
fn field_at(b: &[u8], at: usize) -> Option<(FieldView<'_>, usize)> {
    let (t, key, v) = key_at(b, at)?;
    let (value, next) = value_at(t, b, v)?;
    Some((FieldView { key, value }, next))
}

/// Decodes the tag and key at `at`; returns them and the offset after.
#[inline(always)]
fn key_at(b: &[u8], at: usize) -> Option<(u8, &[u8], usize)> {
    let t = *b.get(at)?;
    let klen = rd_u16(b, at + 2)? as usize;
    let key = b.get(at + 4..at + 4 + klen)?;
    Some((t, key, at + 4 + klen))
}

/// Decodes a call-site value of type `t` at `v` in the word encoding;
/// returns it and the offset after. Every value is whole 8-byte words:
/// null takes none; bool, integers and floats one; text and bytes a
/// length word, then the bytes, zero-padded to a whole word.
#[inline(always)]
fn site_value_at(t: u8, b: &[u8], v: usize) -> Option<(ValueView<'_>, usize)> {
    let (value, next) = match t {
        tag::NULL => (ValueView::Null, v),
        tag::BOOL => (ValueView::Bool(rd_u64(b, v)? != 0), v + 8),
        tag::I64 => (ValueView::I64(rd_u64(b, v)? as i64), v + 8),
        tag::U64 => (ValueView::U64(rd_u64(b, v)?), v + 8),
        tag::F64 => (ValueView::F64(f64::from_bits(rd_u64(b, v)?)), v + 8),
        tag::STR | tag::BYTES => {
            let n = usize::try_from(rd_u64(b, v)?).ok()?;
            let s = b.get(v + 8..(v + 8).checked_add(n)?)?;
            let next = v + 8 + n.checked_add(7)? / 8 * 8;
            if next > b.len() {
                return None;
            }
            let val = if t == tag::STR {
                ValueView::Str(s)
            } else {
                ValueView::Bytes(s)
            };
            (val, next)
        }
        _ => return None,
    };
    Some((value, next))
}

/// Decodes a value of type `t` at `v`; returns it and the offset after.
#[inline(always)]
fn value_at(t: u8, b: &[u8], v: usize) -> Option<(ValueView<'_>, usize)> {
    let (value, next) = match t {
        tag::NULL => (ValueView::Null, v),
        tag::BOOL => (ValueView::Bool(*b.get(v)? != 0), v + 1),
        tag::I64 => (ValueView::I64(rd_u64(b, v)? as i64), v + 8),
        tag::U64 => (ValueView::U64(rd_u64(b, v)?), v + 8),
        tag::F64 => (ValueView::F64(f64::from_bits(rd_u64(b, v)?)), v + 8),
        tag::STR | tag::BYTES => {
            let n = rd_u32(b, v)? as usize;
            let s = b.get(v + 4..v + 4 + n)?;
            let val = if t == tag::STR {
                ValueView::Str(s)
            } else {
                ValueView::Bytes(s)
            };
            (val, v + 4 + n)
        }
        tag::GROUP | tag::ARRAY => {
            let count = rd_u32(b, v)?;
            let len = rd_u32(b, v + 4)? as usize;
            let buf = b.get(v + 8..v + 8 + len)?;
            let inner = Fields::new(buf, count);
            let val = if t == tag::GROUP {
                ValueView::Group(inner)
            } else {
                ValueView::Array(inner)
            };
            (val, v + 8 + len)
        }
        _ => return None,
    };
    Some((value, next))
}

/// An iterator over encoded fields.
#[derive(Clone, Debug)]
pub struct Fields<'a> {
    buf: &'a [u8],
    count: u32,
    /// A call-site record's remaining key table; `None` when the keys are
    /// in `buf` with the values.
    keys: Option<&'a [u8]>,
}

impl<'a> Fields<'a> {
    /// Fields over an encoded buffer that [`validate_fields`] accepted.
    pub(crate) fn new(buf: &'a [u8], count: u32) -> Self {
        Fields {
            buf,
            count,
            keys: None,
        }
    }
    /// An empty field list.
    pub fn empty() -> Self {
        Self::new(&[], 0)
    }
    /// How many fields remain.
    pub fn len(&self) -> usize {
        self.count as usize
    }
    /// True when no field remains.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = FieldView<'a>;
    #[inline]
    fn next(&mut self) -> Option<FieldView<'a>> {
        if self.count == 0 {
            return None;
        }
        let got = match self.keys {
            None => field_at(self.buf, 0).map(|(f, next)| {
                self.buf = &self.buf[next..];
                f
            }),
            Some(keys) => key_at(keys, 0).and_then(|(t, key, kv)| {
                let (value, next) = site_value_at(t, self.buf, 0)?;
                self.keys = Some(&keys[kv..]);
                self.buf = &self.buf[next..];
                Some(FieldView { key, value })
            }),
        };
        match got {
            Some(f) => {
                self.count -= 1;
                Some(f)
            }
            None => {
                self.count = 0;
                None
            }
        }
    }
}

/// One decoded field.
#[derive(Clone, Debug)]
pub struct FieldView<'a> {
    /// Key bytes.
    pub key: &'a [u8],
    /// Value.
    pub value: ValueView<'a>,
}

/// One decoded value.
#[derive(Clone, Debug)]
pub enum ValueView<'a> {
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
    Group(Fields<'a>),
    /// A list: its members' keys are empty.
    Array(Fields<'a>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Field, Value};

    fn roundtrip(ctx: Option<&TraceContext>, msg: &[u8], fields: &[Field<'_>]) -> Vec<u8> {
        let flen = fields_len(fields, 0).unwrap();
        let n = record_len(ctx.is_some(), msg.len(), flen);
        let mut buf = vec![0u8; n];
        let h = Head {
            ts_ns: 42,
            seq: 7,
            logger_id: 3,
            level: 9,
            ctx,
        };
        // SAFETY: buf has exactly record_len bytes.
        unsafe { write_record(buf.as_mut_ptr(), &h, msg, fields) };
        buf
    }

    #[test]
    fn load_tail_is_the_bytes_zero_padded_to_a_word() {
        let data: Vec<u8> = (1..=16u8).map(|b| b.wrapping_mul(37)).collect();
        for n in 1..8 {
            for start in 0..8 {
                let src = &data[start..start + n];
                let mut want = [0u8; 8];
                want[..n].copy_from_slice(src);
                // SAFETY: `src` holds `n` bytes, 0 < n < 8.
                let got = unsafe { load_tail(src.as_ptr(), n) };
                assert_eq!(got.to_ne_bytes(), want, "{n} bytes at {start}");
            }
        }
    }
    #[test]
    fn every_field_type_survives_a_write_and_decode() {
        let inner = [Field::i64("a", -1), Field::new("n", Value::Null)];
        let fields = [
            Field::str("s", "text"),
            Field::i64("i", i64::MIN),
            Field::u64("u", u64::MAX),
            Field::f64("f", 1.5),
            Field::bool("b", true),
            Field::bytes("x", &[0, 255]),
            Field::group("g", &inner),
            Field::new("z", Value::Null),
            Field::array("a", &inner),
        ];
        let ctx = TraceContext::new([9; 16], [8; 8], 1).unwrap();
        let buf = roundtrip(Some(&ctx), b"hello", &fields);
        let r = RecordView::decode(&buf).unwrap();
        assert_eq!((r.ts_ns, r.seq, r.logger_id), (42, 7, 3));
        assert_eq!(r.level, Level::INFO);
        assert_eq!(r.trace, Some(ctx));
        assert_eq!(r.msg, b"hello");
        let got: Vec<_> = r.fields.clone().collect();
        assert_eq!(got.len(), 9);
        assert!(matches!(got[0].value, ValueView::Str(b"text")));
        assert!(matches!(got[1].value, ValueView::I64(i64::MIN)));
        assert!(matches!(got[2].value, ValueView::U64(u64::MAX)));
        assert!(matches!(got[3].value, ValueView::F64(f) if f == 1.5));
        assert!(matches!(got[4].value, ValueView::Bool(true)));
        assert!(matches!(got[5].value, ValueView::Bytes(&[0, 255])));
        match &got[6].value {
            ValueView::Group(g) => {
                let g: Vec<_> = g.clone().collect();
                assert_eq!(g.len(), 2);
                assert_eq!(g[0].key, b"a");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(got[7].key, b"z");
        match &got[8].value {
            ValueView::Array(a) => {
                let a: Vec<_> = a.clone().collect();
                assert_eq!(a.len(), 2);
                assert!(a.iter().all(|f| f.key.is_empty()), "members have no key");
                assert!(matches!(a[0].value, ValueView::I64(-1)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_or_corrupt_bodies_are_rejected_without_panicking() {
        let fields = [Field::str("s", "text"), Field::i64("i", 1)];
        let buf = roundtrip(None, b"m", &fields);
        for cut in 0..buf.len() {
            assert!(RecordView::decode(&buf[..cut]).is_err(), "cut at {cut}");
            // The trusted decoder may accept a cut body, but iterating it
            // must stay in bounds and stop.
            if let Ok(r) = RecordView::decode_trusted(&buf[..cut]) {
                assert!(r.fields.len() <= 2);
            }
        }
        for i in 0..buf.len() {
            for v in [0u8, 0x7f, 0xff] {
                let mut b = buf.clone();
                b[i] = v;
                let _ = RecordView::decode(&b); // must not panic
                if let Ok(r) = RecordView::decode_trusted(&b) {
                    for f in r.fields {
                        if let ValueView::Group(g) = f.value {
                            let _ = g.count();
                        }
                    }
                }
            }
        }
    }

    /// A site key table and a site record body with these values.
    fn site_body(
        keys: &[(&str, u8)],
        values: &[Value<'_>],
        ctx: Option<&TraceContext>,
    ) -> (Vec<u8>, Vec<u8>) {
        let mut table = Vec::new();
        for (k, t) in keys {
            table.extend_from_slice(&[*t, 0]);
            table.extend_from_slice(&(k.len() as u16).to_ne_bytes());
            table.extend_from_slice(k.as_bytes());
        }
        let tags: Vec<u8> = keys.iter().map(|k| k.1).collect();
        let vlen: usize = tags
            .iter()
            .zip(values)
            .map(|(&t, v)| match (t, v) {
                (tag::NULL, _) => 0,
                (_, Value::Str(s) | Value::Bytes(s)) => 8 + s.len().div_ceil(8) * 8,
                _ => 8,
            })
            .sum();
        let len = record_len(ctx.is_some(), 0, vlen);
        let mut buf = vec![0xa5u8; len];
        let h = Head {
            ts_ns: 42,
            seq: 7,
            logger_id: 3,
            level: 13,
            ctx,
        };
        let n = (tags.len() as u16).to_ne_bytes();
        let word3 = u64::from_ne_bytes([13, FLAG_SITE, n[0], n[1], 0, 0, 0, 0]);
        let dst = buf.as_mut_ptr();
        // SAFETY: buf holds exactly the body's length.
        let crc = unsafe { write_site_record(dst, len as u64, &h, word3, &tags, values) };
        assert_eq!(crc, crate::crc::crc32c(&buf), "the CRC taken while writing");
        // Written without SSE4.2 too: the same bytes.
        let mut plain = vec![0x5au8; len];
        // SAFETY: as above.
        unsafe {
            write_site_words::<Value<'_>, false>(plain.as_mut_ptr(), &h, word3, &tags, values)
        };
        assert_eq!(plain, buf);
        (table, buf)
    }

    #[test]
    fn a_site_record_decodes_through_its_key_table_for_every_kind() {
        let keys = [
            ("s", tag::STR),
            ("i", tag::I64),
            ("u", tag::U64),
            ("f", tag::F64),
            ("b", tag::BOOL),
            ("x", tag::BYTES),
            ("z", tag::NULL),
            ("long", tag::STR),
        ];
        let values = [
            Value::Str(b"text"),
            Value::I64(i64::MIN),
            Value::U64(u64::MAX),
            Value::F64(-1.5),
            Value::Bool(true),
            Value::Bytes(&[0, 255, 7, 7, 7, 7, 7, 7]),
            Value::Null,
            Value::Str(b"seventeen bytes!!"),
        ];
        let ctx = TraceContext::new([9; 16], [8; 8], 1).unwrap();
        for ctx in [None, Some(&ctx)] {
            let (table, buf) = site_body(&keys, &values, ctx);
            assert_eq!(buf.len() % 8, 0, "whole words");
            assert!(key_table_ok(&table, keys.len() as u16));
            let r = RecordView::decode(&buf).unwrap();
            assert!(r.site && r.msg.is_empty());
            assert_eq!(
                r.fields.clone().count(),
                0,
                "no fields before the key table"
            );
            assert_eq!(
                (r.ts_ns, r.seq, r.logger_id, r.level),
                (42, 7, 3, Level::WARN)
            );
            assert_eq!(r.trace.as_ref(), ctx);
            let r = r.with_site_checked(b"hello", &table).unwrap();
            assert_eq!(r.msg, b"hello");
            let got: Vec<_> = r.fields.collect();
            assert_eq!(got.len(), keys.len());
            for (f, (k, _)) in got.iter().zip(&keys) {
                assert_eq!(f.key, k.as_bytes());
            }
            assert!(matches!(got[0].value, ValueView::Str(b"text")));
            assert!(matches!(got[1].value, ValueView::I64(i64::MIN)));
            assert!(matches!(got[2].value, ValueView::U64(u64::MAX)));
            assert!(matches!(got[3].value, ValueView::F64(f) if f == -1.5));
            assert!(matches!(got[4].value, ValueView::Bool(true)));
            assert!(matches!(
                got[5].value,
                ValueView::Bytes(&[0, 255, 7, 7, 7, 7, 7, 7])
            ));
            assert!(matches!(got[6].value, ValueView::Null));
            assert!(matches!(got[7].value, ValueView::Str(b"seventeen bytes!!")));
        }
    }

    #[test]
    fn damaged_site_values_or_key_tables_are_refused_without_panicking() {
        let keys = [("s", tag::STR), ("i", tag::I64)];
        let (table, buf) = site_body(&keys, &[Value::Str(b"abc"), Value::I64(5)], None);
        // A key table of the wrong count, with a group, or cut short.
        assert!(!key_table_ok(&table, 1) && !key_table_ok(&table, 3));
        assert!(!key_table_ok(&table[..table.len() - 1], 2));
        let mut grp = table.clone();
        grp[0] = tag::GROUP;
        assert!(!key_table_ok(&grp, 2));
        // Every cut and every byte value at every offset: refused or read
        // in bounds, never a panic.
        for cut in FIXED_LEN..buf.len() {
            let r = RecordView::decode(&buf[..cut]).unwrap();
            assert!(
                r.clone().with_site_checked(b"m", &table).is_err(),
                "cut at {cut}"
            );
            let _ = r.with_site(b"m", &table).fields.count();
        }
        for i in FIXED_LEN..buf.len() {
            for v in [0u8, 0x7f, 0xff] {
                let mut b = buf.clone();
                b[i] = v;
                if let Ok(r) = RecordView::decode(&b) {
                    let _ = r.clone().with_site_checked(b"m", &table);
                    let _ = r.with_site(b"m", &table).fields.count();
                }
            }
        }
        // A site record must not carry a message.
        let mut b = buf.clone();
        b[28] = 1;
        assert_eq!(RecordView::decode(&b).err(), Some(DecodeError::Invalid));
    }

    #[test]
    fn short_copies_are_exact_for_every_length() {
        let src: Vec<u8> = (0..64u8).collect();
        for n in 0..64 {
            let mut dst = vec![0xeeu8; 66];
            // SAFETY: both buffers are long enough and distinct.
            unsafe { copy_small(src.as_ptr(), dst.as_mut_ptr().add(1), n) };
            assert_eq!(&dst[1..1 + n], &src[..n]);
            assert_eq!(dst[0], 0xee);
            assert_eq!(dst[1 + n], 0xee, "wrote past {n}");
        }
    }

    #[test]
    fn nesting_past_the_limit_is_refused() {
        fn nest(depth: usize) -> Result<usize, RecordError> {
            // Build depth levels of groups on the stack recursively.
            fn go(d: usize, leaf: &[Field<'_>]) -> Result<usize, RecordError> {
                if d == 0 {
                    return fields_len(leaf, 0);
                }
                let g = [Field::group("g", leaf)];
                go(d - 1, &g)
            }
            go(depth, &[Field::i64("x", 1)])
        }
        assert!(nest(MAX_DEPTH).is_ok());
        assert_eq!(nest(MAX_DEPTH + 1), Err(RecordError::TooDeep));
    }
}
