//! Call sites: `ringlog_site_*` and `ringlog_log_site`.

use crate::context::ringlog_trace_context;
use crate::error::*;
use crate::field::*;
use crate::logger::{ringlog_level, ringlog_logger};
use ringlog::site::{Arg, ArgError, ArgSource, Kind, Site};
use ringlog::Level;
use std::ffi::c_char;

/// An opaque call-site handle: a logger, a level, a message and typed
/// keys, registered once. Free it with `ringlog_site_free` once no thread
/// uses it. A handle may be used from any number of threads at once.
#[derive(Debug)]
pub struct ringlog_site {
    inner: Site,
}

/// One key of a call site: its bytes and the type of every value given
/// for it (`RINGLOG_FIELD_NULL` .. `RINGLOG_FIELD_BYTES`; not a group).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ringlog_site_key {
    /// Key bytes (UTF-8); may be NULL only when `key_len` is 0.
    pub key: *const c_char,
    /// Key length in bytes (at most 65535).
    pub key_len: usize,
    /// The type of this key's values.
    pub r#type: ringlog_field_type,
}

// SAFETY: `arg` only reads the caller's value; the header requires the
// caller not to change it (or what it points at) during the call.
unsafe impl ArgSource for ringlog_value {
    // Every member but `str`/`bytes` is a plain word (or a byte, for bool).
    const WORDS_ALWAYS_READ: bool = true;

    #[inline(always)]
    fn arg(&self, t: u8) -> Result<Arg<'_>, ArgError> {
        // The site fixed this value's type, so by the header's contract
        // the matching union member is the one set.
        // SAFETY: that member is read; its pointer is valid for its length.
        unsafe {
            Ok(match t as ringlog_field_type {
                RINGLOG_FIELD_STR | RINGLOG_FIELD_BYTES => {
                    match bytes(self.str.ptr, self.str.len) {
                        Some(s) => Arg::Bytes(s),
                        None => return Err(ArgError::NullPointer),
                    }
                }
                // Read the byte, not a `bool`: C may put any value there.
                RINGLOG_FIELD_BOOL => Arg::Word((*(self as *const _ as *const u8) != 0) as u64),
                // i64, u64, f64 (null writes nothing).
                _ => Arg::Word(self.u64),
            })
        }
    }
}

/// A value given to `ringlog_log_site_ctx`: the same memory as a
/// `ringlog_value`, as a type of its own so that the core's site path is
/// compiled separately for it. Shared by both calls, the path is not
/// inlined into either, which costs `ringlog_log_site` about 45
/// instructions (callgrind: 401 against 356).
#[repr(transparent)]
struct GivenValue(ringlog_value);

// SAFETY: as for `ringlog_value`, which it only forwards to.
unsafe impl ArgSource for GivenValue {
    const WORDS_ALWAYS_READ: bool = <ringlog_value as ArgSource>::WORDS_ALWAYS_READ;

    #[inline(always)]
    fn arg(&self, t: u8) -> Result<Arg<'_>, ArgError> {
        self.0.arg(t)
    }
}

/// Registers a call site on `logger`: every record logged through it has
/// `level`, the message `msg` (`msg_len` bytes) and the `n_keys` keys
/// with their types, and carries only its values, so a call copies no
/// key or message. The site shares the logger's name, bound fields and
/// level setting. Writes the handle to `*out` on success.
///
/// Errors: `RINGLOG_E_NULL`, `RINGLOG_E_LEVEL`, `RINGLOG_E_FIELD` (a
/// group or unknown type code, a key over 65535 bytes, more than 65535
/// keys), `RINGLOG_E_SHUTDOWN`.
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_site_new(
    logger: *const ringlog_logger,
    level: ringlog_level,
    msg: *const c_char,
    msg_len: usize,
    keys: *const ringlog_site_key,
    n_keys: usize,
    out: *mut *mut ringlog_site,
) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        // SAFETY: caller contract.
        let Some(l) = (unsafe { crate::logger::handle(logger) }) else {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_site_new: logger is NULL"),
            );
        };
        if out.is_null() {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_site_new: out is NULL"),
            );
        }
        let Some(lv) = Level::from_number(level) else {
            return fail(
                RINGLOG_E_LEVEL,
                format_args!("ringlog_site_new: level {level} is not 1..24"),
            );
        };
        // SAFETY: caller contract.
        let Some(m) = (unsafe { bytes(msg, msg_len) }) else {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_site_new: msg is NULL but msg_len is {msg_len}"),
            );
        };
        let ks: &[ringlog_site_key] = if n_keys == 0 {
            &[]
        } else if keys.is_null() {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_site_new: keys is NULL but n_keys is {n_keys}"),
            );
        } else {
            // SAFETY: non-NULL and valid for `n_keys` keys (caller contract).
            unsafe { std::slice::from_raw_parts(keys, n_keys) }
        };
        let mut list = Vec::with_capacity(ks.len());
        for (i, k) in ks.iter().enumerate() {
            // SAFETY: caller contract: valid for key_len bytes.
            let Some(name) = (unsafe { bytes(k.key, k.key_len) }) else {
                return fail(
                    RINGLOG_E_NULL,
                    format_args!(
                        "ringlog_site_new: key {i} is NULL but key_len is {}",
                        k.key_len
                    ),
                );
            };
            let Some(kind) = Kind::from_tag(k.r#type) else {
                return fail(
                    RINGLOG_E_FIELD,
                    format_args!(
                        "ringlog_site_new: key {i}: type {} is not a call-site type (0..6; groups are not allowed)",
                        k.r#type
                    ),
                );
            };
            list.push((name, kind));
        }
        match l.inner.site_bytes(lv, m, &list) {
            Ok(site) => {
                // SAFETY: out is non-NULL (checked) and writable (contract).
                unsafe { *out = Box::into_raw(Box::new(ringlog_site { inner: site })) };
                RINGLOG_OK
            }
            Err(ringlog::Error::Config(e)) => {
                fail(RINGLOG_E_FIELD, format_args!("ringlog_site_new: {e}"))
            }
            Err(e) => from_error(&e),
        }
    })
}

/// Frees a call-site handle. NULL is ignored.
///
/// # Safety
/// `site` is NULL or a handle not yet freed, used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn ringlog_site_free(site: *mut ringlog_site) {
    crate::guard((), || {
        if !site.is_null() {
            // SAFETY: created by Box::into_raw in this module, not yet freed.
            drop(unsafe { Box::from_raw(site) });
        }
    })
}

/// True when records of `site` would be logged (its level is enabled on
/// its logger): one relaxed load. False for NULL.
///
/// # Safety
/// `site` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn ringlog_site_enabled(site: *const ringlog_site) -> bool {
    crate::guard(false, || {
        // SAFETY: caller contract.
        unsafe { site.as_ref() }.is_some_and(|s| s.inner.enabled())
    })
}

/// Logs a record of `site` with `n_values` values, one per key in the
/// order the keys were registered, each read through the member of
/// `ringlog_value` that the key's type names; stamped now, with the
/// thread's current trace context. Returns at once with `RINGLOG_OK`
/// when the level is off.
///
/// Errors: `RINGLOG_E_NULL` (site NULL, values NULL with n_values > 0),
/// `RINGLOG_E_FIELD` (n_values is not the site's key count, a text or
/// bytes value NULL with a length), `RINGLOG_E_TOO_LARGE`, `RINGLOG_E_FULL`,
/// `RINGLOG_E_SHUTDOWN`. Every record not logged is counted in the stats.
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_log_site(
    site: *const ringlog_site,
    values: *const ringlog_value,
    n_values: usize,
) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        // SAFETY: forwarded caller contract.
        match unsafe { site_values("ringlog_log_site", site, values, n_values) } {
            Ok((s, vs)) => log_result(s.inner.log_args(vs)),
            Err(rc) => rc,
        }
    })
}

/// As `ringlog_log_site`, with an explicit timestamp in ns since the Unix
/// epoch (0 = now) and an explicit trace context (NULL = the thread's
/// current one), for bindings whose language already stamped the record
/// and carries its own context.
///
/// Errors: as `ringlog_log_site`, and `RINGLOG_E_TRACE` for an all-zero id.
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_log_site_ctx(
    site: *const ringlog_site,
    ts_ns: u64,
    ctx: *const ringlog_trace_context,
    values: *const ringlog_value,
    n_values: usize,
) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        // SAFETY: caller contract: ctx is NULL or valid, site NULL or live.
        let c = match unsafe {
            crate::context::given("ringlog_log_site_ctx", ctx, || {
                if let Some(s) = site.as_ref() {
                    s.inner.count_rejected();
                }
            })
        } {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        // SAFETY: forwarded caller contract.
        match unsafe { site_values("ringlog_log_site_ctx", site, values, n_values) } {
            Ok((s, vs)) => {
                // SAFETY: `GivenValue` is a transparent `ringlog_value`.
                let given = unsafe { &*(vs as *const [ringlog_value] as *const [GivenValue]) };
                log_result(s.inner.log_args_at(ts_ns, c.as_ref(), given))
            }
            Err(rc) => rc,
        }
    })
}

/// The site and values of `ringlog_log_site` and `ringlog_log_site_ctx`,
/// checked; `Err` with the result code otherwise (the error set and the
/// record counted).
///
/// # Safety
/// As `ringlog_log_site`.
#[inline(always)]
unsafe fn site_values<'a>(
    name: &str,
    site: *const ringlog_site,
    values: *const ringlog_value,
    n_values: usize,
) -> Result<(&'a ringlog_site, &'a [ringlog_value]), ringlog_result> {
    // SAFETY: caller contract: NULL or a live handle.
    let Some(s) = (unsafe { site.as_ref() }) else {
        return Err(fail(RINGLOG_E_NULL, format_args!("{name}: site is NULL")));
    };
    if n_values == 0 {
        return Ok((s, &[]));
    }
    if values.is_null() {
        s.inner.count_rejected();
        return Err(fail(
            RINGLOG_E_NULL,
            format_args!("{name}: values is NULL but n_values is {n_values}"),
        ));
    }
    // SAFETY: non-NULL and valid for `n_values` values (contract).
    Ok((s, unsafe { std::slice::from_raw_parts(values, n_values) }))
}
