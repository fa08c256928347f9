//! The one place atomics and shared cells come from.
//!
//! Every synchronizing type the ring protocol uses is imported from here, so
//! that `RUSTFLAGS="--cfg loom"` swaps in loom's model-checked versions for
//! the tests in `ring/loom_tests.rs` without touching the protocol code (the
//! same arrangement crossbeam uses). Under loom only the ring is compiled.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
