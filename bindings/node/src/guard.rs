//! The panic boundary: no Rust panic may unwind into Node.
//!
//! Unwinding out of an `extern "C"` function aborts the process, and
//! napi-rs only catches panics in functions marked `catch_unwind`. Every
//! entry point of this addon (the `#[napi]` functions, the raw `emit`
//! function, the env cleanup hook, the flush task) runs its body inside
//! [`guard`], which turns a panic into a JS `Error` instead.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The message carried by a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// Runs `f`, turning a panic into an error naming `what`.
///
/// # Errors
/// The error `f` returns, or a `GenericFailure` error when `f` panicked.
pub(crate) fn guard<T>(what: &str, f: impl FnOnce() -> napi::Result<T>) -> napi::Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = format!("ringlog: panic in {what}: {}", panic_message(&*payload));
            // A payload whose destructor panics again must not unwind
            // from here either: leak it.
            std::mem::forget(payload);
            Err(napi::Error::from_reason(msg))
        }
    }
}

/// Runs `f` where no error can be reported (a cleanup hook): a panic is
/// caught and dropped.
pub(crate) fn guard_quiet(f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        std::mem::forget(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_naming_the_entry_point() {
        let r: napi::Result<()> = guard("test", || panic!("boom"));
        let e = r.unwrap_err();
        assert!(e.reason.contains("panic in test: boom"), "{}", e.reason);
    }

    #[test]
    fn results_pass_through() {
        assert_eq!(guard("test", || Ok(7)).unwrap(), 7);
    }
}
