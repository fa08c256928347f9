//! Sinks: where encoded batches go.
//!
//! A sink receives whole batches (many encoded records in one buffer) and
//! writes each with as few system calls as possible.

pub mod file;
pub mod memory;
pub mod stream;

use std::io;

/// A destination for encoded batches.
pub trait Sink: Send {
    /// Writes the whole buffer (one batch of complete records).
    ///
    /// # Errors
    /// The I/O error that stopped the write; the caller counts it.
    fn write_batch(&mut self, buf: &[u8]) -> io::Result<()>;

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
