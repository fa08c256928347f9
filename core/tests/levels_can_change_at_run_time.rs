mod common;
use ringlog::Level;

#[test]
fn levels_can_change_at_run_time() {
    let h = common::start(|c| {
        c.level = Level::INFO;
        c.levels.insert("db".into(), Level::WARN);
    });
    let app = h.rt.logger("app");
    let db = h.rt.logger("db.pool");
    assert!(!app.enabled(Level::DEBUG));
    assert!(!db.enabled(Level::INFO) && db.enabled(Level::WARN));
    app.debug("hidden", &[]).unwrap();
    h.rt.reconfigure(r#"{"level": "debug", "levels": {"db": "error"}}"#)
        .unwrap();
    assert!(app.enabled(Level::DEBUG));
    assert!(!db.enabled(Level::WARN));
    app.debug("shown", &[]).unwrap();
    let child = app.child(&[ringlog::Field::i64("k", 1)]).unwrap();
    assert!(
        child.enabled(Level::DEBUG),
        "children follow their name's level"
    );
    h.flush();
    h.rt.reconfigure(r#"{"sinks": {"mem": {"level": "error"}}}"#)
        .unwrap();
    assert!(
        !app.enabled(Level::WARN),
        "a record no sink wants is not even framed"
    );
    h.flush();
    assert_eq!(h.with_msg("hidden").len(), 0);
    assert_eq!(h.with_msg("shown").len(), 1);
}

#[test]
fn run_time_changes_name_what_they_cannot_do() {
    let h = common::start(|_| {});
    let e =
        h.rt.reconfigure(r#"{"ring_capacity": 8192}"#)
            .unwrap_err()
            .to_string();
    assert!(e.contains("ring_capacity"), "{e}");
    let e =
        h.rt.reconfigure(r#"{"sinks": {"nope": {"level": "info"}}}"#)
            .unwrap_err()
            .to_string();
    assert!(e.contains("sinks.nope"), "{e}");
    let e =
        h.rt.reconfigure(r#"{"level": "loud"}"#)
            .unwrap_err()
            .to_string();
    assert!(e.contains("level"), "{e}");
}
