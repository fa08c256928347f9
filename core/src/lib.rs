//! ringlog: structured logging through per-thread, file-backed ring
//! buffers and an off-thread flusher.
//!
//! A producer thread frames each record (timestamp, level, logger id,
//! message, typed fields, trace context) into its own single-producer ring,
//! which lives in a shared file mapping. A flusher thread drains all rings,
//! orders the batch by time, encodes it (JSON, logfmt, console) and writes
//! it to the sinks. Because the rings are files, records still in a ring
//! when the process dies can be recovered.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! use ringlog::{Config, Field, Runtime};
//! let mut cfg = Config::default();
//! cfg.ring_dir = Some(dir.path().to_path_buf());
//! let (sink, out) = ringlog::sink::memory::MemorySink::new();
//! let rt = Runtime::builder(cfg).replace_sinks().sink("mem", Box::new(sink)).start()?;
//! rt.logger("http").info("request handled", &[Field::i64("status", 200)])?;
//! rt.shutdown(std::time::Duration::from_secs(5))?;
//! assert!(String::from_utf8_lossy(&out.lock().unwrap()).contains(r#""status":200"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! See `ARCHITECTURE.md` for the codemap and the invariants.

#![warn(missing_docs)]
// Under loom only the ring is compiled, so parts of it go unused.
#![cfg_attr(loom, allow(dead_code))]

#[cfg(not(loom))]
pub mod clock;
#[cfg(not(loom))]
pub mod config;
#[cfg(not(loom))]
pub mod context;
#[cfg(not(loom))]
pub mod crash;
#[cfg(not(loom))]
mod crc;
#[cfg(not(loom))]
pub mod encode;
#[cfg(not(loom))]
mod error;
#[cfg(not(loom))]
mod flusher;
#[cfg(not(loom))]
mod forklock;
#[cfg(not(loom))]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(not(loom))]
pub mod global;
#[cfg(not(loom))]
mod instance;
#[cfg(not(loom))]
mod level;
#[cfg(not(loom))]
mod logger;
#[cfg(not(loom))]
mod meta;
#[cfg(not(loom))]
pub mod os;
#[cfg(not(loom))]
pub mod panic_hook;
#[cfg(not(loom))]
mod producer;
#[cfg(not(loom))]
pub mod record;
#[cfg(not(loom))]
pub mod recover;
#[cfg(not(loom))]
mod registry;
mod ring;
#[cfg(not(loom))]
mod runtime;
#[cfg(not(loom))]
pub mod sink;
#[cfg(not(loom))]
pub mod site;
#[cfg(not(loom))]
mod stats;
mod sync;
#[cfg(not(loom))]
mod value;

#[cfg(not(loom))]
pub use crate::{
    config::{Config, FullPolicy},
    context::TraceContext,
    error::{Error, LogError},
    instance::default_ring_dir,
    level::Level,
    logger::Logger,
    record::RecordError,
    runtime::{Builder, Runtime},
    stats::{SinkStats, Stats},
    value::{Field, FieldSource, InvalidField, Value, ValueRef},
};

/// Ring capacity bounds, for validating configurations.
#[cfg(not(loom))]
pub use crate::ring::{MAX_CAPACITY, MIN_CAPACITY};

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
