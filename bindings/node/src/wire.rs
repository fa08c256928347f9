//! The record wire format: how `lib/encode.js` hands a record to the addon.
//!
//! Reading a JS object through Node-API costs a native call per key, per
//! value and per type check (about 3.5 µs for three fields on the machine
//! the numbers in `README.md` come from), so the JS side walks the object
//! itself and writes the record into an `ArrayBuffer` the addon registered
//! once per thread ([`crate::channel`]). One native call then logs it, and
//! the strings are borrowed from that buffer, not copied, until the core's
//! record writer copies them into the ring.
//!
//! All integers are little-endian. `str` is a `u32` byte length and that
//! many bytes of UTF-8 (the encoder replaces lone surrogates by U+FFFD).
//!
//! ```text
//! record  = logger:u32 level:u8 flags:u8 [ctx] msg:str count:u32 field*
//! ctx     = trace_id:16 span_id:8 trace_flags:1      (when flags & 1)
//! field   = key:str value
//! value   = NULL | STR str | NUM f64 | I64 i64 | U64 u64 | TRUE | FALSE
//!         | BYTES str | GROUP count:u32 field* | ARRAY count:u32 value*
//!
//! site record = logger:u32 level:u8 flags:u8 [ctx] site:u32 arg*
//!                                                     (when flags & 2)
//! arg     = str | f64 | u8        (as the site's kind: STR | INT, FLOAT | BOOL)
//! site definition = level:u8 msg:str count:u32 (key:str kind:u8)*
//! ```
//!
//! A site record is a record whose message and keys were registered once
//! as a call site of the logger ([`crate::loggers`]); it carries only the
//! site's id and its values, in the order and kinds of the definition:
//! text as `str`, a number as an `f64` (`INT` when the JS side saw a safe
//! integer, logged as i64, checked here again), a boolean as a byte 0 or 1.
//!
//! A `NUM` is a JS number: a safe integer is logged as i64, anything else
//! (fractions, NaN, the infinities, integers past 2^53) as f64. `I64` and
//! `U64` carry BigInts that fit. Bound fields of a child logger are a
//! `field*` run without the count, kept by the addon and decoded again
//! whenever the core logger is made.
//!
//! The decoder trusts nothing: every length is checked against the
//! buffer, nesting is bounded by [`MAX_DEPTH`], and a malformed record is
//! refused (and counted) rather than read out of bounds.

use ringlog::{FieldSource, TraceContext, ValueRef};
use smallvec::SmallVec;

/// Value tags.
pub(crate) mod tag {
    /// `null`.
    pub const NULL: u8 = 0;
    /// Text.
    pub const STR: u8 = 1;
    /// A JS number (f64 payload).
    pub const NUM: u8 = 2;
    /// A signed 64-bit integer (a BigInt).
    pub const I64: u8 = 3;
    /// An unsigned 64-bit integer (a BigInt).
    pub const U64: u8 = 4;
    /// `true`.
    pub const TRUE: u8 = 5;
    /// `false`.
    pub const FALSE: u8 = 6;
    /// Raw bytes (Buffer, typed arrays).
    pub const BYTES: u8 = 7;
    /// A nested object.
    pub const GROUP: u8 = 8;
    /// A list.
    pub const ARRAY: u8 = 9;
}

/// Record flag: a trace context follows.
pub(crate) const FLAG_CTX: u8 = 1;
/// Record flag: a site record (a site id and values, no message).
pub(crate) const FLAG_SITE: u8 = 2;

/// The kinds of call-site values, as a site definition gives them.
pub(crate) mod kind {
    /// Text (`str`), logged as a string.
    pub const STR: u8 = 1;
    /// A JS number that is a safe integer (`f64`), logged as an i64.
    pub const INT: u8 = 2;
    /// Any other JS number (`f64`), logged as an f64.
    pub const FLOAT: u8 = 3;
    /// A boolean (a byte, 0 or 1).
    pub const BOOL: u8 = 4;
}

/// The core's kind for a call-site value kind, `None` for an unknown one.
pub(crate) fn core_kind(k: u8) -> Option<ringlog::site::Kind> {
    use ringlog::site::Kind;
    Some(match k {
        kind::STR => Kind::Str,
        kind::INT => Kind::I64,
        kind::FLOAT => Kind::F64,
        kind::BOOL => Kind::Bool,
        _ => return None,
    })
}

/// How deep groups and arrays may nest; the core's own limit is 32 and
/// the JS encoder stops at 16.
pub(crate) const MAX_DEPTH: usize = 32;

/// The largest safe integer of a JS number, 2^53 - 1.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// A decoded value, borrowing its text and bytes from the buffer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    /// `null`.
    Null,
    /// UTF-8 text.
    Str(&'a [u8]),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// Raw bytes.
    Bytes(&'a [u8]),
    /// A nested object.
    Group(Vec<Node<'a>>),
    /// A list (the members' keys are empty).
    Array(Vec<Node<'a>>),
}

/// A decoded field: key and value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node<'a> {
    /// The key (empty for list members).
    pub key: &'a [u8],
    /// The value.
    pub val: Val<'a>,
}

// SAFETY: a `Node` is immutable while the record writer reads it (it gets
// `&[Node]`), so `key` and `value` return the same bytes and lengths on
// every call.
unsafe impl FieldSource for Node<'_> {
    #[inline]
    fn key(&self) -> Option<&[u8]> {
        Some(self.key)
    }
    #[inline]
    fn value(&self) -> ValueRef<'_, Self> {
        match &self.val {
            Val::Null => ValueRef::Null,
            Val::Str(s) => ValueRef::Str(s),
            Val::I64(v) => ValueRef::I64(*v),
            Val::U64(v) => ValueRef::U64(*v),
            Val::F64(v) => ValueRef::F64(*v),
            Val::Bool(v) => ValueRef::Bool(*v),
            Val::Bytes(b) => ValueRef::Bytes(b),
            Val::Group(g) => ValueRef::Group(g),
            Val::Array(a) => ValueRef::Array(a),
        }
    }
}

/// Why a record could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireError {
    /// A length or count runs past the end of the record.
    Truncated,
    /// An unknown value tag.
    BadTag(u8),
    /// Groups and arrays nest deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A call-site value that its kind does not allow (an `INT` that is
    /// not a safe integer, a boolean byte other than 0 or 1).
    BadValue,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Truncated => f.write_str("record truncated"),
            WireError::BadTag(t) => write!(f, "unknown value tag {t}"),
            WireError::TooDeep => write!(f, "values nest deeper than {MAX_DEPTH}"),
            WireError::BadValue => f.write_str("a call-site value does not fit its kind"),
        }
    }
}

/// The top-level fields of one record: on the stack for the usual few.
pub(crate) type Fields<'a> = SmallVec<[Node<'a>; 8]>;

/// The head of a record: who logs it, at which level, in which context.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Head<'a> {
    /// The logger's slot id ([`crate::loggers`]).
    pub logger: u32,
    /// The severity number as sent (checked by the caller).
    pub level: u8,
    /// The trace context, when one was sent and is valid.
    pub ctx: Option<TraceContext>,
    /// The message (empty in a site record).
    pub msg: &'a [u8],
    /// The call site's id in a site record, else 0.
    pub site: u32,
}

/// A call-site value, borrowing its text from the buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SiteArg<'a> {
    /// A number or boolean, as the core stores it.
    Word(u64),
    /// Text.
    Text(&'a [u8]),
}

// SAFETY: a `SiteArg` is immutable, so every call gives the same answer.
unsafe impl ringlog::site::ArgSource for SiteArg<'_> {
    #[inline]
    fn arg(&self, _tag: u8) -> Result<ringlog::site::Arg<'_>, ringlog::site::ArgError> {
        // The variant follows the site's kinds (`Reader::site_args`); the
        // core refuses one of the other shape as a wrong type.
        Ok(match *self {
            SiteArg::Word(w) => ringlog::site::Arg::Word(w),
            SiteArg::Text(t) => ringlog::site::Arg::Bytes(t),
        })
    }
}

/// The values of one site record: on the stack for the usual few.
pub(crate) type SiteArgs<'a> = SmallVec<[SiteArg<'a>; 8]>;

/// A decoded call-site definition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SiteDef<'a> {
    /// The severity number as sent (checked by the caller).
    pub level: u8,
    /// The message.
    pub msg: &'a [u8],
    /// The keys and the core's kind of each.
    pub keys: Vec<(&'a [u8], ringlog::site::Kind)>,
}

/// A cursor over a byte slice whose reads fail instead of panicking.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.pos.checked_add(n).ok_or(WireError::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.array::<1>()?[0])
    }

    #[inline]
    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    #[inline]
    fn str(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// A count of items that each take at least one byte: a count larger
    /// than the bytes left is refused before anything is reserved for it.
    #[inline]
    fn count(&mut self) -> Result<usize, WireError> {
        let n = self.u32()? as usize;
        if n > self.buf.len() - self.pos {
            return Err(WireError::Truncated);
        }
        Ok(n)
    }

    /// True when every byte was read.
    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// Reads a record's head (up to and including the message).
    pub(crate) fn head(&mut self) -> Result<Head<'a>, WireError> {
        let logger = self.u32()?;
        let level = self.u8()?;
        let flags = self.u8()?;
        let ctx = if flags & FLAG_CTX != 0 {
            let trace_id = self.array::<16>()?;
            let span_id = self.array::<8>()?;
            let f = self.u8()?;
            TraceContext::new(trace_id, span_id, f)
        } else {
            None
        };
        let (msg, site) = if flags & FLAG_SITE != 0 {
            (&[][..], self.u32()?)
        } else {
            (self.str()?, 0)
        };
        Ok(Head {
            logger,
            level,
            ctx,
            msg,
            site,
        })
    }

    /// Reads a site record's values, one of each kind in `kinds` (the
    /// core kinds [`core_kind`] gives for the wire kinds).
    pub(crate) fn site_args(
        &mut self,
        kinds: &[ringlog::site::Kind],
        out: &mut SiteArgs<'a>,
    ) -> Result<(), WireError> {
        use ringlog::site::Kind;
        for &k in kinds {
            out.push(match k {
                Kind::Str => SiteArg::Text(self.str()?),
                Kind::I64 => match number(f64::from_le_bytes(self.array()?)) {
                    Val::I64(v) => SiteArg::Word(v as u64),
                    _ => return Err(WireError::BadValue),
                },
                Kind::F64 => SiteArg::Word(u64::from_le_bytes(self.array()?)),
                Kind::Bool => match self.u8()? {
                    b @ (0 | 1) => SiteArg::Word(u64::from(b)),
                    _ => return Err(WireError::BadValue),
                },
                // Not a kind a definition can give.
                Kind::Null | Kind::U64 | Kind::Bytes => return Err(WireError::BadValue),
            });
        }
        Ok(())
    }

    /// Reads a call-site definition.
    pub(crate) fn site_def(&mut self) -> Result<SiteDef<'a>, WireError> {
        let level = self.u8()?;
        let msg = self.str()?;
        let n = self.count()?;
        let mut keys = Vec::with_capacity(n);
        for _ in 0..n {
            let key = self.str()?;
            let k = self.u8()?;
            keys.push((key, core_kind(k).ok_or(WireError::BadTag(k))?));
        }
        Ok(SiteDef { level, msg, keys })
    }

    /// Reads a count and that many fields into `out`.
    pub(crate) fn fields_into<E: Extend<Node<'a>>>(
        &mut self,
        out: &mut E,
    ) -> Result<(), WireError> {
        let n = self.count()?;
        self.run_into(n, out)
    }

    /// Reads `n` fields (no count before them) into `out`.
    pub(crate) fn run_into<E: Extend<Node<'a>>>(
        &mut self,
        n: usize,
        out: &mut E,
    ) -> Result<(), WireError> {
        for _ in 0..n {
            let key = self.str()?;
            let val = self.value(0)?;
            out.extend(std::iter::once(Node { key, val }));
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Val<'a>, WireError> {
        Ok(match self.u8()? {
            tag::NULL => Val::Null,
            tag::STR => Val::Str(self.str()?),
            tag::NUM => number(f64::from_le_bytes(self.array()?)),
            tag::I64 => Val::I64(i64::from_le_bytes(self.array()?)),
            tag::U64 => Val::U64(u64::from_le_bytes(self.array()?)),
            tag::TRUE => Val::Bool(true),
            tag::FALSE => Val::Bool(false),
            tag::BYTES => Val::Bytes(self.str()?),
            tag::GROUP => {
                if depth + 1 >= MAX_DEPTH {
                    return Err(WireError::TooDeep);
                }
                let n = self.count()?;
                let mut g = Vec::with_capacity(n);
                for _ in 0..n {
                    let key = self.str()?;
                    let val = self.value(depth + 1)?;
                    g.push(Node { key, val });
                }
                Val::Group(g)
            }
            tag::ARRAY => {
                if depth + 1 >= MAX_DEPTH {
                    return Err(WireError::TooDeep);
                }
                let n = self.count()?;
                let mut a = Vec::with_capacity(n);
                for _ in 0..n {
                    let val = self.value(depth + 1)?;
                    a.push(Node { key: b"", val });
                }
                Val::Array(a)
            }
            t => return Err(WireError::BadTag(t)),
        })
    }
}

/// A JS number as the record model has it: a safe integer is an i64.
#[inline]
fn number(f: f64) -> Val<'static> {
    if f.trunc() == f && f.abs() <= MAX_SAFE {
        // Exact: |f| <= 2^53 - 1 and integral (-0.0 becomes 0).
        Val::I64(f as i64)
    } else {
        Val::F64(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringlog::site::Kind;

    fn s(out: &mut Vec<u8>, v: &[u8]) {
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        out.extend_from_slice(v);
    }

    fn record(fields: &[u8], count: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&7u32.to_le_bytes());
        b.push(9);
        b.push(0);
        s(&mut b, b"hello");
        b.extend_from_slice(&count.to_le_bytes());
        b.extend_from_slice(fields);
        b
    }

    #[test]
    fn a_flat_record_decodes_with_borrowed_text() {
        let mut f = Vec::new();
        s(&mut f, b"user");
        f.push(tag::STR);
        s(&mut f, b"alice");
        s(&mut f, b"status");
        f.push(tag::NUM);
        f.extend_from_slice(&200f64.to_le_bytes());
        s(&mut f, b"latency_ms");
        f.push(tag::NUM);
        f.extend_from_slice(&12.5f64.to_le_bytes());
        let b = record(&f, 3);
        let mut r = Reader::new(&b);
        let h = r.head().unwrap();
        assert_eq!(
            (h.logger, h.level, h.msg, h.ctx),
            (7, 9, &b"hello"[..], None)
        );
        let mut out = Fields::new();
        r.fields_into(&mut out).unwrap();
        assert!(r.at_end());
        assert_eq!(out[0].val, Val::Str(b"alice"));
        assert_eq!(out[1].val, Val::I64(200));
        assert_eq!(out[2].val, Val::F64(12.5));
    }

    #[test]
    fn a_site_record_reads_its_id_and_values_by_the_kinds() {
        let mut b = Vec::new();
        b.extend_from_slice(&7u32.to_le_bytes());
        b.push(9);
        b.push(FLAG_SITE);
        b.extend_from_slice(&3u32.to_le_bytes());
        s(&mut b, b"alice");
        b.extend_from_slice(&200f64.to_le_bytes());
        b.extend_from_slice(&12.5f64.to_le_bytes());
        b.push(1);
        let mut r = Reader::new(&b);
        let h = r.head().unwrap();
        assert_eq!((h.logger, h.level, h.site, h.msg), (7, 9, 3, &b""[..]));
        let mut args = SiteArgs::new();
        let kinds = [Kind::Str, Kind::I64, Kind::F64, Kind::Bool];
        r.site_args(&kinds, &mut args).unwrap();
        assert!(r.at_end());
        assert_eq!(
            args.as_slice(),
            &[
                SiteArg::Text(b"alice"),
                SiteArg::Word(200),
                SiteArg::Word(12.5f64.to_bits()),
                SiteArg::Word(1),
            ]
        );
    }

    #[test]
    fn site_values_that_do_not_fit_their_kinds_are_refused() {
        let read = |kinds: &[Kind], bytes: &[u8]| {
            let mut args = SiteArgs::new();
            Reader::new(bytes).site_args(kinds, &mut args)
        };
        // An INT that is a fraction, past 2^53, or NaN.
        for f in [0.5, 9_007_199_254_740_992.0, f64::NAN] {
            assert_eq!(
                read(&[Kind::I64], &f.to_le_bytes()),
                Err(WireError::BadValue)
            );
        }
        assert_eq!(
            read(&[Kind::I64], &(-0.0f64).to_le_bytes()),
            Ok(()),
            "-0 is the integer 0"
        );
        assert_eq!(read(&[Kind::Bool], &[2]), Err(WireError::BadValue));
        assert_eq!(read(&[Kind::U64], &[0; 8]), Err(WireError::BadValue));
        assert_eq!(read(&[Kind::F64], &[0; 7]), Err(WireError::Truncated));
        assert_eq!(
            read(&[Kind::Str], &[9, 0, 0, 0, b'x']),
            Err(WireError::Truncated)
        );
    }

    #[test]
    fn a_site_definition_reads_level_message_keys_and_kinds() {
        let mut b = vec![13];
        s(&mut b, b"request handled");
        b.extend_from_slice(&2u32.to_le_bytes());
        s(&mut b, b"user");
        b.push(kind::STR);
        s(&mut b, b"ok");
        b.push(kind::BOOL);
        let mut r = Reader::new(&b);
        let d = r.site_def().unwrap();
        assert!(r.at_end());
        assert_eq!((d.level, d.msg), (13, &b"request handled"[..]));
        assert_eq!(
            d.keys,
            vec![
                (&b"user"[..], ringlog::site::Kind::Str),
                (&b"ok"[..], ringlog::site::Kind::Bool)
            ]
        );
        // An unknown kind, and a count past the bytes left.
        let mut bad = b.clone();
        *bad.last_mut().unwrap() = 0;
        assert_eq!(Reader::new(&bad).site_def(), Err(WireError::BadTag(0)));
        let mut bad = vec![13];
        s(&mut bad, b"m");
        bad.extend_from_slice(&1000u32.to_le_bytes());
        assert_eq!(Reader::new(&bad).site_def(), Err(WireError::Truncated));
    }

    #[test]
    fn numbers_past_the_safe_range_stay_floats() {
        assert_eq!(
            number(9_007_199_254_740_991.0),
            Val::I64(9_007_199_254_740_991)
        );
        assert_eq!(
            number(9_007_199_254_740_992.0),
            Val::F64(9_007_199_254_740_992.0)
        );
        assert_eq!(number(-0.0), Val::I64(0));
        assert!(matches!(number(f64::NAN), Val::F64(x) if x.is_nan()));
        assert_eq!(number(f64::INFINITY), Val::F64(f64::INFINITY));
    }

    #[test]
    fn nested_groups_and_arrays_decode() {
        let mut f = Vec::new();
        s(&mut f, b"g");
        f.push(tag::GROUP);
        f.extend_from_slice(&1u32.to_le_bytes());
        s(&mut f, b"a");
        f.push(tag::ARRAY);
        f.extend_from_slice(&2u32.to_le_bytes());
        f.push(tag::TRUE);
        f.push(tag::NULL);
        let b = record(&f, 1);
        let mut r = Reader::new(&b);
        r.head().unwrap();
        let mut out = Vec::new();
        r.fields_into(&mut out).unwrap();
        let Val::Group(g) = &out[0].val else { panic!() };
        let Val::Array(a) = &g[0].val else { panic!() };
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].val, Val::Bool(true));
    }

    #[test]
    fn malformed_records_are_refused_not_read_past_the_end() {
        let mut f = Vec::new();
        s(&mut f, b"k");
        f.push(tag::STR);
        f.extend_from_slice(&1000u32.to_le_bytes());
        let b = record(&f, 1);
        let mut r = Reader::new(&b);
        r.head().unwrap();
        assert_eq!(r.fields_into(&mut Vec::new()), Err(WireError::Truncated));

        let b = record(&[], u32::MAX);
        let mut r = Reader::new(&b);
        r.head().unwrap();
        assert_eq!(r.fields_into(&mut Vec::new()), Err(WireError::Truncated));

        let mut f = Vec::new();
        s(&mut f, b"k");
        f.push(42);
        let b = record(&f, 1);
        let mut r = Reader::new(&b);
        r.head().unwrap();
        assert_eq!(r.fields_into(&mut Vec::new()), Err(WireError::BadTag(42)));
        for cut in 0..b.len() {
            let mut r = Reader::new(&b[..cut]);
            let _ = r.head().and_then(|_| r.fields_into(&mut Vec::new()));
        }
    }

    #[test]
    fn nesting_past_the_limit_is_refused() {
        let mut f = Vec::new();
        s(&mut f, b"k");
        for _ in 0..40 {
            f.push(tag::ARRAY);
            f.extend_from_slice(&1u32.to_le_bytes());
        }
        f.push(tag::NULL);
        let b = record(&f, 1);
        let mut r = Reader::new(&b);
        r.head().unwrap();
        assert_eq!(r.fields_into(&mut Vec::new()), Err(WireError::TooDeep));
    }

    #[test]
    fn a_trace_context_is_read_when_flagged() {
        let mut b = Vec::new();
        b.extend_from_slice(&1u32.to_le_bytes());
        b.push(9);
        b.push(FLAG_CTX);
        b.extend_from_slice(&[1u8; 16]);
        b.extend_from_slice(&[2u8; 8]);
        b.push(1);
        s(&mut b, b"m");
        let mut r = Reader::new(&b);
        let h = r.head().unwrap();
        let c = h.ctx.unwrap();
        assert_eq!((c.trace_id, c.span_id, c.flags), ([1; 16], [2; 8], 1));
    }
}
