//! The validating record decoder (`RecordView::decode`), the trusted one
//! the flusher uses, and the three encoders over whatever they accept.
//!
//! The input is one record body. Properties checked:
//! * neither decoder panics or reads out of bounds, on any bytes;
//! * a body `decode` accepts has exactly the fields its counts announce, at
//!   every nesting level; a call-site body is completed first from a key
//!   table whose types the body's sequence bytes choose, and must then pass
//!   `with_site_checked` (its values carry no types of their own);
//! * the JSON encoder writes exactly one strict JSON object for it (no
//!   duplicate keys), also with the record's fields bound a second time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringlog::encode::console::{ConsoleEncoder, ConsoleOptions};
use ringlog::encode::json::{JsonEncoder, JsonOptions};
use ringlog::encode::logfmt::{LogfmtEncoder, LogfmtOptions};
use ringlog::encode::{Encoder, RecordMeta};
use ringlog::record::{tag, Fields, RecordView, ValueView};

/// A call-site key table of `n` keys `k0..`, the type of key `i` taken
/// from `seed` (a value type, never a group or an array).
fn site_keys(n: usize, seed: &[u8; 8]) -> Vec<u8> {
    let mut keys = Vec::new();
    for i in 0..n {
        let t = seed[i % seed.len()] % (tag::BYTES + 1);
        ringlog::fuzzing::push_site_key(&mut keys, t, format!("k{i}").as_bytes());
    }
    keys
}

/// Walks every field; returns how many there were at the top level.
fn walk(fields: Fields<'_>, validated: bool) -> usize {
    let announced = fields.len();
    let mut n = 0;
    for f in fields {
        n += 1;
        if let ValueView::Group(g) | ValueView::Array(g) = f.value {
            walk(g, validated);
        }
    }
    if validated {
        assert_eq!(n, announced, "a validated record ran short of fields");
    }
    n
}

fuzz_target!(|body: &[u8]| {
    if let Ok(r) = RecordView::decode_trusted(body) {
        walk(r.fields, false);
    }
    let Ok(rec) = RecordView::decode(body) else {
        return;
    };
    let keys;
    let rec = if rec.site {
        let n = rec.fields.len();
        if n > 4096 {
            return;
        }
        keys = site_keys(
            n,
            body[8..16].try_into().expect("decoded bodies are longer"),
        );
        walk(rec.clone().with_site(b"site", &keys).fields, false);
        match rec.with_site_checked(b"site", &keys) {
            Ok(r) => r,
            Err(_) => return,
        }
    } else {
        rec
    };
    walk(rec.fields.clone(), true);

    let mut json = JsonEncoder::new(JsonOptions::default());
    let mut logfmt = LogfmtEncoder::new(LogfmtOptions::default());
    let mut console = ConsoleEncoder::new(ConsoleOptions::default(), true).expect("defaults");
    let plain = ringlog_fuzz::plain_meta();
    // The record's own fields as a child logger's bound fields too: every
    // key then collides once and must be renamed, never repeated.
    let bound = RecordMeta {
        logger: rec.msg,
        logger_id: 2,
        bound: rec.fields.clone(),
        ..plain.clone()
    };
    for meta in [&plain, &bound, &plain] {
        let mut out = Vec::new();
        json.encode(&rec, meta, &mut out);
        let lines = ringlog_fuzz::check_json_lines(&out);
        assert_eq!(lines.len(), 1, "one record, one line");
        out.clear();
        logfmt.encode(&rec, meta, &mut out);
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        out.clear();
        console.encode(&rec, meta, &mut out);
    }
});
