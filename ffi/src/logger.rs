//! Loggers and the hot path: `ringlog_logger_*` and `ringlog_log*`.

use crate::context::ringlog_trace_context;
use crate::error::*;
use crate::field::{bytes, fields, ringlog_field};
use ringlog::{Level, Logger, TraceContext};
use std::ffi::c_char;

/// A severity: an OpenTelemetry severity number 1..24.
pub type ringlog_level = u8;
/// TRACE (1).
pub const RINGLOG_LEVEL_TRACE: ringlog_level = 1;
/// DEBUG (5).
pub const RINGLOG_LEVEL_DEBUG: ringlog_level = 5;
/// INFO (9).
pub const RINGLOG_LEVEL_INFO: ringlog_level = 9;
/// WARN (13).
pub const RINGLOG_LEVEL_WARN: ringlog_level = 13;
/// ERROR (17).
pub const RINGLOG_LEVEL_ERROR: ringlog_level = 17;
/// FATAL (21).
pub const RINGLOG_LEVEL_FATAL: ringlog_level = 21;

/// An opaque logger handle.
///
/// Every handle (from `ringlog_logger_get` or `ringlog_logger_with`)
/// belongs to the caller, who frees it with `ringlog_logger_free` once no
/// thread uses it; not freeing a root handle only keeps a few bytes. A
/// handle may be used from any number of threads at once.
#[derive(Debug)]
pub struct ringlog_logger {
    pub(crate) inner: Logger,
}

/// # Safety
/// `p` is NULL or a handle from `ringlog_logger_get`/`_with` not yet freed.
#[inline(always)]
pub(crate) unsafe fn handle<'a>(p: *const ringlog_logger) -> Option<&'a ringlog_logger> {
    // SAFETY: per the function contract.
    unsafe { p.as_ref() }
}

/// Gets the root logger called `name` (`len` bytes), starting the
/// runtime with the defaults and environment if `ringlog_init` was not
/// called. Repeated calls with the same name return handles to the same
/// logger. Writes the handle to `*out` on success.
///
/// Errors: `RINGLOG_E_NULL` (out NULL, or name NULL with len > 0), and
/// those of `ringlog_init`.
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_logger_get(
    name: *const c_char,
    len: usize,
    out: *mut *mut ringlog_logger,
) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        if out.is_null() {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_logger_get: out is NULL"),
            );
        }
        // SAFETY: caller contract: valid for len bytes.
        let Some(name) = (unsafe { bytes(name, len) }) else {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_logger_get: name is NULL"),
            );
        };
        let rt = match ringlog::global::get_or_init() {
            Ok(rt) => rt,
            Err(e) => return from_error(&e),
        };
        let h = Box::new(ringlog_logger {
            inner: rt.logger_bytes(name),
        });
        // SAFETY: out is non-NULL and points at writable storage (contract).
        unsafe { *out = Box::into_raw(h) };
        RINGLOG_OK
    })
}

/// Makes a child of `parent` with `n` bound fields, which are copied
/// now and written with every record the child logs. The child shares
/// the parent's name and level. Free it with `ringlog_logger_free`.
///
/// Errors: `RINGLOG_E_NULL`, `RINGLOG_E_FIELD`.
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_logger_with(
    parent: *const ringlog_logger,
    fields_ptr: *const ringlog_field,
    n: usize,
    out: *mut *mut ringlog_logger,
) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        // SAFETY: caller contract.
        let Some(parent) = (unsafe { handle(parent) }) else {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_logger_with: parent is NULL"),
            );
        };
        if out.is_null() {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_logger_with: out is NULL"),
            );
        }
        // SAFETY: caller contract.
        let Some(fs) = (unsafe { fields(fields_ptr, n) }) else {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_logger_with: fields is NULL"),
            );
        };
        match parent.inner.child(fs) {
            Ok(child) => {
                let h = Box::new(ringlog_logger { inner: child });
                // SAFETY: out is non-NULL (checked) and writable (contract).
                unsafe { *out = Box::into_raw(h) };
                RINGLOG_OK
            }
            Err(e) => fail(RINGLOG_E_FIELD, format_args!("ringlog_logger_with: {e}")),
        }
    })
}

/// Frees a logger handle. NULL is ignored. Every handle (root or child) is
/// a separate allocation; freeing a root handle releases only that handle,
/// and the root logger stays available through `ringlog_logger_get`.
///
/// # Safety
/// `logger` is NULL or a handle not yet freed, used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn ringlog_logger_free(logger: *mut ringlog_logger) {
    crate::guard((), || {
        if !logger.is_null() {
            // SAFETY: created by Box::into_raw in this module, not yet freed.
            drop(unsafe { Box::from_raw(logger) });
        }
    })
}

/// True when a record at `level` would be logged by `logger`: one relaxed
/// atomic load. False for a NULL logger.
///
/// # Safety
/// `logger` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn ringlog_logger_enabled(
    logger: *const ringlog_logger,
    level: ringlog_level,
) -> bool {
    crate::guard(false, || {
        // SAFETY: caller contract.
        match unsafe { handle(logger) } {
            Some(l) => Level::from_number(level).is_some_and(|lv| l.inner.enabled(lv)),
            None => false,
        }
    })
}

/// The shared body of the `ringlog_log*` calls.
///
/// # Safety
/// The pointer arguments follow the header's contract.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn log_impl(
    logger: *const ringlog_logger,
    level: ringlog_level,
    ts_ns: u64,
    ctx: Option<&TraceContext>,
    msg: *const c_char,
    msg_len: usize,
    fields_ptr: *const ringlog_field,
    n: usize,
) -> ringlog_result {
    // SAFETY: caller contract.
    let Some(l) = (unsafe { handle(logger) }) else {
        return fail(RINGLOG_E_NULL, format_args!("ringlog_log: logger is NULL"));
    };
    let Some(lv) = Level::from_number(level) else {
        l.inner.count_rejected();
        return fail(
            RINGLOG_E_LEVEL,
            format_args!("ringlog_log: level {level} is not 1..24"),
        );
    };
    // SAFETY: caller contract.
    let Some(m) = (unsafe { bytes(msg, msg_len) }) else {
        l.inner.count_rejected();
        return fail(
            RINGLOG_E_NULL,
            format_args!("ringlog_log: msg is NULL but msg_len is {msg_len}"),
        );
    };
    // SAFETY: caller contract.
    let Some(fs) = (unsafe { fields(fields_ptr, n) }) else {
        l.inner.count_rejected();
        return fail(
            RINGLOG_E_NULL,
            format_args!("ringlog_log: fields is NULL but n_fields is {n}"),
        );
    };
    log_result(l.inner.log_with(lv, ts_ns, ctx, m, fs))
}

/// Logs a record: message `msg` (`msg_len` bytes) and `n_fields`
/// fields, stamped now, with the thread's current trace context.
/// Returns at once with `RINGLOG_OK` when the level is off.
///
/// Errors: `RINGLOG_E_NULL`, `RINGLOG_E_LEVEL`, `RINGLOG_E_FIELD`,
/// `RINGLOG_E_TOO_LARGE`, `RINGLOG_E_FULL`, `RINGLOG_E_SHUTDOWN`. Every
/// record not logged is counted in the stats.
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_log(
    logger: *const ringlog_logger,
    level: ringlog_level,
    msg: *const c_char,
    msg_len: usize,
    fields: *const ringlog_field,
    n_fields: usize,
) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        // SAFETY: forwarded caller contract.
        unsafe { log_impl(logger, level, 0, None, msg, msg_len, fields, n_fields) }
    })
}

/// As `ringlog_log`, with an explicit timestamp in ns since the Unix
/// epoch (0 = now), for bindings whose language already stamped it.
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_log_at(
    logger: *const ringlog_logger,
    level: ringlog_level,
    ts_ns: u64,
    msg: *const c_char,
    msg_len: usize,
    fields: *const ringlog_field,
    n_fields: usize,
) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        // SAFETY: forwarded caller contract.
        unsafe { log_impl(logger, level, ts_ns, None, msg, msg_len, fields, n_fields) }
    })
}

/// As `ringlog_log_at`, with an explicit trace context (NULL = the
/// thread's current one), so a binding can log a record in one call.
///
/// Errors: as `ringlog_log`, and `RINGLOG_E_TRACE` for an all-zero id.
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_log_ctx(
    logger: *const ringlog_logger,
    level: ringlog_level,
    ts_ns: u64,
    ctx: *const ringlog_trace_context,
    msg: *const c_char,
    msg_len: usize,
    fields: *const ringlog_field,
    n_fields: usize,
) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        // SAFETY: caller contract: ctx is NULL or valid, logger NULL or live.
        let c = match unsafe {
            crate::context::given("ringlog_log_ctx", ctx, || {
                if let Some(l) = handle(logger) {
                    l.inner.count_rejected();
                }
            })
        } {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        // SAFETY: forwarded caller contract.
        unsafe {
            log_impl(
                logger,
                level,
                ts_ns,
                c.as_ref(),
                msg,
                msg_len,
                fields,
                n_fields,
            )
        }
    })
}
