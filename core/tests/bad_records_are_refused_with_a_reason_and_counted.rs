mod common;
use ringlog::{Field, LogError, RecordError, Value};

#[test]
fn a_record_larger_than_half_the_ring_is_refused_and_counted() {
    let h = common::start(|c| c.ring_capacity = 4096);
    let log = h.rt.logger("app");
    let big = "x".repeat(3000);
    assert_eq!(log.info(&big, &[]), Err(LogError::TooLarge));
    let field = "y".repeat(5000);
    assert_eq!(
        log.info("m", &[Field::str("k", &field)]),
        Err(LogError::TooLarge)
    );
    log.info("small", &[]).unwrap();
    h.flush();
    let s = h.rt.stats();
    assert_eq!(s.rejected_too_large, 2);
    assert_eq!(s.logged, 1);
    assert_eq!(h.lines().len(), 1);
}

#[test]
fn groups_nested_too_deep_are_refused_and_counted() {
    let h = common::start(|_| {});
    let log = h.rt.logger("app");
    // 40 nested groups, built from the inside out.
    let leaf = [Field::i64("x", 1)];
    fn nest<'a>(
        depth: usize,
        inner: &'a [Field<'a>],
        log: &ringlog::Logger,
    ) -> Result<(), LogError> {
        if depth == 0 {
            return log.info("deep", inner);
        }
        let g = [Field::new("g", Value::Group(inner))];
        nest(depth - 1, &g, log)
    }
    assert_eq!(
        nest(40, &leaf, &log),
        Err(LogError::Invalid(RecordError::TooDeep))
    );
    assert_eq!(nest(10, &leaf, &log), Ok(()));
    h.flush();
    assert_eq!(h.rt.stats().rejected_invalid, 1);
    assert_eq!(h.with_msg("deep").len(), 1);
}

#[test]
fn untrusted_text_stays_on_one_line() {
    let h = common::start(|_| {});
    let log = h.rt.logger("a\nb");
    log.log_with(
        ringlog::Level::INFO,
        0,
        None,
        b"line1\nline2\r\x1b[31mred\x00nul\xff\xfe",
        &[Field {
            key: b"k\ney\x1b",
            value: Value::Str("v\u{2028}\n".as_bytes()),
        }],
    )
    .unwrap();
    h.flush();
    let text = String::from_utf8(h.out.lock().unwrap().clone()).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(!text.contains('\u{1b}'));
    let v = &h.lines()[0];
    assert_eq!(
        v["msg"],
        "line1\nline2\r\u{1b}[31mred\u{0}nul\u{fffd}\u{fffd}"
    );
    assert_eq!(v["k\ney\u{1b}"], "v\u{2028}\n");
    assert_eq!(v["logger"], "a\nb");
}
