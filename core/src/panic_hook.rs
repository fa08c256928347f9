//! An optional panic hook: a Rust panic is logged as a FATAL record and
//! flushed before the previous hook (by default, the message on stderr)
//! runs.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! # let mut cfg = ringlog::Config::default();
//! # cfg.ring_dir = Some(dir.path().to_path_buf());
//! let rt = ringlog::Runtime::start(cfg)?;
//! ringlog::panic_hook::install(&rt, std::time::Duration::from_secs(1));
//! # rt.shutdown(std::time::Duration::from_secs(5))?;
//! # Ok::<(), ringlog::Error>(())
//! ```

use crate::runtime::Runtime;
use crate::value::Field;
use std::panic::PanicHookInfo;
use std::time::Duration;

/// Name of the logger panic records come from.
pub const LOGGER: &str = "panic";

/// Installs a panic hook that logs each panic on `rt` as a FATAL record
/// (`message`, `location`, `thread_name`) and waits up to `flush_timeout` for
/// it to be written, then calls the hook that was installed before.
///
/// A panic on the runtime's own flusher thread (an encoder or sink that
/// panicked, which the flusher catches and counts) is passed on to the
/// previous hook without logging: the flusher cannot wait for itself.
pub fn install(rt: &Runtime, flush_timeout: Duration) {
    let rt = rt.clone();
    let logger = rt.logger(LOGGER);
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
        let me = std::thread::current();
        if me.name() != Some(crate::runtime::FLUSHER_THREAD) && rt.is_running() {
            let msg = payload_text(info);
            let loc = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_default();
            let thread = me.name().unwrap_or("<unnamed>");
            let logged = logger.fatal(
                "panic",
                &[
                    Field::str("message", &msg),
                    Field::str("location", &loc),
                    Field::str("thread_name", thread),
                ],
            );
            if logged.is_ok() {
                let _ = rt.flush(flush_timeout);
            }
        }
        prev(info);
    }));
}

fn payload_text(info: &PanicHookInfo<'_>) -> String {
    let p = info.payload();
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}
