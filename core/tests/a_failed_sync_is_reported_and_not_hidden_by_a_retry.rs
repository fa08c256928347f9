//! A failed fsync means data the kernel had may be gone; on Linux the
//! next fsync can then succeed for data that was never written. So a
//! failed sync is counted (`sync_errors`) and never retried: a retry
//! would report success and hide the loss.

use ringlog::sink::memory::MemorySink;
use ringlog::sink::Sink;
use ringlog::{Config, Field, Runtime};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// A sink whose first sync fails with EIO and whose later syncs succeed,
/// as fsync after a lost writeback does.
struct FailsFirstSync {
    inner: MemorySink,
    syncs: Arc<AtomicU64>,
}

impl Sink for FailsFirstSync {
    fn write_batch(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_batch(buf)
    }
    fn sync(&mut self) -> io::Result<()> {
        // Ordering: SeqCst: a test counter read after shutdown joined the
        // flusher thread; any ordering would do.
        if self.syncs.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        Ok(())
    }
}

#[test]
fn a_failed_sync_is_counted_once_and_the_sync_is_not_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let (inner, out) = MemorySink::new();
    let syncs = Arc::new(AtomicU64::new(0));
    let rt = Runtime::builder(Config {
        ring_dir: Some(dir.path().join("rings")),
        ..Config::default()
    })
    .replace_sinks()
    .sink(
        "disk",
        Box::new(FailsFirstSync {
            inner,
            syncs: syncs.clone(),
        }),
    )
    .start()
    .unwrap();
    let log = rt.logger("app");
    for n in 0..10 {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
    }
    // Shutdown syncs every sink that wrote since its last sync.
    rt.shutdown(WAIT).unwrap();
    let st = rt.stats();
    // Ordering: SeqCst, as in `FailsFirstSync::sync`.
    assert_eq!(
        syncs.load(Ordering::SeqCst),
        1,
        "the failed sync was retried"
    );
    assert_eq!(st.sync_errors, 1, "{st:?}");
    assert_eq!(st.write_errors, 1, "a failed sync is a write error too");
    // The writes themselves went through.
    assert_eq!(
        String::from_utf8(out.lock().unwrap().clone())
            .unwrap()
            .lines()
            .count(),
        10
    );
    assert_eq!((st.records_lost, st.bytes_pending), (0, 0));
}
