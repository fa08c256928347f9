mod common;
use ringlog::{Config, Field, Runtime};
use std::os::unix::fs::PermissionsExt;

#[test]
fn a_file_sink_appends_json_lines_and_syncs_every_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, b"{\"existing\":true}\n").unwrap();
    let text = format!(
        r#"{{"ring_dir": {rd:?}, "sinks": {{"f": {{"type": "file", "path": {p:?}, "sync": "batch"}},
            "l": {{"type": "file", "path": {p2:?}, "encoder": "logfmt"}}}}}}"#,
        rd = dir.path().join("rings"),
        p = path,
        p2 = dir.path().join("app.logfmt"),
    );
    let rt = Runtime::start(Config::parse(&text).unwrap()).unwrap();
    let log = rt.logger("svc");
    for i in 0..100 {
        log.info("line", &[Field::i64("i", i)]).unwrap();
    }
    rt.shutdown(common::WAIT).unwrap();
    let body = std::fs::read_to_string(&path).unwrap();
    assert_eq!(body.lines().count(), 101);
    assert!(body.starts_with("{\"existing\":true}\n"));
    for l in body.lines() {
        serde_json::from_str::<serde_json::Value>(l).unwrap();
    }
    let lf = std::fs::read_to_string(dir.path().join("app.logfmt")).unwrap();
    assert_eq!(lf.lines().count(), 100);
    assert!(lf.lines().next().unwrap().contains("msg=line"));
    let mode = std::fs::metadata(dir.path().join("app.logfmt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o137, 0, "created 0640 or tighter: {mode:o}");
}

#[test]
fn a_sink_that_cannot_be_opened_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"{{"ring_dir": {rd:?}, "sinks": {{"bad": {{"type": "file", "path": "/nonexistent-dir/x.log"}}}}}}"#,
        rd = dir.path().join("rings"),
    );
    let e = Runtime::start(Config::parse(&text).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("sinks.bad.path"), "{e}");
}
