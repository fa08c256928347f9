//! The JSON encoder: one NDJSON object per record.
//!
//! ```text
//! {"ts":"2025-11-22T01:44:50.123456789Z","level":"info","logger":"payments","msg":"charge ok",
//!  "trace_id":"4bf9…4736","span_id":"00f0…02b7","trace_flags":"01",
//!  <bound fields>,<record fields>,"thread":123,"ring":1,"seq":7}
//! ```
//! (one line; wrapped here for reading). Every reserved key is configurable in
//! [`JsonKeys`] and left out when configured as `""`.
//!
//! Why it is built like this:
//!
//! * **Valid JSON, always.** Strings go through [`escape::json_str`] (strict
//!   RFC 8259, invalid UTF-8 → U+FFFD, U+2028/U+2029 escaped), NaN and the
//!   infinities are written as the strings `"NaN"`, `"Infinity"` and
//!   `"-Infinity"` (JSON has no such numbers), bytes as base64 strings.
//! * **No duplicate keys.** Consumers disagree on what a duplicate means
//!   (first wins, last wins, error), so none is ever written. The rule:
//!   the reserved keys in use (non-empty) are claimed first, in output order,
//!   for every record, whether or not that record writes them (so a user
//!   field never appears under a reserved name); then bound fields, then the
//!   record's fields claim theirs in order. A key already present in the same
//!   object is renamed `key#2`, `key#3`, … (the first free suffix); nothing
//!   is dropped. Each group object has its own keys. Keys compare as the
//!   bytes given, after invalid UTF-8 is replaced by U+FFFD (the key as
//!   written, before escaping).
//! * **Fast.** No allocation per record once warmed up: the key sets are
//!   reused, and a child logger's bound fields are encoded once per logger
//!   (cached by `logger_id` together with the keys they claimed, so dedup
//!   against them stays exact), then copied into each record. Records from
//!   one call site have the same keys, so the written `,"key":` pieces of a
//!   record's top-level fields are cached by the raw keys (a
//!   [`super::Shape`]) and claimed only when a record's keys differ from the
//!   cached ones; the text from the time to the message (by level and
//!   logger name) and from the thread id to the sequence number (by thread
//!   and ring) is cached too. Small pieces are appended without `memcpy`
//!   calls.

use super::escape;
use super::time::{TimeFormat, TimeFormatter};
use super::{
    push_f64, push_hex, push_i64, push_u64, put, put_quoted, BoundCache, Encoder, KeySet,
    PieceCache, RecordMeta, ShapeCache,
};
use crate::record::{Fields, RecordView, ValueView};
use serde::{Deserialize, Serialize};

/// Names of the reserved keys; an empty string leaves that key out.
///
/// Shared by the JSON and logfmt encoders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JsonKeys {
    /// The timestamp (default `ts`).
    pub time: String,
    /// The level name, e.g. `info`, `warn2` (default `level`).
    pub level: String,
    /// The logger's name (default `logger`).
    pub logger: String,
    /// The message (default `msg`).
    pub message: String,
    /// The trace id, 32 lowercase hex digits, when the record has a trace
    /// context (default `trace_id`).
    pub trace_id: String,
    /// The span id, 16 lowercase hex digits (default `span_id`).
    pub span_id: String,
    /// The W3C trace flags, 2 lowercase hex digits (default `trace_flags`).
    pub trace_flags: String,
    /// The producer's OS thread id (default `thread`).
    pub thread: String,
    /// The ring's id (default `ring`).
    pub ring: String,
    /// The per-ring sequence number (default `seq`).
    pub seq: String,
    /// `true` on records recovered from a dead process (default `recovered`).
    pub recovered: String,
}

impl Default for JsonKeys {
    fn default() -> Self {
        JsonKeys {
            time: "ts".into(),
            level: "level".into(),
            logger: "logger".into(),
            message: "msg".into(),
            trace_id: "trace_id".into(),
            span_id: "span_id".into(),
            trace_flags: "trace_flags".into(),
            thread: "thread".into(),
            ring: "ring".into(),
            seq: "seq".into(),
            recovered: "recovered".into(),
        }
    }
}

impl JsonKeys {
    /// The keys in output order (the order in which they are claimed).
    pub(crate) fn in_order(&self) -> [&str; 11] {
        [
            &self.time,
            &self.level,
            &self.logger,
            &self.message,
            &self.trace_id,
            &self.span_id,
            &self.trace_flags,
            &self.thread,
            &self.ring,
            &self.seq,
            &self.recovered,
        ]
    }
}

/// Configuration of the JSON encoder.
///
/// ```json
/// {"keys": {"time": "@timestamp", "thread": ""}, "time_format": "unix_ms"}
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JsonOptions {
    /// Reserved key names.
    pub keys: JsonKeys,
    /// How the timestamp is written (RFC 3339 strings or Unix numbers).
    pub time_format: TimeFormat,
}

/// Index of each reserved key in [`JsonKeys::in_order`].
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

/// Encodes records as NDJSON; see the module docs for the format and rules.
#[derive(Debug)]
pub struct JsonEncoder {
    time: TimeFormatter,
    /// `,"key":` for each reserved key in use; empty when left out.
    prefixes: [Vec<u8>; 11],
    /// The reserved keys, claimed.
    base: KeySet,
    /// The current record's top-level keys.
    top: KeySet,
    /// One key set per group nesting level.
    stack: Vec<KeySet>,
    bound: BoundCache,
    /// The top-level keys of recent records, as written.
    shapes: ShapeCache,
    /// From the end of the time value to the start of the message's
    /// (the level and logger members), by level and logger name.
    heads: PieceCache,
    /// The thread and ring members and the sequence number's key, by
    /// thread id and ring id.
    tails: PieceCache,
}

impl JsonEncoder {
    /// An encoder with these options.
    pub fn new(opts: JsonOptions) -> JsonEncoder {
        let mut base = KeySet::new();
        let mut prefixes: [Vec<u8>; 11] = Default::default();
        for (p, key) in prefixes.iter_mut().zip(opts.keys.in_order()) {
            if key.is_empty() {
                continue;
            }
            let claimed = base.claim(key.as_bytes());
            p.push(b',');
            escape::json_str(p, claimed);
            p.push(b':');
        }
        JsonEncoder {
            time: TimeFormatter::new(opts.time_format),
            prefixes,
            base,
            top: KeySet::new(),
            stack: (0..=crate::record::MAX_DEPTH)
                .map(|_| KeySet::new())
                .collect(),
            bound: BoundCache::default(),
            shapes: ShapeCache::default(),
            heads: PieceCache::default(),
            tails: PieceCache::default(),
        }
    }
}

/// Appends `bytes` as lowercase hex in a JSON string.
#[inline]
fn hex_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    push_hex(out, bytes);
    out.push(b'"');
}

/// Appends `,"key":` for `key`, claimed in `keys`.
#[inline]
fn write_key(keys: &mut KeySet, key: &[u8], out: &mut Vec<u8>) {
    out.push(b',');
    let key = keys.claim_with(|b| escape::push_lossy(b, key));
    escape::json_str(out, key);
    out.push(b':');
}

/// Appends `,"key":value` for each field, claiming keys in `keys`; nested
/// groups use the key sets in `stack` (one per level).
fn write_members(keys: &mut KeySet, stack: &mut [KeySet], fields: Fields<'_>, out: &mut Vec<u8>) {
    for f in fields {
        write_key(keys, f.key, out);
        write_value(stack, &f.value, out);
    }
}

/// Appends `,"key":value` for each of a record's top-level fields. The
/// keys start from `base` (recorded as base set `generation`, see
/// [`super::Shape`]): they are written from the shape cache while the
/// record's keys match a shape's, and claimed in `top` (a copy of `base`)
/// from the first one that does not, recording the new shape.
fn write_top(
    base: &KeySet,
    generation: u64,
    top: &mut KeySet,
    stack: &mut [KeySet],
    shapes: &mut ShapeCache,
    fields: Fields<'_>,
    out: &mut Vec<u8>,
) {
    let count = fields.len();
    let mut fields = fields;
    let Some(mut f) = fields.next() else {
        return;
    };
    let shape = shapes.shape(generation, count, f.key);
    let mut i = 0;
    while let Some(piece) = shape.piece(i, f.key) {
        put(out, piece);
        write_value(stack, &f.value, out);
        i += 1;
        f = match fields.next() {
            Some(next) => next,
            None => return,
        };
    }
    // Field `i` is new: claim the keys before it (the shape's, which are the
    // record's), then go on claiming, recording the rest of the shape.
    top.clone_from(base);
    for j in 0..i {
        top.claim_with(|b| escape::push_lossy(b, shape.raw_key(j)));
    }
    shape.truncate(i);
    for f in std::iter::once(f).chain(fields) {
        let start = out.len();
        write_key(top, f.key, out);
        shape.record(f.key, &out[start..]);
        write_value(stack, &f.value, out);
    }
}

/// Appends a field's value; a group's members use the key sets in `stack`.
#[inline]
fn write_value(stack: &mut [KeySet], value: &ValueView<'_>, out: &mut Vec<u8>) {
    match *value {
        ValueView::Null => put(out, b"null"),
        ValueView::Bool(true) => put(out, b"true"),
        ValueView::Bool(false) => put(out, b"false"),
        ValueView::I64(v) => push_i64(out, v),
        ValueView::U64(v) => push_u64(out, v),
        ValueView::F64(v) => {
            if v.is_finite() {
                push_f64(out, v);
            } else {
                out.push(b'"');
                push_f64(out, v);
                out.push(b'"');
            }
        }
        ValueView::Str(s) => escape::json_str(out, s),
        ValueView::Bytes(b) => {
            out.push(b'"');
            escape::base64(out, b);
            out.push(b'"');
        }
        ValueView::Group(ref g) => write_group(stack, g.clone(), out),
        ValueView::Array(ref a) => write_array(stack, a.clone(), out),
    }
}

/// Appends a list's members as an array; groups inside use the key sets
/// in `stack`, as the list's siblings would.
#[inline(never)]
fn write_array(stack: &mut [KeySet], a: Fields<'_>, out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, f) in a.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_value(stack, &f.value, out);
    }
    out.push(b']');
}

/// Appends a group's members as an object.
#[inline(never)]
fn write_group(stack: &mut [KeySet], g: Fields<'_>, out: &mut Vec<u8>) {
    let start = out.len();
    match stack.split_first_mut() {
        Some((inner, rest)) => {
            inner.clear();
            write_members(inner, rest, g, out);
        }
        // Decoding caps nesting at MAX_DEPTH, which `stack`
        // covers; this only keeps an impossible case correct.
        None => write_members(&mut KeySet::new(), &mut [], g, out),
    }
    close_object(out, start);
}

/// Turns the members written from `start` (each led by a comma) into an
/// object: the first comma becomes `{`; no members give `{}`.
#[inline]
fn close_object(out: &mut Vec<u8>, start: usize) {
    if out.len() == start {
        put(out, b"{}");
    } else {
        out[start] = b'{';
        out.push(b'}');
    }
}

impl Encoder for JsonEncoder {
    fn encode(&mut self, rec: &RecordView<'_>, meta: &RecordMeta<'_>, out: &mut Vec<u8>) {
        let start = out.len();
        // Room for a typical record; longer pieces reserve as they go.
        out.reserve(256 + rec.msg.len());
        let p = &self.prefixes;
        let quoted_time = !p[TIME].is_empty() && !self.time.format().is_numeric();
        if !p[TIME].is_empty() {
            put(out, &p[TIME]);
            if quoted_time {
                out.push(b'"');
            }
            self.time.write(rec.ts_ns, out);
        }
        // The closing quote of the time, the level and logger members and
        // the message's key: one cached piece.
        let level = rec.level;
        let head = self.heads.get(
            meta.logger_id,
            u64::from(level.number()),
            meta.logger,
            |h| {
                if quoted_time {
                    h.push(b'"');
                }
                if !p[LEVEL].is_empty() {
                    put(h, &p[LEVEL]);
                    put_quoted(h, level.name().as_bytes());
                }
                if !p[LOGGER].is_empty() {
                    put(h, &p[LOGGER]);
                    escape::json_str(h, meta.logger);
                }
                put(h, &p[MESSAGE]);
            },
        );
        put(out, head);
        if !p[MESSAGE].is_empty() {
            escape::json_str(out, rec.msg);
        }
        if let Some(t) = &rec.trace {
            if !p[TRACE_ID].is_empty() {
                put(out, &p[TRACE_ID]);
                hex_str(out, &t.trace_id);
            }
            if !p[SPAN_ID].is_empty() {
                put(out, &p[SPAN_ID]);
                hex_str(out, &t.span_id);
            }
            if !p[TRACE_FLAGS].is_empty() {
                put(out, &p[TRACE_FLAGS]);
                hex_str(out, &[t.flags]);
            }
        }
        let JsonEncoder {
            base,
            top,
            stack,
            bound,
            shapes,
            ..
        } = self;
        if meta.bound.is_empty() {
            write_top(base, 0, top, stack, shapes, rec.fields.clone(), out);
        } else {
            let entry = bound.get_or_build(meta.logger_id, meta.bound.len(), |e| {
                e.keys.clone_from(base);
                write_members(&mut e.keys, stack, meta.bound.clone(), &mut e.fragment);
            });
            put(out, &entry.fragment);
            let fields = rec.fields.clone();
            write_top(
                &entry.keys,
                entry.generation,
                top,
                stack,
                shapes,
                fields,
                out,
            );
        }
        // The thread and ring members and the sequence number's key: one
        // cached piece.
        let p = &self.prefixes;
        let (thread, ring) = (meta.thread_id, meta.ring_id);
        let tail = self.tails.get(thread, u64::from(ring), &[], |t| {
            if !p[THREAD].is_empty() {
                put(t, &p[THREAD]);
                push_u64(t, thread);
            }
            if !p[RING].is_empty() {
                put(t, &p[RING]);
                push_u64(t, u64::from(ring));
            }
            put(t, &p[SEQ]);
        });
        put(out, tail);
        if !p[SEQ].is_empty() {
            push_u64(out, rec.seq);
        }
        if meta.recovered && !p[RECOVERED].is_empty() {
            put(out, &p[RECOVERED]);
            put(out, b"true");
        }
        close_object(out, start);
        out.push(b'\n');
    }

    fn forget_logger(&mut self, logger_id: u64) {
        self.bound.forget(logger_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::test_support::{body, bound_bytes, ctx, meta, view};
    use crate::value::{Field, Value};
    use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Value as J};
    use std::fmt;

    /// A JSON value whose parsing fails on a repeated key in any object.
    struct Strict(J);

    impl<'de> Deserialize<'de> for Strict {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Strict;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("JSON")
                }
                fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
                    Ok(Strict(J::Bool(v)))
                }
                fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
                    Ok(Strict(v.into()))
                }
                fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
                    Ok(Strict(v.into()))
                }
                fn visit_f64<E>(self, v: f64) -> Result<Strict, E> {
                    Ok(Strict(v.into()))
                }
                fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
                    Ok(Strict(J::String(v.into())))
                }
                fn visit_unit<E>(self) -> Result<Strict, E> {
                    Ok(Strict(J::Null))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Strict, A::Error> {
                    let mut v = Vec::new();
                    while let Some(Strict(x)) = a.next_element()? {
                        v.push(x);
                    }
                    Ok(Strict(J::Array(v)))
                }
                fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Strict, A::Error> {
                    let mut m = Map::new();
                    while let Some((k, Strict(v))) = a.next_entry::<String, Strict>()? {
                        if m.insert(k.clone(), v).is_some() {
                            return Err(serde::de::Error::custom(format!("duplicate key {k:?}")));
                        }
                    }
                    Ok(Strict(J::Object(m)))
                }
            }
            d.deserialize_any(V)
        }
    }

    /// Parses one encoded output: exactly one line, valid JSON, no duplicate
    /// keys anywhere; returns the top-level object as text-ordered pairs.
    fn parse(out: &[u8]) -> Vec<(String, J)> {
        let text = std::str::from_utf8(out).expect("UTF-8");
        assert!(text.ends_with('\n'), "{text:?}");
        assert_eq!(text.matches('\n').count(), 1, "{text:?}");
        assert!(
            !text[..text.len() - 1].bytes().any(|b| b < 0x20),
            "{text:?}"
        );
        let Strict(v) = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert!(v.is_object());
        // Keep the written order (serde_json's Map sorts its keys).
        let mut de = serde_json::Deserializer::from_str(text);
        struct Ordered(Vec<(String, J)>);
        impl<'de> Deserialize<'de> for Ordered {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Ordered;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("object")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Ordered, A::Error> {
                        let mut v = Vec::new();
                        while let Some(e) = a.next_entry()? {
                            v.push(e);
                        }
                        Ok(Ordered(v))
                    }
                }
                d.deserialize_map(V)
            }
        }
        Ordered::deserialize(&mut de).unwrap().0
    }

    fn keys(pairs: &[(String, J)]) -> Vec<&str> {
        pairs.iter().map(|(k, _)| k.as_str()).collect()
    }

    fn get<'a>(pairs: &'a [(String, J)], k: &str) -> &'a J {
        &pairs
            .iter()
            .find(|(x, _)| x == k)
            .unwrap_or_else(|| panic!("no {k}"))
            .1
    }

    fn encode_one(enc: &mut JsonEncoder, msg: &[u8], fields: &[Field<'_>]) -> Vec<u8> {
        let b = body(1_763_775_890_123_456_789, 9, None, msg, fields);
        let mut out = Vec::new();
        enc.encode(&view(&b), &meta(b"payments", 1, &[], 0), &mut out);
        out
    }

    #[test]
    fn a_record_is_one_line_with_reserved_keys_in_order() {
        let mut enc = JsonEncoder::new(JsonOptions::default());
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
            "{\"ts\":\"2025-11-22T01:44:50.123456789Z\",\"level\":\"info\",\
             \"logger\":\"payments\",\"msg\":\"charge ok\",\
             \"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\
             \"span_id\":\"00f067aa0ba902b7\",\"trace_flags\":\"01\",\
             \"user\":\"alice\",\"amount\":12.5,\"thread\":123,\"ring\":1,\"seq\":7}\n"
        );
        parse(&out);
    }

    #[test]
    fn trace_keys_appear_only_with_a_trace_context_and_recovered_only_when_set() {
        let mut enc = JsonEncoder::new(JsonOptions::default());
        let b = body(0, 14, None, b"m", &[]);
        let mut m = meta(b"l", 1, &[], 0);
        m.recovered = true;
        let mut out = Vec::new();
        enc.encode(&view(&b), &m, &mut out);
        let p = parse(&out);
        assert_eq!(
            keys(&p),
            [
                "ts",
                "level",
                "logger",
                "msg",
                "thread",
                "ring",
                "seq",
                "recovered"
            ]
        );
        assert_eq!(get(&p, "level"), "warn2");
        assert_eq!(get(&p, "recovered"), &J::Bool(true));
    }

    #[test]
    fn every_value_type_is_written_as_valid_json() {
        let mut enc = JsonEncoder::new(JsonOptions::default());
        let inner = [Field::i64("a", -1), Field::new("n", Value::Null)];
        let out = encode_one(
            &mut enc,
            b"m",
            &[
                Field::str("s", "text"),
                Field::i64("i", i64::MIN),
                Field::u64("u", u64::MAX),
                Field::f64("f", 1.5),
                Field::f64("whole", 12.0),
                Field::f64("big", 1e300),
                Field::bool("t", true),
                Field::bool("fa", false),
                Field::bytes("x", &[0xfb, 0xff]),
                Field::group("g", &inner),
                Field::group("empty", &[]),
                Field::new("z", Value::Null),
            ],
        );
        let p = parse(&out);
        assert_eq!(get(&p, "s"), "text");
        assert_eq!(get(&p, "i"), &J::from(i64::MIN));
        assert_eq!(get(&p, "u"), &J::from(u64::MAX));
        assert_eq!(get(&p, "f"), &J::from(1.5));
        assert_eq!(get(&p, "whole").as_f64(), Some(12.0));
        assert_eq!(get(&p, "big").as_f64(), Some(1e300));
        assert_eq!(get(&p, "t"), &J::Bool(true));
        assert_eq!(get(&p, "fa"), &J::Bool(false));
        assert_eq!(get(&p, "x"), "+/8=");
        assert_eq!(get(&p, "g"), &serde_json::json!({"a": -1, "n": null}));
        assert_eq!(get(&p, "empty"), &serde_json::json!({}));
        assert_eq!(get(&p, "z"), &J::Null);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\"whole\":12.0,"), "{text}");
        assert!(text.contains("\"empty\":{},"), "{text}");
    }

    #[test]
    fn nan_and_infinities_are_written_as_strings() {
        let mut enc = JsonEncoder::new(JsonOptions::default());
        let out = encode_one(
            &mut enc,
            b"m",
            &[
                Field::f64("nan", f64::NAN),
                Field::f64("inf", f64::INFINITY),
                Field::f64("ninf", f64::NEG_INFINITY),
                Field::f64("negzero", -0.0),
            ],
        );
        let p = parse(&out);
        assert_eq!(get(&p, "nan"), "NaN");
        assert_eq!(get(&p, "inf"), "Infinity");
        assert_eq!(get(&p, "ninf"), "-Infinity");
        assert_eq!(get(&p, "negzero").as_f64(), Some(-0.0));
    }

    #[test]
    fn hostile_messages_and_keys_stay_on_one_line() {
        let mut enc = JsonEncoder::new(JsonOptions::default());
        let msg =
            b"line1\nline2\r\n\x1b[31mred\x1b[0m\0nul \xe2\x80\xa8 \xe2\x80\xa9 bad\xff\xfe end";
        let out = encode_one(
            &mut enc,
            msg,
            &[
                Field {
                    key: b"k\ney\x1b[0m",
                    value: Value::Str(b"v\x00\x7f\xc3"),
                },
                Field {
                    key: b"\xff",
                    value: Value::I64(1),
                },
                Field {
                    key: "\u{FFFD}".as_bytes(),
                    value: Value::I64(2),
                },
            ],
        );
        let text = std::str::from_utf8(&out).unwrap();
        assert!(text.contains("\\u2028 \\u2029"), "{text}");
        assert!(!text.contains('\u{1b}') && !text.contains('\u{2028}'));
        let p = parse(&out);
        assert_eq!(
            get(&p, "msg"),
            "line1\nline2\r\n\u{1b}[31mred\u{1b}[0m\0nul \u{2028} \u{2029} bad\u{FFFD}\u{FFFD} end"
        );
        assert_eq!(get(&p, "k\ney\u{1b}[0m"), "v\0\u{7f}\u{FFFD}");
        // An invalid key becomes U+FFFD, so it collides with a literal one.
        assert_eq!(get(&p, "\u{FFFD}"), &J::from(1));
        assert_eq!(get(&p, "\u{FFFD}#2"), &J::from(2));
    }

    #[test]
    fn fields_named_like_reserved_keys_are_renamed_not_dropped() {
        let mut enc = JsonEncoder::new(JsonOptions::default());
        let out = encode_one(
            &mut enc,
            b"m",
            &[
                Field::str("msg", "a"),
                Field::str("msg", "b"),
                Field::str("msg#2", "c"),
                Field::i64("seq", 1),
                Field::str("trace_id", "not a trace"),
                Field::str("recovered", "no"),
                Field::str("ts", "x"),
            ],
        );
        let p = parse(&out);
        assert_eq!(
            keys(&p),
            [
                "ts",
                "level",
                "logger",
                "msg",
                "msg#2",
                "msg#3",
                "msg#2#2",
                "seq#2",
                "trace_id#2",
                "recovered#2",
                "ts#2",
                "thread",
                "ring",
                "seq"
            ]
        );
        assert_eq!(get(&p, "msg"), "m");
        assert_eq!(get(&p, "msg#3"), "b");
        assert_eq!(get(&p, "seq"), &J::from(7));
    }

    #[test]
    fn keys_inside_groups_are_deduplicated_per_object() {
        let mut enc = JsonEncoder::new(JsonOptions::default());
        let deep = [Field::i64("x", 1), Field::i64("x", 2)];
        let inner = [
            Field::i64("msg", 1),
            Field::i64("msg", 2),
            Field::group("g", &deep),
            Field::group("g", &deep),
        ];
        let out = encode_one(
            &mut enc,
            b"m",
            &[Field::group("g", &inner), Field::group("g", &[])],
        );
        let p = parse(&out);
        assert_eq!(
            get(&p, "g"),
            &serde_json::json!({"msg": 1, "msg#2": 2, "g": {"x": 1, "x#2": 2}, "g#2": {"x": 1, "x#2": 2}})
        );
        assert_eq!(get(&p, "g#2"), &serde_json::json!({}));
    }

    #[test]
    fn arrays_are_lists_whose_objects_dedupe_their_own_keys() {
        let mut enc = JsonEncoder::new(JsonOptions::default());
        let obj = [Field::i64("x", 1), Field::i64("x", 2)];
        let nested = [Field::item(Value::Bool(false))];
        let items = [
            Field::item(Value::I64(-1)),
            // A member's key is not written, whatever it is.
            Field::str("ignored", "a\n\u{2028}"),
            Field::item(Value::Null),
            Field::item(Value::F64(f64::INFINITY)),
            Field::item(Value::Bytes(&[255])),
            Field::group("", &obj),
            Field::array("", &nested),
            Field::array("", &[]),
        ];
        let out = encode_one(
            &mut enc,
            b"m",
            &[Field::array("list", &items), Field::array("list", &[])],
        );
        let p = parse(&out);
        assert_eq!(
            get(&p, "list"),
            &serde_json::json!([-1, "a\n\u{2028}", null, "Infinity", "/w==", {"x": 1, "x#2": 2}, [false], []])
        );
        assert_eq!(get(&p, "list#2"), &serde_json::json!([]));
        let text = std::str::from_utf8(&out).unwrap();
        assert!(text.contains(r#""list":[-1,"a\n\u2028",null,"#), "{text}");
    }

    #[test]
    fn bound_fields_are_cached_and_deduplicated_against_record_fields() {
        let mut enc = JsonEncoder::new(JsonOptions::default());
        let bound = bound_bytes(&[
            Field::str("service", "api"),
            Field::str("level", "x"),
            Field::str("service", "dup"),
        ]);
        for round in 0..3 {
            let b = body(
                0,
                9,
                None,
                b"m",
                &[Field::str("service", "rec"), Field::i64("n", round)],
            );
            let mut out = Vec::new();
            enc.encode(&view(&b), &meta(b"child", 42, &bound, 3), &mut out);
            let p = parse(&out);
            assert_eq!(
                keys(&p),
                [
                    "ts",
                    "level",
                    "logger",
                    "msg",
                    "service",
                    "level#2",
                    "service#2",
                    "service#3",
                    "n",
                    "thread",
                    "ring",
                    "seq"
                ]
            );
            assert_eq!(get(&p, "service"), "api");
            assert_eq!(get(&p, "service#3"), "rec");
            assert_eq!(get(&p, "n"), &J::from(round));
        }
        assert_eq!(enc.bound.len(), 1);
        // Another logger with no bound fields is unaffected by the cache.
        let out = encode_one(&mut enc, b"m", &[Field::str("service", "solo")]);
        assert_eq!(get(&parse(&out), "service"), "solo");
        enc.forget_logger(42);
        assert_eq!(enc.bound.len(), 0);
    }

    #[test]
    fn keys_are_configurable_and_empty_ones_are_omitted() {
        let opts: JsonOptions = serde_json::from_str(
            r#"{"keys": {"time": "@timestamp", "thread": "", "ring": "", "seq": "",
                         "message": "message", "logger": ""},
                "time_format": "unix_ms"}"#,
        )
        .unwrap();
        let mut enc = JsonEncoder::new(opts);
        let out = encode_one(
            &mut enc,
            b"hi",
            &[Field::i64("thread", 5), Field::i64("msg", 1)],
        );
        let p = parse(&out);
        assert_eq!(
            keys(&p),
            ["@timestamp", "level", "message", "thread", "msg"]
        );
        assert_eq!(get(&p, "@timestamp"), &J::from(1_763_775_890_123u64));
        assert_eq!(get(&p, "thread"), &J::from(5));
    }

    #[test]
    fn reserved_keys_configured_alike_are_still_unique() {
        let mut o = JsonOptions::default();
        o.keys.level = "ts".into();
        o.keys.message = "a\"b".into();
        let mut enc = JsonEncoder::new(o);
        let out = encode_one(&mut enc, b"m", &[Field::i64("ts", 1)]);
        let p = parse(&out);
        assert_eq!(&keys(&p)[..5], ["ts", "ts#2", "logger", "a\"b", "ts#3"]);
    }

    #[test]
    fn all_keys_omitted_and_no_fields_gives_an_empty_object() {
        let o = JsonOptions {
            keys: serde_json::from_str(
                r#"{"time":"","level":"","logger":"","message":"","trace_id":"","span_id":"",
                    "trace_flags":"","thread":"","ring":"","seq":"","recovered":""}"#,
            )
            .unwrap(),
            ..Default::default()
        };
        let mut enc = JsonEncoder::new(o);
        assert_eq!(encode_one(&mut enc, b"m", &[]), b"{}\n");
        assert_eq!(
            encode_one(&mut enc, b"m", &[Field::i64("a", 1)]),
            b"{\"a\":1}\n"
        );
    }

    #[test]
    fn every_time_format_is_valid_json() {
        let cases = [
            ("rfc3339_ns", J::from("2025-11-22T01:44:50.123456789Z")),
            ("rfc3339_us", J::from("2025-11-22T01:44:50.123456Z")),
            ("rfc3339_ms", J::from("2025-11-22T01:44:50.123Z")),
            (
                "unix_s",
                J::from("1763775890.123456789".parse::<f64>().unwrap()),
            ),
            ("unix_ms", J::from(1_763_775_890_123u64)),
            ("unix_ns", J::from(1_763_775_890_123_456_789u64)),
        ];
        for (name, want) in cases {
            let o: JsonOptions =
                serde_json::from_str(&format!(r#"{{"time_format":"{name}"}}"#)).unwrap();
            let mut enc = JsonEncoder::new(o);
            let out = encode_one(&mut enc, b"m", &[]);
            assert_eq!(get(&parse(&out), "ts"), &want, "{name}");
        }
        let out = encode_one(
            &mut JsonEncoder::new(JsonOptions {
                time_format: TimeFormat::UnixS,
                ..Default::default()
            }),
            b"m",
            &[],
        );
        assert!(out.starts_with(b"{\"ts\":1763775890.123456789,"));
    }

    #[test]
    fn unknown_option_keys_are_rejected() {
        assert!(serde_json::from_str::<JsonOptions>(r#"{"key": {}}"#).is_err());
        assert!(serde_json::from_str::<JsonOptions>(r#"{"keys": {"msg": "m"}}"#).is_err());
        assert!(serde_json::from_str::<JsonOptions>(r#"{"time_format": "iso"}"#).is_err());
    }

    #[test]
    fn records_with_many_fields_are_deduplicated_through_the_hash_table() {
        let mut enc = JsonEncoder::new(JsonOptions::default());
        let names: Vec<String> = (0..300).map(|i| format!("k{}", i % 50)).collect();
        let fields: Vec<Field<'_>> = names.iter().map(|n| Field::i64(n, 0)).collect();
        let out = encode_one(&mut enc, b"m", &fields);
        let p = parse(&out);
        assert_eq!(p.len(), 4 + 300 + 3);
        assert!(keys(&p).contains(&"k49#6"));
    }

    #[test]
    fn cached_keys_and_pieces_write_the_same_bytes_as_a_fresh_encoder() {
        let opts = [
            JsonOptions::default(),
            serde_json::from_str(
                r#"{"keys": {"time": "", "level": "a", "logger": "", "thread": "",
                             "seq": "user", "message": "a#2"},
                    "time_format": "unix_s"}"#,
            )
            .unwrap(),
            serde_json::from_str(
                r#"{"keys": {"ring": "", "seq": ""}, "time_format": "rfc3339_ms"}"#,
            )
            .unwrap(),
        ];
        for o in opts {
            let all = crate::encode::test_support::cached_equals_fresh(
                || JsonEncoder::new(o.clone()),
                4000,
            );
            for line in all.split_inclusive(|&b| b == b'\n') {
                parse(line);
            }
        }
    }

    #[test]
    fn a_record_with_a_known_shape_but_a_new_key_is_deduplicated_afresh() {
        let mut enc = JsonEncoder::new(JsonOptions::default());
        let first = encode_one(&mut enc, b"m", &[Field::i64("a", 1), Field::i64("b", 2)]);
        assert!(first.ends_with(b",\"a\":1,\"b\":2,\"thread\":123,\"ring\":1,\"seq\":7}\n"));
        // Same first key and count, then a key that collides with the first
        // and then with a reserved key.
        let out = encode_one(&mut enc, b"m", &[Field::i64("a", 1), Field::i64("a", 2)]);
        assert_eq!(keys(&parse(&out))[4..6], ["a", "a#2"]);
        let out = encode_one(&mut enc, b"m", &[Field::i64("a", 1), Field::i64("seq", 2)]);
        assert_eq!(keys(&parse(&out))[4..6], ["a", "seq#2"]);
        // A prefix of a known shape, then the whole of it again.
        let out = encode_one(&mut enc, b"m", &[Field::i64("a", 3)]);
        assert_eq!(keys(&parse(&out))[4], "a");
        let out = encode_one(&mut enc, b"m", &[Field::i64("a", 1), Field::i64("seq", 2)]);
        assert_eq!(keys(&parse(&out))[4..6], ["a", "seq#2"]);
    }

    #[test]
    fn output_is_appended_after_existing_bytes() {
        let mut enc = JsonEncoder::new(JsonOptions::default());
        let b = body(0, 9, None, b"m", &[]);
        let mut out = b"prev\n".to_vec();
        enc.encode(&view(&b), &meta(b"l", 1, &[], 0), &mut out);
        enc.encode(&view(&b), &meta(b"l", 1, &[], 0), &mut out);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1], lines[2]);
        parse(format!("{}\n", lines[1]).as_bytes());
    }
}
