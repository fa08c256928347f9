//! The C ABI of ringlog.
//!
//! Conventions (also stated at the top of `include/ringlog.h`):
//! * Every function that can fail returns a `ringlog_result`: `RINGLOG_OK`
//!   (0) or a `RINGLOG_E_*` code; `ringlog_last_error()` then describes it.
//! * Outputs (`out` pointers) are written only on success.
//! * Strings are pointer + length; they need not be NUL-terminated, may
//!   hold NUL bytes, and may be NULL only with length 0.
//! * Everything passed in is copied during the call; ringlog keeps no
//!   pointer to caller memory.
//! * Every exported body runs inside [`guard`], the one panic boundary: a
//!   panic becomes `RINGLOG_E_PANIC` and never unwinds into C.
//! * All functions are thread-safe.

#![allow(non_camel_case_types)]

mod context;
mod crash;
mod error;
mod field;
mod logger;
mod runtime;
mod site;

pub use context::*;
pub use crash::*;
pub use error::*;
pub use field::*;
pub use logger::*;
pub use runtime::*;
pub use site::*;

use std::panic::{catch_unwind, AssertUnwindSafe};

/// The panic boundary every `extern "C"` body runs in: returns `f()`, or
/// `on_panic` (after recording the panic as the last error) if it panics.
#[inline(always)]
pub(crate) fn guard<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => {
            error::set(format_args!(
                "internal error: a panic was caught at the C boundary"
            ));
            on_panic
        }
    }
}
