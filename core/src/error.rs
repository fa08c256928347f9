//! Errors a caller can see.

use crate::record::RecordError;
use std::fmt;

/// Why a record was not logged. Every case is also counted in [`crate::Stats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogError {
    /// The runtime was shut down; the record was refused.
    Shutdown,
    /// The ring stayed full (past the block timeout, under the `block`
    /// policy); the record was dropped and counted, and the output will
    /// carry a drop report with its sequence number.
    Full,
    /// The record is larger than half the ring capacity.
    TooLarge,
    /// A field could not be read.
    Invalid(RecordError),
    /// The thread is exiting and its ring is gone.
    ThreadExiting,
    /// The ring file for this thread could not be created.
    NoRing,
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Shutdown => f.write_str("ringlog has been shut down; record refused"),
            LogError::Full => f.write_str("ring full; record dropped and counted"),
            LogError::TooLarge => {
                f.write_str("record larger than half the ring capacity; record refused")
            }
            LogError::Invalid(e) => write!(f, "invalid record: {e}"),
            LogError::ThreadExiting => f.write_str("thread is exiting; record refused"),
            LogError::NoRing => f.write_str("could not create this thread's ring file"),
        }
    }
}

impl std::error::Error for LogError {}

/// Why the runtime could not start or change.
#[derive(Debug)]
pub enum Error {
    /// The configuration is invalid; the message names the key.
    Config(String),
    /// A file or directory could not be created or opened.
    Io(String, std::io::Error),
    /// The flusher did not finish in time.
    Timeout,
    /// The runtime has been shut down.
    Shutdown,
    /// The call does not fit the runtime's state (already running).
    State(String),
    /// The feature is not built yet.
    Unsupported(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(m) => write!(f, "config: {m}"),
            Error::Io(what, e) => write!(f, "{what}: {e}"),
            Error::Timeout => f.write_str("timed out waiting for the flusher"),
            Error::Shutdown => f.write_str("ringlog has been shut down"),
            Error::State(m) => f.write_str(m),
            Error::Unsupported(m) => write!(f, "not implemented yet: {m}"),
        }
    }
}

impl std::error::Error for Error {}
