//! The logfmt encoder: one `key=value` line per record.
//!
//! ```text
//! ts=2025-11-22T01:44:50.123456789Z level=info logger=payments msg="charge ok" trace_id=4bf9… span_id=00f0… trace_flags=01 user=alice amount=12.5 thread=1 ring=1 seq=7
//! ```
//!
//! Why it is built like this:
//!
//! * **One line per record, always, and one token per key and per value.**
//!   Values go through [`escape::logfmt_value`]: bare when safe, otherwise
//!   double-quoted with `\"`, `\\`, `\n`, `\r`, `\t`, `\xHH` (other control
//!   bytes, DEL and invalid UTF-8 bytes) and `\uXXXX` (C1 controls, U+2028,
//!   U+2029, bidi controls) escapes, so no raw control character or ESC from
//!   untrusted text reaches a file or terminal. Keys go through
//!   [`escape::logfmt_key`]: every byte that is not printable ASCII, and every
//!   space, `=` and `"`, becomes `_` (an empty key becomes `_`), so a key never
//!   needs quoting.
//! * **Groups flatten** to dotted keys: group `http` with field `status`
//!   gives `http.status=200`. An empty group writes nothing. Lists flatten
//!   the same way with their indices as keys: `tags.0=a tags.1=b`.
//! * **No duplicate keys**, with the same rule as the JSON encoder, applied
//!   to the flattened, sanitized keys of the whole line: the reserved keys in
//!   use are claimed first, then bound and record fields in order; a key
//!   already on the line is renamed `key#2`, `key#3`, … (first free suffix).
//! * Values: integers in decimal, floats in shortest round-trip form (`NaN`,
//!   `Infinity`, `-Infinity` for the non-finite ones), `true`/`false`,
//!   `null`, bytes in standard padded base64 (quoted when padded, as `=` is
//!   special in logfmt).
//! * Bound fields are encoded once per logger and cached, as in JSON, and
//!   so are the ` key=` pieces of the top-level fields (up to the first
//!   group) of records with the same keys.

use super::escape;
use super::json::JsonKeys;
pub(crate) use super::push_hex;
use super::time::{TimeFormat, TimeFormatter};
use super::{
    push_f64, push_i64, push_u64, put, BoundCache, Encoder, KeySet, RecordMeta, ShapeCache,
};
use crate::record::{Fields, RecordView, ValueView};
use serde::{Deserialize, Serialize};

/// Configuration of the logfmt encoder (the same keys as JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogfmtOptions {
    /// Reserved key names; an empty name leaves that key out.
    pub keys: JsonKeys,
    /// How the timestamp is written.
    pub time_format: TimeFormat,
}

const TIME: usize = 0;
const LEVEL: usize = 1;
const LOGGER: usize = 2;
const MESSAGE: usize = 3;
const TRACE_ID: usize = 4;
const SPAN_ID: usize = 5;
const TRACE_FLAGS: usize = 6;
const THREAD: usize = 7;
const RING: usize = 8;
const SEQ: usize = 9;
const RECOVERED: usize = 10;

/// Encodes records as logfmt lines; see the module docs.
#[derive(Debug)]
pub struct LogfmtEncoder {
    time: TimeFormatter,
    /// ` key=` for each reserved key in use; empty when left out. The first
    /// of those always written (time, level, logger, message) has no leading
    /// space, as it starts the line.
    prefixes: [Vec<u8>; 11],
    /// True when none of those is in use: then the line's first pair has a
    /// leading space to drop.
    strip_first: bool,
    flat: FlatFields,
}

/// The key state of a line of flattened `key=value` pairs, shared by the
/// logfmt and console encoders.
#[derive(Debug)]
pub(crate) struct FlatFields {
    /// Reserved keys, claimed before any field.
    base: KeySet,
    /// The keys of the record being written.
    top: KeySet,
    /// The dotted group path of the field being written.
    path: Vec<u8>,
    /// Each logger's bound fields, encoded once.
    bound: BoundCache,
    /// The top-level keys of recent records, as written.
    shapes: ShapeCache,
}

impl FlatFields {
    /// Key state whose reserved keys are `base`.
    pub(crate) fn new(base: KeySet) -> Self {
        FlatFields {
            base,
            top: KeySet::new(),
            path: Vec::new(),
            bound: BoundCache::default(),
            shapes: ShapeCache::default(),
        }
    }

    /// Writes the logger's bound fields (encoded once per logger) and then
    /// the record's own fields, applying the de-duplication rule. `style`
    /// must be the same on every call.
    pub(crate) fn write(
        &mut self,
        meta: &RecordMeta<'_>,
        fields: Fields<'_>,
        out: &mut Vec<u8>,
        style: KeyStyle<'_>,
    ) {
        let FlatFields {
            base,
            top,
            path,
            bound,
            shapes,
        } = self;
        if meta.bound.is_empty() {
            write_top(base, 0, top, path, shapes, fields, out, style);
        } else {
            let entry = bound.get_or_build(meta.logger_id, meta.bound.len(), |e| {
                e.keys.clone_from(base);
                path.clear();
                write_flat(
                    &mut e.keys,
                    path,
                    meta.bound.clone(),
                    &mut e.fragment,
                    style,
                );
            });
            put(out, &entry.fragment);
            let (keys, generation) = (&entry.keys, entry.generation);
            write_top(keys, generation, top, path, shapes, fields, out, style);
        }
    }

    /// Number of loggers whose bound fields are cached (tests).
    #[cfg(test)]
    pub(crate) fn cached_loggers(&self) -> usize {
        self.bound.len()
    }

    /// Forgets a retired logger's bound fields.
    pub(crate) fn forget(&mut self, logger_id: u64) {
        self.bound.forget(logger_id);
    }
}

impl LogfmtEncoder {
    /// An encoder with these options.
    pub fn new(opts: LogfmtOptions) -> LogfmtEncoder {
        let mut base = KeySet::new();
        let mut prefixes: [Vec<u8>; 11] = Default::default();
        for (p, key) in prefixes.iter_mut().zip(opts.keys.in_order()) {
            if key.is_empty() {
                continue;
            }
            let claimed = base.claim_with(|b| escape::logfmt_key(b, key.as_bytes()));
            p.push(b' ');
            p.extend_from_slice(claimed);
            p.push(b'=');
        }
        let lead = prefixes[TIME..=MESSAGE].iter_mut().find(|p| !p.is_empty());
        let strip_first = match lead {
            Some(p) => {
                p.remove(0);
                false
            }
            None => true,
        };
        LogfmtEncoder {
            time: TimeFormatter::new(opts.time_format),
            prefixes,
            strip_first,
            flat: FlatFields::new(base),
        }
    }
}

/// Appends a non-group value in logfmt form.
pub(crate) fn write_value(out: &mut Vec<u8>, v: &ValueView<'_>) {
    match *v {
        ValueView::Null => put(out, b"null"),
        ValueView::Bool(true) => put(out, b"true"),
        ValueView::Bool(false) => put(out, b"false"),
        ValueView::I64(v) => push_i64(out, v),
        ValueView::U64(v) => push_u64(out, v),
        ValueView::F64(v) => {
            push_f64(out, v);
        }
        ValueView::Str(s) => escape::logfmt_value(out, s),
        ValueView::Bytes(b) => {
            // Padding (`=`) or an empty value needs quotes.
            let quote = b.is_empty() || b.len() % 3 != 0;
            if quote {
                out.push(b'"');
            }
            escape::base64(out, b);
            if quote {
                out.push(b'"');
            }
        }
        ValueView::Group(_) | ValueView::Array(_) => {}
    }
}

/// Styling around each key (the console's dimmed keys): written before the
/// key and after the `=`.
pub(crate) type KeyStyle<'s> = Option<(&'s [u8], &'s [u8])>;

/// Appends ` key=value` for each field, groups flattened to dotted keys under
/// `path`, claiming every flattened key in `keys`.
pub(crate) fn write_flat(
    keys: &mut KeySet,
    path: &mut Vec<u8>,
    fields: Fields<'_>,
    out: &mut Vec<u8>,
    style: KeyStyle<'_>,
) {
    write_flat_k(keys, path, fields, false, out, style)
}

/// [`write_flat`]; with `indexed` (a list's members) each key is the
/// member's index.
fn write_flat_k(
    keys: &mut KeySet,
    path: &mut Vec<u8>,
    fields: Fields<'_>,
    indexed: bool,
    out: &mut Vec<u8>,
    style: KeyStyle<'_>,
) {
    let mut num = Vec::new();
    for (i, f) in fields.enumerate() {
        let key = if indexed {
            num.clear();
            push_u64(&mut num, i as u64);
            &num[..]
        } else {
            f.key
        };
        match f.value {
            ValueView::Group(ref g) | ValueView::Array(ref g) => {
                let mark = path.len();
                escape::logfmt_key(path, key);
                path.push(b'.');
                let list = matches!(f.value, ValueView::Array(_));
                write_flat_k(keys, path, g.clone(), list, out, style);
                path.truncate(mark);
            }
            _ => {
                write_key(keys, path, key, out, style);
                write_value(out, &f.value);
            }
        }
    }
}

/// Appends ` key=` (styled) for `key` under `path`, claimed in `keys`.
#[inline]
fn write_key(keys: &mut KeySet, path: &[u8], key: &[u8], out: &mut Vec<u8>, style: KeyStyle<'_>) {
    out.push(b' ');
    if let Some((on, _)) = style {
        put(out, on);
    }
    let key = keys.claim_with(|b| {
        put(b, path);
        escape::logfmt_key(b, key);
    });
    put(out, key);
    out.push(b'=');
    if let Some((_, off)) = style {
        put(out, off);
    }
}

/// [`write_flat`] for a record's top-level fields, with the keys starting
/// from `base` (recorded as base set `generation`, see
/// [`super::Shape`]): the ` key=` pieces are written from the shape cache
/// while the record's keys match a shape's, and claimed in `top` (a copy of
/// `base`) from the first one that does not, recording the new shape up to
/// the first group (whose flattened keys are claimed one by one).
/// `style` must be the same for every call with the same `shapes`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_top(
    base: &KeySet,
    generation: u64,
    top: &mut KeySet,
    path: &mut Vec<u8>,
    shapes: &mut ShapeCache,
    fields: Fields<'_>,
    out: &mut Vec<u8>,
    style: KeyStyle<'_>,
) {
    let count = fields.len();
    let mut fields = fields;
    let Some(mut f) = fields.next() else {
        return;
    };
    let shape = shapes.shape(generation, count, f.key);
    let mut i = 0;
    while !matches!(f.value, ValueView::Group(_) | ValueView::Array(_)) {
        let Some(piece) = shape.piece(i, f.key) else {
            break;
        };
        put(out, piece);
        write_value(out, &f.value);
        i += 1;
        f = match fields.next() {
            Some(next) => next,
            None => return,
        };
    }
    // Field `i` is new (or a group): claim the keys before it (the shape's,
    // which are the record's, none of them a group), then go on claiming.
    top.clone_from(base);
    for j in 0..i {
        top.claim_with(|b| escape::logfmt_key(b, shape.raw_key(j)));
    }
    shape.truncate(i);
    path.clear();
    let mut recording = true;
    for f in std::iter::once(f).chain(fields) {
        if let ValueView::Group(ref g) | ValueView::Array(ref g) = f.value {
            // Groups and lists are not recorded, nor anything after one.
            recording = false;
            escape::logfmt_key(path, f.key);
            path.push(b'.');
            let list = matches!(f.value, ValueView::Array(_));
            write_flat_k(top, path, g.clone(), list, out, style);
            path.clear();
        } else {
            let start = out.len();
            write_key(top, &[], f.key, out, style);
            if recording {
                shape.record(f.key, &out[start..]);
            }
            write_value(out, &f.value);
        }
    }
}

impl Encoder for LogfmtEncoder {
    fn encode(&mut self, rec: &RecordView<'_>, meta: &RecordMeta<'_>, out: &mut Vec<u8>) {
        let start = out.len();
        // Room for a typical record; longer pieces reserve as they go.
        out.reserve(256 + rec.msg.len());
        let p = &self.prefixes;
        if !p[TIME].is_empty() {
            put(out, &p[TIME]);
            self.time.write(rec.ts_ns, out);
        }
        if !p[LEVEL].is_empty() {
            put(out, &p[LEVEL]);
            put(out, rec.level.name().as_bytes());
        }
        if !p[LOGGER].is_empty() {
            put(out, &p[LOGGER]);
            escape::logfmt_value(out, meta.logger);
        }
        if !p[MESSAGE].is_empty() {
            put(out, &p[MESSAGE]);
            escape::logfmt_value(out, rec.msg);
        }
        if let Some(t) = &rec.trace {
            if !p[TRACE_ID].is_empty() {
                put(out, &p[TRACE_ID]);
                push_hex(out, &t.trace_id);
            }
            if !p[SPAN_ID].is_empty() {
                put(out, &p[SPAN_ID]);
                push_hex(out, &t.span_id);
            }
            if !p[TRACE_FLAGS].is_empty() {
                put(out, &p[TRACE_FLAGS]);
                push_hex(out, &[t.flags]);
            }
        }
        self.flat.write(meta, rec.fields.clone(), out, None);
        let p = &self.prefixes;
        if !p[THREAD].is_empty() {
            put(out, &p[THREAD]);
            push_u64(out, meta.thread_id);
        }
        if !p[RING].is_empty() {
            put(out, &p[RING]);
            push_u64(out, u64::from(meta.ring_id));
        }
        if !p[SEQ].is_empty() {
            put(out, &p[SEQ]);
            push_u64(out, rec.seq);
        }
        if meta.recovered && !p[RECOVERED].is_empty() {
            put(out, &p[RECOVERED]);
            put(out, b"true");
        }
        // Every pair was written with a leading space; drop the first one.
        if self.strip_first && out.len() > start {
            out.remove(start);
        }
        out.push(b'\n');
    }

    fn forget_logger(&mut self, logger_id: u64) {
        self.flat.forget(logger_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::test_support::{body, bound_bytes, ctx, meta, view};
    use crate::value::{Field, Value};

    /// Splits a logfmt line into (key, raw value) pairs, honouring quotes and
    /// backslash escapes; panics on anything that is not well-formed logfmt.
    fn pairs(line: &str) -> Vec<(String, String)> {
        let mut v = Vec::new();
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let k0 = i;
            while b[i] != b'=' {
                assert!(
                    b[i] > b' ' && b[i] != b'"' && b[i] < 0x7f,
                    "bad key byte in {line:?}"
                );
                i += 1;
            }
            let key = line[k0..i].to_string();
            i += 1;
            let v0 = i;
            if i < b.len() && b[i] == b'"' {
                i += 1;
                while b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            } else {
                while i < b.len() && b[i] != b' ' {
                    assert!(b[i] != b'=' && b[i] != b'"', "unquoted special in {line:?}");
                    i += 1;
                }
            }
            v.push((key, line[v0..i].to_string()));
            if i < b.len() {
                assert_eq!(b[i], b' ', "{line:?}");
                i += 1;
            }
        }
        v
    }

    /// Checks the output is one well-formed line with unique keys.
    fn check(out: &[u8]) -> Vec<(String, String)> {
        let text = std::str::from_utf8(out).expect("UTF-8");
        assert!(text.ends_with('\n'));
        let line = &text[..text.len() - 1];
        assert!(!line.bytes().any(|b| b < 0x20 || b == 0x7f), "{line:?}");
        let p = pairs(line);
        let mut seen = std::collections::HashSet::new();
        for (k, _) in &p {
            assert!(seen.insert(k.clone()), "duplicate key {k} in {line:?}");
        }
        p
    }

    fn get<'a>(p: &'a [(String, String)], k: &str) -> &'a str {
        &p.iter()
            .find(|(x, _)| x == k)
            .unwrap_or_else(|| panic!("no {k}"))
            .1
    }

    fn encode_one(enc: &mut LogfmtEncoder, msg: &[u8], fields: &[Field<'_>]) -> Vec<u8> {
        let b = body(1_763_775_890_123_456_789, 9, None, msg, fields);
        let mut out = Vec::new();
        enc.encode(&view(&b), &meta(b"payments", 1, &[], 0), &mut out);
        out
    }

    #[test]
    fn a_record_is_one_logfmt_line_in_the_documented_order() {
        let mut enc = LogfmtEncoder::new(LogfmtOptions::default());
        let c = ctx();
        let b = body(
            1_763_775_890_123_456_789,
            9,
            Some(&c),
            b"charge ok",
            &[Field::str("user", "alice"), Field::f64("amount", 12.5)],
        );
        let mut out = Vec::new();
        enc.encode(&view(&b), &meta(b"payments", 1, &[], 0), &mut out);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "ts=2025-11-22T01:44:50.123456789Z level=info logger=payments msg=\"charge ok\" \
             trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 trace_flags=01 \
             user=alice amount=12.5 thread=123 ring=1 seq=7\n"
        );
        check(&out);
    }

    #[test]
    fn every_value_type_has_a_logfmt_form() {
        let mut enc = LogfmtEncoder::new(LogfmtOptions::default());
        let inner = [Field::i64("a", -1), Field::new("n", Value::Null)];
        let out = encode_one(
            &mut enc,
            b"m",
            &[
                Field::str("s", "two words"),
                Field::str("e", ""),
                Field::i64("i", i64::MIN),
                Field::u64("u", u64::MAX),
                Field::f64("f", 12.0),
                Field::f64("nan", f64::NAN),
                Field::f64("ninf", f64::NEG_INFINITY),
                Field::bool("t", true),
                Field::bytes("x", &[0xfb, 0xff]),
                Field::bytes("x3", b"foo"),
                Field::bytes("x0", b""),
                Field::group("g", &inner),
                Field::group("empty", &[]),
            ],
        );
        let p = check(&out);
        assert_eq!(get(&p, "s"), "\"two words\"");
        assert_eq!(get(&p, "e"), "\"\"");
        assert_eq!(get(&p, "i"), "-9223372036854775808");
        assert_eq!(get(&p, "u"), "18446744073709551615");
        assert_eq!(get(&p, "f"), "12.0");
        assert_eq!(get(&p, "nan"), "NaN");
        assert_eq!(get(&p, "ninf"), "-Infinity");
        assert_eq!(get(&p, "t"), "true");
        assert_eq!(get(&p, "x"), "\"+/8=\"");
        assert_eq!(get(&p, "x3"), "Zm9v");
        assert_eq!(get(&p, "x0"), "\"\"");
        assert_eq!(get(&p, "g.a"), "-1");
        assert_eq!(get(&p, "g.n"), "null");
        assert!(!p.iter().any(|(k, _)| k.starts_with("empty")));
    }

    #[test]
    fn hostile_messages_keys_and_values_stay_on_one_line_without_escape_bytes() {
        let mut enc = LogfmtEncoder::new(LogfmtOptions::default());
        let msg = b"a\nb\r\x1b[31mred\0 \xe2\x80\xa8\xff";
        let out = encode_one(
            &mut enc,
            msg,
            &[
                Field {
                    key: b"k e=y\n\x1b\"",
                    value: Value::Str(b"v\nw"),
                },
                Field {
                    key: b"",
                    value: Value::Str(b"\x1b]0;title\x07"),
                },
            ],
        );
        let p = check(&out);
        assert_eq!(get(&p, "msg"), r#""a\nb\r\x1b[31mred\x00 \u2028\xff""#);
        assert_eq!(get(&p, "k_e_y___"), r#""v\nw""#);
        assert_eq!(get(&p, "_"), r#""\x1b]0;title\x07""#);
    }

    #[test]
    fn flattened_keys_are_deduplicated_with_reserved_and_bound_keys() {
        let mut enc = LogfmtEncoder::new(LogfmtOptions::default());
        let bound = bound_bytes(&[Field::str("msg", "b1"), Field::str("a.b", "b2")]);
        let inner = [Field::i64("b", 1)];
        let b = body(
            0,
            9,
            None,
            b"m",
            &[
                Field::group("a", &inner),
                Field::str("msg", "r"),
                Field::i64("seq", 1),
                Field::str("level", "l"),
            ],
        );
        for _ in 0..2 {
            let mut out = Vec::new();
            enc.encode(&view(&b), &meta(b"child", 9, &bound, 2), &mut out);
            let p = check(&out);
            let keys: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(
                keys,
                [
                    "ts", "level", "logger", "msg", "msg#2", "a.b", "a.b#2", "msg#3", "seq#2",
                    "level#2", "thread", "ring", "seq"
                ]
            );
            assert_eq!(get(&p, "a.b#2"), "1");
            assert_eq!(get(&p, "msg#3"), "r");
        }
        enc.forget_logger(9);
        assert_eq!(enc.flat.cached_loggers(), 0);
    }

    #[test]
    fn keys_are_configurable_and_empty_ones_are_omitted() {
        let o: LogfmtOptions = serde_json::from_str(
            r#"{"keys": {"time": "time", "logger": "", "thread": "", "ring": "", "seq": "",
                         "level": "lvl name"}, "time_format": "unix_ns"}"#,
        )
        .unwrap();
        let mut enc = LogfmtEncoder::new(o);
        let out = encode_one(&mut enc, b"hi", &[]);
        assert_eq!(out, b"time=1763775890123456789 lvl_name=info msg=hi\n");
        assert!(serde_json::from_str::<LogfmtOptions>(r#"{"colour": 1}"#).is_err());
    }

    #[test]
    fn every_time_format_is_one_token() {
        for (f, want) in [
            (TimeFormat::Rfc3339Ns, "2025-11-22T01:44:50.123456789Z"),
            (TimeFormat::Rfc3339Us, "2025-11-22T01:44:50.123456Z"),
            (TimeFormat::Rfc3339Ms, "2025-11-22T01:44:50.123Z"),
            (TimeFormat::UnixS, "1763775890.123456789"),
            (TimeFormat::UnixMs, "1763775890123"),
            (TimeFormat::UnixNs, "1763775890123456789"),
        ] {
            let mut enc = LogfmtEncoder::new(LogfmtOptions {
                time_format: f,
                ..Default::default()
            });
            let out = encode_one(&mut enc, b"m", &[]);
            assert_eq!(get(&check(&out), "ts"), want);
        }
    }

    #[test]
    fn recovered_records_are_marked() {
        let mut enc = LogfmtEncoder::new(LogfmtOptions::default());
        let b = body(0, 21, None, b"m", &[]);
        let mut m = meta(b"l", 1, &[], 0);
        m.recovered = true;
        let mut out = Vec::new();
        enc.encode(&view(&b), &m, &mut out);
        let p = check(&out);
        assert_eq!(get(&p, "recovered"), "true");
        assert_eq!(get(&p, "level"), "fatal");
    }

    #[test]
    fn cached_keys_write_the_same_bytes_as_a_fresh_encoder() {
        let opts = [
            r#"{}"#,
            // No time: the level starts the line.
            r#"{"keys": {"time": ""}, "time_format": "unix_ms"}"#,
            // None of the always-written keys: the first pair's space is dropped.
            r#"{"keys": {"time": "", "level": "", "logger": "", "message": "",
                         "thread": "a", "ring": "x_y"}}"#,
        ];
        for o in opts {
            let o: LogfmtOptions = serde_json::from_str(o).unwrap();
            let all = crate::encode::test_support::cached_equals_fresh(
                || LogfmtEncoder::new(o.clone()),
                4000,
            );
            for line in all.split_inclusive(|&b| b == b'\n') {
                check(line);
            }
        }
    }

    #[test]
    fn arrays_flatten_to_indexed_keys() {
        let mut enc = LogfmtEncoder::new(LogfmtOptions::default());
        let obj = [Field::str("k", "v w")];
        let inner = [Field::item(Value::I64(7))];
        let items = [
            Field::str("ignored", "a"),
            Field::item(Value::Null),
            Field::group("", &obj),
            Field::array("", &inner),
        ];
        let out = encode_one(
            &mut enc,
            b"m",
            &[Field::array("tags", &items), Field::i64("n", 2)],
        );
        assert!(
            out.ends_with(
                b" tags.0=a tags.1=null tags.2.k=\"v w\" tags.3.0=7 n=2 thread=123 ring=1 seq=7\n"
            ),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }

    #[test]
    fn a_group_where_a_known_shape_has_a_plain_field_is_flattened() {
        let mut enc = LogfmtEncoder::new(LogfmtOptions::default());
        let out = encode_one(&mut enc, b"m", &[Field::i64("g", 1), Field::i64("n", 2)]);
        assert!(
            out.ends_with(b" g=1 n=2 thread=123 ring=1 seq=7\n"),
            "{out:?}"
        );
        let inner = [Field::i64("n", 3)];
        let out = encode_one(
            &mut enc,
            b"m",
            &[Field::group("g", &inner), Field::i64("n", 2)],
        );
        assert!(
            out.ends_with(b" g.n=3 n=2 thread=123 ring=1 seq=7\n"),
            "{out:?}"
        );
        // A flattened key colliding with a cached one.
        let out = encode_one(&mut enc, b"m", &[Field::i64("g.n", 1), Field::i64("x", 2)]);
        assert!(
            out.ends_with(b" g.n=1 x=2 thread=123 ring=1 seq=7\n"),
            "{out:?}"
        );
        let out = encode_one(
            &mut enc,
            b"m",
            &[Field::i64("g.n", 1), Field::group("g", &inner)],
        );
        assert!(
            out.ends_with(b" g.n=1 g.n#2=3 thread=123 ring=1 seq=7\n"),
            "{out:?}"
        );
    }

    #[test]
    fn an_all_omitted_line_is_just_a_newline() {
        let keys: JsonKeys = serde_json::from_str(
            r#"{"time":"","level":"","logger":"","message":"","trace_id":"","span_id":"",
                "trace_flags":"","thread":"","ring":"","seq":"","recovered":""}"#,
        )
        .unwrap();
        let mut enc = LogfmtEncoder::new(LogfmtOptions {
            keys,
            ..Default::default()
        });
        assert_eq!(encode_one(&mut enc, b"m", &[]), b"\n");
        assert_eq!(encode_one(&mut enc, b"m", &[Field::i64("a", 1)]), b"a=1\n");
    }
}
