//! The calling thread's trace context: `ringlog_context_*`.

use crate::error::*;
use crate::field::bytes;
use ringlog::TraceContext;
use std::ffi::c_char;

/// A W3C trace context.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ringlog_trace_context {
    /// Trace id (16 bytes, not all zero).
    pub trace_id: [u8; 16],
    /// Span id (8 bytes, not all zero).
    pub span_id: [u8; 8],
    /// Trace flags (bit 0: sampled).
    pub flags: u8,
}

/// The trace context a log call was given: `Ok(None)` for NULL (the
/// thread's current one applies), or `Err` with `RINGLOG_E_TRACE` (set as
/// the thread's last error, naming `func`) for an all-zero id, after
/// `reject` counts the record refused.
///
/// # Safety
/// `ctx` is NULL or valid for reads.
pub(crate) unsafe fn given(
    func: &str,
    ctx: *const ringlog_trace_context,
    reject: impl FnOnce(),
) -> Result<Option<TraceContext>, ringlog_result> {
    // SAFETY: caller contract: ctx is NULL or valid.
    let Some(c) = (unsafe { ctx.as_ref() }) else {
        return Ok(None);
    };
    match TraceContext::new(c.trace_id, c.span_id, c.flags) {
        Some(t) => Ok(Some(t)),
        None => {
            reject();
            Err(fail(
                RINGLOG_E_TRACE,
                format_args!("{func}: trace_id or span_id is all zeros"),
            ))
        }
    }
}

/// Sets the calling thread's current trace context from raw ids; records
/// logged on this thread without an explicit context carry it.
///
/// Errors: `RINGLOG_E_NULL`, `RINGLOG_E_TRACE` (an all-zero id).
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_context_set(
    trace_id: *const u8,
    span_id: *const u8,
    flags: u8,
) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        if trace_id.is_null() || span_id.is_null() {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_context_set: an id pointer is NULL"),
            );
        }
        let mut t = [0u8; 16];
        let mut s = [0u8; 8];
        // SAFETY: the header documents 16 and 8 readable bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(trace_id, t.as_mut_ptr(), 16);
            std::ptr::copy_nonoverlapping(span_id, s.as_mut_ptr(), 8);
        }
        match TraceContext::new(t, s, flags) {
            Some(c) => {
                ringlog::context::set_current(Some(c));
                RINGLOG_OK
            }
            None => fail(
                RINGLOG_E_TRACE,
                format_args!("ringlog_context_set: trace_id or span_id is all zeros"),
            ),
        }
    })
}

/// Sets the calling thread's current trace context from a W3C
/// `traceparent` value (`00-<32 hex>-<16 hex>-<2 hex>`).
///
/// Errors: `RINGLOG_E_NULL`, `RINGLOG_E_TRACE` (malformed; the message
/// says which part).
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_context_set_traceparent(
    s: *const c_char,
    len: usize,
) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        // SAFETY: caller contract.
        let Some(b) = (unsafe { bytes(s, len) }) else {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_context_set_traceparent: s is NULL"),
            );
        };
        match TraceContext::parse_traceparent(b) {
            Ok(c) => {
                ringlog::context::set_current(Some(c));
                RINGLOG_OK
            }
            Err(m) => fail(
                RINGLOG_E_TRACE,
                format_args!("ringlog_context_set_traceparent: {m}"),
            ),
        }
    })
}

/// Clears the calling thread's current trace context.
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_context_clear() -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        ringlog::context::clear_current();
        RINGLOG_OK
    })
}
