mod common;
use ringlog::Field;

#[test]
fn child_loggers_carry_their_bound_fields_before_the_records_own() {
    let h = common::start(|_| {});
    let log = h.rt.logger("http");
    let req = log.child(&[Field::str("request_id", "r-7")]).unwrap();
    let sub = req.child(&[Field::i64("attempt", 2)]).unwrap();
    sub.info("retry", &[Field::i64("status", 503)]).unwrap();
    h.flush();
    let text = String::from_utf8(h.out.lock().unwrap().clone()).unwrap();
    let a = text.find("request_id").unwrap();
    let b = text.find("attempt").unwrap();
    let c = text.find("status").unwrap();
    assert!(a < b && b < c, "{text}");
    assert_eq!(h.lines()[0]["logger"], "http");
}

#[test]
fn child_logger_definitions_are_reclaimed_after_their_handles_go() {
    let h = common::start(|_| {});
    let log = h.rt.logger("http");
    let base = h.rt.logger_definitions();
    for i in 0..1000 {
        let id = format!("r-{i}");
        let req = log.child(&[Field::str("request_id", &id)]).unwrap();
        req.info("handled", &[]).unwrap();
    }
    // Two cycles: one to see the retirements, one after them.
    h.flush();
    h.flush();
    assert_eq!(h.rt.logger_definitions(), base);
    let lines = h.with_msg("handled");
    assert_eq!(lines.len(), 1000);
    assert_eq!(lines[999]["request_id"], "r-999");
}

#[test]
fn a_bound_key_repeated_by_a_record_field_is_kept_under_a_new_name() {
    let h = common::start(|_| {});
    let req = h.rt.logger("x").child(&[Field::str("user", "a")]).unwrap();
    req.info("m", &[Field::str("user", "b"), Field::str("msg", "c")])
        .unwrap();
    h.flush();
    let text = String::from_utf8(h.out.lock().unwrap().clone()).unwrap();
    let v = &h.lines()[0];
    assert_eq!(v["user"], "a", "{text}");
    assert_eq!(v["msg"], "m");
    let obj = v.as_object().unwrap();
    assert_eq!(
        obj.len(),
        text.matches("\":").count(),
        "no duplicate key: {text}"
    );
    assert!(obj.values().any(|x| x == "b") && obj.values().any(|x| x == "c"));
}
