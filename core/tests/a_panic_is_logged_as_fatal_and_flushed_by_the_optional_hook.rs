//! With the optional panic hook installed, a panic on any thread becomes a
//! FATAL record (message, location, thread name) that is written before the
//! hook returns, and the previously installed hook still runs.
mod common;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn a_panic_is_logged_as_fatal_and_flushed_by_the_optional_hook() {
    let h = common::start(|_| {});
    let prev_ran = Arc::new(AtomicUsize::new(0));
    let p = prev_ran.clone();
    std::panic::set_hook(Box::new(move |_| {
        p.fetch_add(1, Ordering::SeqCst);
    }));
    ringlog::panic_hook::install(&h.rt, common::WAIT);
    let out = h.out.clone();
    let r = std::thread::Builder::new()
        .name("worker-7".into())
        .spawn(move || {
            let before = out.lock().unwrap().len();
            let r = std::panic::catch_unwind(|| panic!("invariant broken: {}", 42));
            // The hook flushed before returning: the record is already out.
            let after = out.lock().unwrap().len();
            (r.is_err(), after > before)
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(
        r,
        (true, true),
        "panicked, and written before the hook returned"
    );
    let _ = std::panic::take_hook();
    assert_eq!(prev_ran.load(Ordering::SeqCst), 1, "the previous hook ran");
    let recs = h.with_msg("panic");
    assert_eq!(recs.len(), 1);
    let v = &recs[0];
    assert_eq!(v["level"], "fatal");
    assert_eq!(v["logger"], "panic");
    assert_eq!(v["message"], "invariant broken: 42");
    assert_eq!(v["thread_name"], "worker-7");
    assert!(v["location"]
        .as_str()
        .unwrap()
        .contains("a_panic_is_logged_as_fatal"));
}
