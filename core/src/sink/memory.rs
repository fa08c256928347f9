//! An in-memory sink: a test double that real tests and examples use to
//! read back exactly what the flusher wrote.

use super::Sink;
use std::io;
use std::sync::{Arc, Mutex};

/// Appends batches to a shared buffer.
///
/// ```
/// use ringlog::sink::{memory::MemorySink, Sink};
/// let (mut sink, buf) = MemorySink::new();
/// sink.write_batch(b"line\n").unwrap();
/// assert_eq!(&*buf.lock().unwrap(), b"line\n");
/// ```
#[derive(Debug, Clone)]
pub struct MemorySink {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl MemorySink {
    /// A sink and the handle to read what it receives.
    pub fn new() -> (MemorySink, Arc<Mutex<Vec<u8>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        (MemorySink { buf: buf.clone() }, buf)
    }
}

impl Sink for MemorySink {
    fn write_batch(&mut self, buf: &[u8]) -> io::Result<()> {
        self.buf
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(())
    }
}
