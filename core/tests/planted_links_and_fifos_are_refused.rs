//! A symbolic link or a FIFO planted where ringlog creates a file (the
//! ring directory, a ring file, a log file) is refused with an error: it
//! is never followed, never written through, and never blocks.
mod common;
use ringlog::{Config, Runtime};
use std::ffi::CString;
use std::path::Path;

fn mkfifo(p: &Path) {
    let c = CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

fn file_sink_config(rings: &Path, log: &Path) -> Config {
    common::with_file_sink(
        Config {
            ring_dir: Some(rings.to_path_buf()),
            ..Config::default()
        },
        log,
    )
}

#[test]
fn a_link_as_the_ring_directory_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let real = d.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let link = d.path().join("rings");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let Err(err) = Runtime::start(file_sink_config(&link, &d.path().join("a.log"))) else {
        panic!("refused")
    };
    assert!(err.to_string().contains("ring_dir"), "{err}");
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);
}

#[test]
fn a_link_or_fifo_as_the_log_file_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("target");
    std::fs::write(&target, b"keep\n").unwrap();
    let link = d.path().join("link.log");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let Err(err) = Runtime::start(file_sink_config(&d.path().join("r"), &link)) else {
        panic!("refused")
    };
    assert!(err.to_string().contains("sinks.file.path"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"keep\n");

    let fifo = d.path().join("fifo.log");
    mkfifo(&fifo);
    // Opening a FIFO for writing with no reader would block; it must not.
    let Err(err) = Runtime::start(file_sink_config(&d.path().join("r"), &fifo)) else {
        panic!("refused")
    };
    assert!(err.to_string().contains("sinks.file.path"), "{err}");
}

#[test]
fn a_link_or_fifo_planted_at_a_ring_file_path_is_refused_and_counted() {
    for plant in ["link", "fifo"] {
        let d = tempfile::tempdir().unwrap();
        let rt = Runtime::start(file_sink_config(
            &d.path().join("rings"),
            &d.path().join("a.log"),
        ))
        .unwrap();
        // The first ring of this instance will be `ring-0`.
        let path = rt.instance_dir().join("ring-0");
        let target = d.path().join("victim");
        std::fs::write(&target, b"untouched").unwrap();
        if plant == "link" {
            std::os::unix::fs::symlink(&target, &path).unwrap();
        } else {
            mkfifo(&path);
        }
        let r = std::thread::spawn({
            let log = rt.logger("app");
            move || log.info("hello", &[])
        })
        .join()
        .unwrap();
        assert!(r.is_err(), "{plant}: the record had no ring to go to");
        assert_eq!(rt.stats().rejected_shutdown, 1, "{plant}: counted");
        assert_eq!(std::fs::read(&target).unwrap(), b"untouched");
        // Other threads get the next ring id and log normally.
        let ok = std::thread::spawn({
            let log = rt.logger("app");
            move || log.info("still fine", &[])
        })
        .join()
        .unwrap();
        assert!(ok.is_ok(), "{plant}");
        rt.shutdown(std::time::Duration::from_secs(10)).unwrap();
        let text = std::fs::read_to_string(d.path().join("a.log")).unwrap();
        assert!(text.contains("still fine") && !text.contains("hello"));
    }
}
