//! Sinks: where encoded batches go.
//!
//! A sink receives whole batches (many encoded records in one buffer) and
//! writes each with as few system calls as possible.
//!
//! Faults are the flusher's business, not the sink's: a sink reports how
//! far a write got and the error that stopped it ([`Sink::write_partial`]),
//! and the flusher keeps the rest to retry with backoff, or gives the sink
//! up after an error that cannot heal (a closed pipe). File sinks follow
//! log rotation through [`Sink::follow_rotation`].

pub mod file;
pub mod memory;
pub(crate) mod signals;
pub mod stream;

use std::io;

/// A destination for encoded batches.
pub trait Sink: Send {
    /// Writes the whole buffer (one batch of complete records).
    ///
    /// # Errors
    /// The I/O error that stopped the write; the caller counts it.
    fn write_batch(&mut self, buf: &[u8]) -> io::Result<()>;

    /// Writes as much of `buf` as it can and says how many bytes went out:
    /// `(buf.len(), Ok(()))` when all of it did, or the bytes written
    /// before the error and the error. The flusher retries `buf[n..]`, so
    /// a sink that reports partial progress never has a byte written twice
    /// or skipped.
    ///
    /// The default calls [`Sink::write_batch`] and, on an error, reports
    /// that nothing was written (the whole batch is retried).
    fn write_partial(&mut self, buf: &[u8]) -> (usize, io::Result<()>) {
        match self.write_batch(buf) {
            Ok(()) => (buf.len(), Ok(())),
            Err(e) => (0, Err(e)),
        }
    }

    /// Notices that the destination was replaced or cut underneath (log
    /// rotation) and follows it. The flusher calls it before every write.
    /// It must be cheap when nothing changed.
    ///
    /// # Errors
    /// The destination changed but could not be reopened; the sink goes on
    /// writing where it wrote before.
    fn follow_rotation(&mut self) -> io::Result<Rotation> {
        Ok(Rotation::Unchanged)
    }

    /// Makes what was written durable (fdatasync), where that means anything.
    ///
    /// # Errors
    /// The I/O error from the sync; the caller reports possible loss.
    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// True when the destination is a terminal (the console encoder colours
    /// only then).
    fn is_terminal(&self) -> bool {
        false
    }
}

/// What [`Sink::follow_rotation`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The destination is as it was.
    Unchanged,
    /// The file at the path was renamed or deleted (logrotate's `create`
    /// mode); the path was opened again and writing goes on there.
    Reopened,
    /// The file shrank below what this sink had written (logrotate's
    /// `copytruncate`); appending goes on at its new end.
    Truncated,
}
