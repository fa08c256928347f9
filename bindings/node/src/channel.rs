//! The record channel: one `ArrayBuffer` per JS thread, and `emit`.
//!
//! The JS side writes a record into its thread's buffer (see
//! [`crate::wire`] for the layout) and calls `emit()`, a raw Node-API
//! function with no arguments. `emit` reads the record in place and hands
//! it to the core. A `#[napi]` function pays for napi-rs's argument
//! handling on every call: on the 2-core VM of `README.md`, a call with
//! one `u32` argument cost about 200 ns through napi-rs against about
//! 40 ns as a raw function, and a raw call with no arguments about 16 ns.
//!
//! The buffer starts with a 16-byte header:
//!
//! ```text
//! 0..4    start   offset of the record         (written by JS)
//! 4..8    end     offset just past the record  (written by JS)
//! 8..12   generation of the runtime and levels (written by emit)
//! 12..16  status of the last record            (written by emit)
//! ```
//!
//! A record usually starts at 16; one logged from inside another's
//! encoding (a getter that logs) starts after the first one's bytes.

use crate::guard::guard_quiet;
use crate::loggers::{self, ResolveError, SiteError};
use crate::runtime;
use crate::wire::{Fields, Head, Reader, SiteArgs};
use napi::sys;
use ringlog::Level;
use std::cell::RefCell;
use std::ptr;

/// Size of the header before the records.
pub(crate) const HEADER: usize = 16;

/// Status codes `emit` leaves at bytes 12..16.
pub(crate) mod status {
    /// Logged, or dropped / refused and counted by the core.
    pub const OK: u32 = 0;
    /// The runtime could not start (see `lastError()`).
    pub const NO_RUNTIME: u32 = 1;
    /// No buffer registered, or a malformed record (counted).
    pub const BAD_RECORD: u32 = 2;
    /// The logger id is unknown.
    pub const NO_LOGGER: u32 = 3;
    /// A panic was caught.
    pub const PANIC: u32 = 4;
}

/// A registered buffer.
#[derive(Debug)]
struct Buffer {
    /// A strong reference keeping the `ArrayBuffer` alive.
    reference: sys::napi_ref,
    /// Its data.
    data: *mut u8,
    /// Its length in bytes.
    len: usize,
}

/// One channel: the state behind one pair of `emit` / `setBuffer`
/// functions, made by `init` for one copy of `lib/encode.js` in one
/// environment (two copies of the package loaded into one thread each get
/// their own).
#[derive(Debug)]
pub(crate) struct Channel {
    /// The environment the functions belong to.
    env: sys::napi_env,
    /// The registered buffer, if any.
    buffer: RefCell<Option<Buffer>>,
}

impl Channel {
    /// Registers `value` (an `ArrayBuffer` of at least [`HEADER`] bytes),
    /// replacing and releasing the previous one.
    ///
    /// # Safety
    /// `value` must be a live value of the current Node-API call in
    /// `self.env`, on its thread.
    unsafe fn register(&self, value: sys::napi_value) -> Result<(), &'static str> {
        let env = self.env;
        let mut data: *mut std::ffi::c_void = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: env and value are live for this call (the caller's
        // contract); the out-pointers are valid locals.
        let st = unsafe { sys::napi_get_arraybuffer_info(env, value, &mut data, &mut len) };
        if st != sys::Status::napi_ok || data.is_null() || len < HEADER {
            return Err("ringlog: the record buffer must be an ArrayBuffer of at least 16 bytes");
        }
        let mut reference: sys::napi_ref = ptr::null_mut();
        // A reference count of 1 keeps the buffer alive (and its data where
        // it is: an ArrayBuffer's backing store never moves) until `release`
        // deletes the reference.
        // SAFETY: as above: env and value are live handles of this call.
        let st = unsafe { sys::napi_create_reference(env, value, 1, &mut reference) };
        if st != sys::Status::napi_ok {
            return Err("ringlog: could not reference the record buffer");
        }
        let old = self.buffer.borrow_mut().replace(Buffer {
            reference,
            data: data.cast(),
            len,
        });
        if let Some(old) = old {
            // SAFETY: the env is live (contract) and made the reference.
            unsafe { self.release(old) };
        }
        Ok(())
    }

    /// Deletes a buffer's reference.
    ///
    /// # Safety
    /// `self.env` must be alive and current on this thread.
    unsafe fn release(&self, b: Buffer) {
        // SAFETY: the reference was made in `self.env`, live (contract).
        unsafe { sys::napi_delete_reference(self.env, b.reference) };
    }
}

/// Makes a channel for `env` and installs its `emit` and `setBuffer`
/// functions on `target`. The channel lives until [`free`] (from the
/// environment's cleanup hook).
///
/// # Safety
/// `env` and `target` must be the live environment and object of the
/// current Node-API call.
pub(crate) unsafe fn install(
    env: sys::napi_env,
    target: sys::napi_value,
) -> napi::Result<*mut Channel> {
    let ch = Box::into_raw(Box::new(Channel {
        env,
        buffer: RefCell::new(None),
    }));
    type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;
    let fns: [(&std::ffi::CStr, Callback); 2] = [(c"emit", emit), (c"setBuffer", set_buffer)];
    for (name, cb) in fns {
        let mut f: sys::napi_value = ptr::null_mut();
        // `ch` stays valid for as long as the environment can call `cb`.
        // SAFETY: env is live (contract); `name` is NUL-terminated and `cb`
        // has the callback signature Node-API expects.
        let st = unsafe {
            sys::napi_create_function(
                env,
                name.as_ptr(),
                name.count_bytes() as isize,
                Some(cb),
                ch.cast(),
                &mut f,
            )
        };
        // SAFETY: env and target are live (contract), `f` was just made.
        let st2 = (st == sys::Status::napi_ok)
            .then(|| unsafe { sys::napi_set_named_property(env, target, name.as_ptr(), f) });
        if st2 != Some(sys::Status::napi_ok) {
            // SAFETY: `ch` came from `Box::into_raw` above; a function that
            // was made with it and not installed is never called.
            drop(unsafe { Box::from_raw(ch) });
            return Err(napi::Error::from_reason(
                "ringlog: could not install the record channel",
            ));
        }
    }
    Ok(ch)
}

/// Frees a channel made by [`install`].
///
/// # Safety
/// `ch` must come from [`install`] and not be freed yet; called from its
/// environment's cleanup hook, on its thread, after which the
/// environment runs no more JS (so its functions are never called again).
pub(crate) unsafe fn free(ch: *mut Channel) {
    // SAFETY: per the contract, `ch` is a live Box from `install`.
    let ch = unsafe { Box::from_raw(ch) };
    let old = ch.buffer.borrow_mut().take();
    if let Some(old) = old {
        // SAFETY: the env is alive during its cleanup hooks.
        unsafe { ch.release(old) };
    }
}

/// The channel a callback was made with.
///
/// # Safety
/// `env` and `info` must be those of a call of a function [`install`]
/// made, whose channel is not freed (it is not while its env runs JS).
unsafe fn channel_of<'a>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    argv: &mut [sys::napi_value],
) -> Option<&'a Channel> {
    let mut data: *mut std::ffi::c_void = ptr::null_mut();
    let mut argc = argv.len();
    let argv_ptr = if argv.is_empty() {
        ptr::null_mut()
    } else {
        argv.as_mut_ptr()
    };
    // SAFETY: env and info are live (contract); the out-pointers are valid
    // (a NULL argv with argc 0 asks for no arguments).
    let st = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            if argv.is_empty() {
                ptr::null_mut()
            } else {
                &mut argc
            },
            argv_ptr,
            ptr::null_mut(),
            &mut data,
        )
    };
    if st != sys::Status::napi_ok || data.is_null() {
        return None;
    }
    // SAFETY: `data` is the `Channel` pointer `install` gave this function,
    // alive while the env runs JS (contract).
    Some(unsafe { &*data.cast::<Channel>() })
}

/// Throws a JS `Error` with `msg`.
///
/// # Safety
/// `env` must be the live environment of the current call.
unsafe fn throw(env: sys::napi_env, msg: &'static std::ffi::CStr) {
    // SAFETY: env is live (contract); `msg` is NUL-terminated.
    unsafe { sys::napi_throw_error(env, ptr::null(), msg.as_ptr()) };
}

/// `setBuffer(arrayBuffer)`: registers the channel's record buffer.
///
/// # Safety
/// Called by Node-API only, as the callback of a function [`install`] made.
unsafe extern "C" fn set_buffer(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let mut argv = [ptr::null_mut(); 1];
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: forwarded from this function's contract.
        let Some(ch) = (unsafe { channel_of(env, info, &mut argv) }) else {
            return Err("ringlog: setBuffer() called without its channel");
        };
        // SAFETY: argv[0] is a live value of this call (undefined when it
        // was not given, which `register` refuses).
        unsafe { ch.register(argv[0]) }
    }));
    match r {
        Ok(Ok(())) => {}
        // SAFETY: env is the live environment of this call.
        Ok(Err(_)) => unsafe {
            throw(
                env,
                c"ringlog: setBuffer needs an ArrayBuffer of at least 16 bytes",
            )
        },
        // SAFETY: as above.
        Err(p) => {
            std::mem::forget(p);
            // SAFETY: as above.
            unsafe { throw(env, c"ringlog: panic in setBuffer") }
        }
    }
    ptr::null_mut()
}

/// Reads a little-endian `u32` at `at` (in bounds, checked by the caller).
#[inline]
fn u32_at(buf: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&buf[at..at + 4]);
    u32::from_le_bytes(a)
}

/// Logs the record described by the header of `buf` and returns the
/// status code for bytes 12..16.
fn log_record(buf: &[u8]) -> u32 {
    let start = u32_at(buf, 0) as usize;
    let end = u32_at(buf, 4) as usize;
    if start < HEADER || start > end || end > buf.len() {
        return status::BAD_RECORD;
    }
    let mut r = Reader::new(&buf[start..end]);
    let Ok(head) = r.head() else {
        return status::BAD_RECORD;
    };
    loggers::with(|t| {
        let Some(slot) = t.get(head.logger) else {
            return status::NO_LOGGER;
        };
        if head.site != 0 {
            return log_site_record(slot, &head, &mut r);
        }
        let logger = match slot.resolve() {
            Ok(l) => l,
            Err(ResolveError::NoRuntime) => return status::NO_RUNTIME,
            Err(ResolveError::BadBound) => return status::BAD_RECORD,
        };
        let Some(level) = Level::from_number(head.level) else {
            logger.count_rejected();
            return status::BAD_RECORD;
        };
        let mut fields = Fields::new();
        if r.fields_into(&mut fields).is_err() || !r.at_end() {
            logger.count_rejected();
            return status::BAD_RECORD;
        }
        // Dropped and refused records are counted by the core (`stats()`);
        // logging never throws for them.
        let _ = logger.log_with(level, 0, head.ctx.as_ref(), head.msg, &fields);
        status::OK
    })
    .unwrap_or(status::NO_LOGGER)
}

/// Logs a site record whose head was read; `r` is at its values.
#[inline]
fn log_site_record(slot: &mut loggers::Slot, head: &Head<'_>, r: &mut Reader<'_>) -> u32 {
    let (site, kinds) = match slot.site(head.site) {
        Ok(s) => s,
        Err(SiteError::Logger(ResolveError::NoRuntime)) => return status::NO_RUNTIME,
        Err(
            SiteError::Logger(ResolveError::BadBound) | SiteError::Unknown | SiteError::Refused,
        ) => return refuse(slot),
    };
    let mut args = SiteArgs::new();
    if head.level != site.level().number() || r.site_args(kinds, &mut args).is_err() || !r.at_end()
    {
        site.count_rejected();
        return status::BAD_RECORD;
    }
    // Dropped and refused records are counted by the core, as above.
    let _ = site.log_args_with(head.ctx.as_ref(), &args);
    status::OK
}

/// Counts a record of `slot` that cannot be logged as malformed.
#[cold]
fn refuse(slot: &mut loggers::Slot) -> u32 {
    if let Ok(l) = slot.resolve() {
        l.count_rejected();
    }
    status::BAD_RECORD
}

/// `emit()`: logs the record in the channel's buffer. Never throws; the
/// outcome is left in the header.
///
/// # Safety
/// Called by Node-API only, as the callback of a function [`install`] made.
unsafe extern "C" fn emit(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    guard_quiet(|| {
        // SAFETY: forwarded from this function's contract.
        let Some(ch) = (unsafe { channel_of(env, info, &mut []) }) else {
            return;
        };
        let Ok(b) = ch.buffer.try_borrow() else {
            return;
        };
        let Some(b) = b.as_ref() else { return };
        let (data, len) = (b.data, b.len);
        // An isolate's ArrayBuffers are only touched by its own thread,
        // which is running this call and no JS, so nothing writes the
        // buffer while we read it.
        // SAFETY: `data` is the `len`-byte backing store of an ArrayBuffer
        // kept alive by `b.reference`, unchanged while we read (above).
        let buf = unsafe { std::slice::from_raw_parts(data, len) };
        let code = std::panic::catch_unwind(|| log_record(buf)).unwrap_or(status::PANIC);
        let mut out = [0u8; 8];
        out[..4].copy_from_slice(&runtime::reported_generation().to_le_bytes());
        out[4..].copy_from_slice(&code.to_le_bytes());
        // SAFETY: `len >= HEADER` (checked at registration), so bytes 8..16
        // are in the buffer; `buf` is no longer used.
        unsafe { ptr::copy_nonoverlapping(out.as_ptr(), data.add(8), 8) };
    });
    ptr::null_mut()
}
