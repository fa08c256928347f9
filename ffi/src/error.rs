//! Result codes and the thread-local last-error message.

use std::cell::RefCell;
use std::ffi::c_char;
use std::io::Write;

/// A result code: `RINGLOG_OK` (0) or one of the `RINGLOG_E_*` values.
pub type ringlog_result = i32;

/// Success.
pub const RINGLOG_OK: ringlog_result = 0;
/// A required pointer argument was NULL (or NULL with a non-zero length).
pub const RINGLOG_E_NULL: ringlog_result = 1;
/// The configuration is invalid; the message names the key.
pub const RINGLOG_E_CONFIG: ringlog_result = 2;
/// A file or directory could not be created or opened.
pub const RINGLOG_E_IO: ringlog_result = 3;
/// The call does not fit the runtime's state (for example a second
/// `ringlog_init` while one is running).
pub const RINGLOG_E_STATE: ringlog_result = 4;
/// The runtime was shut down; the record was refused and counted.
pub const RINGLOG_E_SHUTDOWN: ringlog_result = 5;
/// The thread's ring was full; the record was dropped and counted, and the
/// output will carry a drop report.
pub const RINGLOG_E_FULL: ringlog_result = 6;
/// The record is larger than half the ring; it was refused and counted.
pub const RINGLOG_E_TOO_LARGE: ringlog_result = 7;
/// A field could not be read (NULL pointer with a length, unknown type
/// code, key over 65535 bytes, groups nested over 32 deep); the record was
/// refused and counted.
pub const RINGLOG_E_FIELD: ringlog_result = 8;
/// The flusher did not finish within the timeout.
pub const RINGLOG_E_TIMEOUT: ringlog_result = 9;
/// A traceparent string or trace id is malformed.
pub const RINGLOG_E_TRACE: ringlog_result = 10;
/// The level is not a severity number 1..24.
pub const RINGLOG_E_LEVEL: ringlog_result = 11;
/// The feature is not available yet.
pub const RINGLOG_E_NOT_IMPLEMENTED: ringlog_result = 12;
/// A panic inside ringlog was caught at the ABI boundary.
pub const RINGLOG_E_PANIC: ringlog_result = 13;

const CAP: usize = 512;

thread_local! {
    /// The calling thread's last error message, NUL-terminated. A fixed
    /// buffer, so recording an error never allocates.
    static LAST: RefCell<[u8; CAP]> = const { RefCell::new([0u8; CAP]) };
}

/// Records `args` as this thread's last error (truncated to 511 bytes).
pub(crate) fn set(args: std::fmt::Arguments<'_>) {
    let _ = LAST.try_with(|b| {
        if let Ok(mut b) = b.try_borrow_mut() {
            let mut cur = std::io::Cursor::new(&mut b[..CAP - 1]);
            let _ = cur.write_fmt(args);
            let n = cur.position() as usize;
            b[n] = 0;
        }
    });
}

/// Records `msg` and returns `code`.
#[cold]
pub(crate) fn fail(code: ringlog_result, msg: std::fmt::Arguments<'_>) -> ringlog_result {
    set(msg);
    code
}

/// Maps a core error to a code, recording its message.
#[cold]
pub(crate) fn from_error(e: &ringlog::Error) -> ringlog_result {
    set(format_args!("{e}"));
    match e {
        ringlog::Error::Config(_) => RINGLOG_E_CONFIG,
        ringlog::Error::Io(..) => RINGLOG_E_IO,
        ringlog::Error::Timeout => RINGLOG_E_TIMEOUT,
        ringlog::Error::Shutdown => RINGLOG_E_SHUTDOWN,
        ringlog::Error::Unsupported(_) => RINGLOG_E_NOT_IMPLEMENTED,
        ringlog::Error::State(_) => RINGLOG_E_STATE,
    }
}

/// Maps a logging error to a code, recording its message.
#[cold]
pub(crate) fn from_log_error(e: &ringlog::LogError) -> ringlog_result {
    set(format_args!("{e}"));
    match e {
        ringlog::LogError::Shutdown
        | ringlog::LogError::ThreadExiting
        | ringlog::LogError::NoRing => RINGLOG_E_SHUTDOWN,
        ringlog::LogError::Full => RINGLOG_E_FULL,
        ringlog::LogError::TooLarge => RINGLOG_E_TOO_LARGE,
        ringlog::LogError::Invalid(_) => RINGLOG_E_FIELD,
    }
}

/// The result code of a log call: `RINGLOG_OK`, or the error's code
/// (set as the thread's last error).
pub(crate) fn log_result(r: Result<(), ringlog::LogError>) -> ringlog_result {
    match r {
        Ok(()) => RINGLOG_OK,
        Err(e) => from_log_error(&e),
    }
}

/// The calling thread's last error message.
///
/// Returns a NUL-terminated string owned by ringlog, valid until the next
/// ringlog call on this thread; an empty string if no call has failed on
/// this thread. Never NULL. Successful calls do not clear it.
#[no_mangle]
pub extern "C" fn ringlog_last_error() -> *const c_char {
    crate::guard(c"".as_ptr(), || {
        LAST.try_with(|b| b.as_ptr() as *const c_char)
            .unwrap_or(c"".as_ptr())
    })
}
