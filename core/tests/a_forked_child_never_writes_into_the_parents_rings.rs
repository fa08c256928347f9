//! After `fork()`, the child inherits the parent's runtime in memory, but
//! its rings are the parent's shared mappings and its flusher did not come
//! along. The inherited runtime must refuse records in the child (counted),
//! leave the parent's rings untouched, and let the parent go on normally.
mod common;
use ringlog::{Field, LogError};

#[test]
fn a_forked_child_never_writes_into_the_parents_rings() {
    let h = common::start(|_| {});
    let log = h.rt.logger("app");
    log.info("before fork", &[]).unwrap();
    h.flush();
    // SAFETY: the child only calls the logging path (which refuses before
    // taking any lock or allocating) and then `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let refused = log.info("in child", &[Field::i64("n", 1)]) == Err(LogError::Shutdown);
        // Inherited handles define nothing in the parent's registry or
        // metadata file.
        let meta = h.rt.instance_dir().join("meta");
        let before = std::fs::metadata(&meta).map(|m| m.len()).unwrap_or(0);
        let no_child = log.child(&[Field::str("k", "v")]).is_err();
        let other = h.rt.logger("other-in-child");
        let other_refused = other.info("x", &[]).is_err();
        let after = std::fs::metadata(&meta).map(|m| m.len()).unwrap_or(0);
        // Nothing that could wait on a lock the parent's threads held at
        // the fork: stats answer, level changes and recovery refuse.
        let _ = h.rt.stats();
        let no_reconf = h.rt.reconfigure(r#"{"level": "debug"}"#).is_err();
        let no_recover =
            h.rt.recover(None, std::time::Duration::from_millis(10))
                .is_err();
        let refused = refused
            && no_child
            && other_refused
            && no_reconf
            && no_recover
            && before == after
            && before > 0;
        let forked = h.rt.is_forked() && !h.rt.is_running();
        let flush_refused = h.rt.flush(std::time::Duration::from_millis(10)).is_err();
        let code = if refused && forked && flush_refused {
            0
        } else {
            1
        };
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child we just forked.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child checks failed: {status}"
    );
    for i in 0..100 {
        log.info("after fork", &[Field::i64("i", i)]).unwrap();
    }
    h.flush();
    assert_eq!(h.with_msg("in child").len(), 0);
    assert_eq!(
        h.with_msg("after fork").len(),
        100,
        "the parent lost records"
    );
    assert_eq!(h.rt.stats().logged, 101);
}
