//! The strict JSON configuration parser (`Config::parse`) and the run-time
//! level-change parser (`LevelChanges::parse`).
//!
//! The input is the document text. Properties checked:
//! * neither parser panics, on any text;
//! * an accepted configuration passes `validate` again, and every sink's
//!   encoder options build an encoder; the JSON encoder built from them
//!   writes one strict JSON object (no duplicate keys, whatever reserved
//!   key names the document chose) for a record whose fields use the
//!   default reserved names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringlog::config::LevelChanges;
use ringlog::encode::console::ConsoleEncoder;
use ringlog::encode::json::JsonEncoder;
use ringlog::encode::logfmt::LogfmtEncoder;
use ringlog::encode::Encoder;
use ringlog::record::RecordView;
use ringlog::Config;
use ringlog_fuzz::Val;
use std::sync::OnceLock;

fn sample() -> &'static [u8] {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    BODY.get_or_init(|| {
        ringlog_fuzz::record_body(
            1_700_000_000_123_456_789,
            3,
            9,
            Some(([0xab; 16], [0xcd; 8], 1)),
            b"sample",
            &[
                (b"ts", Val::Str(b"user ts")),
                (b"msg", Val::I64(-1)),
                (b"level", Val::Null),
                (b"recovered", Val::Bool(false)),
                (b"level#2", Val::F64(f64::NAN)),
                (
                    b"g",
                    Val::Group(vec![(b"thread", Val::U64(1)), (b"thread", Val::U64(2))]),
                ),
                (
                    b"list",
                    Val::Array(vec![Val::Str(b"a\n"), Val::Array(vec![Val::Null])]),
                ),
            ],
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = LevelChanges::parse(&text);
    let Ok(cfg) = Config::parse(&text) else {
        return;
    };
    cfg.validate()
        .expect("a parsed configuration validates again");
    for name in [&b""[..], b"a", b"a.b", b"db.pool.conn"] {
        let _ = cfg.level_for(name);
    }
    let rec = RecordView::decode(sample()).expect("the sample record decodes");
    for s in cfg.sinks.values() {
        let meta = ringlog_fuzz::plain_meta();
        let mut out = Vec::new();
        let mut json = JsonEncoder::new(s.json.clone());
        json.encode(&rec, &meta, &mut out);
        json.encode(&rec, &meta, &mut out);
        assert_eq!(ringlog_fuzz::check_json_lines(&out).len(), 2);
        out.clear();
        LogfmtEncoder::new(s.logfmt.clone()).encode(&rec, &meta, &mut out);
        for tty in [false, true] {
            if let Ok(mut c) = ConsoleEncoder::new(s.console.clone(), tty) {
                c.encode(&rec, &meta, &mut out);
            }
        }
    }
});
