//! The runtime's life and counters: init, flush, shutdown, stats,
//! reconfigure, recover, version.

use crate::error::*;
use crate::field::bytes;
use std::ffi::c_char;
use std::time::Duration;

/// Counters, as `ringlog_stats_get` fills them. Fields are only ever
/// appended in later versions.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ringlog_stats {
    /// Records committed to a ring.
    pub logged: u64,
    /// Records dropped because a ring was full.
    pub dropped_full: u64,
    /// Records refused as larger than half a ring.
    pub rejected_too_large: u64,
    /// Records refused because a field could not be read.
    pub rejected_invalid: u64,
    /// Records refused after shutdown.
    pub rejected_shutdown: u64,
    /// Records the flusher handed to the sinks.
    pub written: u64,
    /// Bytes the sinks accepted.
    pub bytes_written: u64,
    /// Failed sink writes or syncs.
    pub write_errors: u64,
    /// Panics caught in encoders or sinks.
    pub sink_panics: u64,
    /// Records recovered from dead instances.
    pub recovered: u64,
    /// Most bytes the flusher found waiting in one ring.
    pub ring_high_water: u64,
    /// Rings currently registered.
    pub rings_active: u64,
    /// Rings reclaimed after their thread exited.
    pub rings_reclaimed: u64,
    /// Dead instances recovered.
    pub recovered_instances: u64,
    /// Damaged frames (or runs of damaged bytes) recovery skipped.
    pub recovery_bad_frames: u64,
    /// Files recovery skipped whole (bad header, truncated, unreadable).
    pub recovery_bad_files: u64,
    /// Logger definitions the metadata file could not take (recovery
    /// would show those loggers as `?`).
    pub metadata_errors: u64,
    /// Write attempts that retried data a sink had refused before
    /// (backoff from 10 ms doubling to 1 s, per sink).
    pub write_retries: u64,
    /// Failed fsync/fdatasync calls (also in `write_errors`): data written
    /// before may be lost. Never retried, so never hidden by a later sync.
    pub sync_errors: u64,
    /// Sinks given up after an error that cannot heal (EPIPE, EBADF).
    pub sink_failures: u64,
    /// File sinks reopened after their file was renamed or deleted.
    pub reopens: u64,
    /// File sinks whose file was truncated under them (copytruncate).
    pub truncations: u64,
    /// Encoded bytes failing sinks discarded (retry buffer full, still
    /// failing at shutdown, or the sink given up).
    pub bytes_lost: u64,
    /// Records sinks discarded, counted per sink.
    pub records_lost: u64,
    /// Encoded bytes failing sinks hold for retry now (a gauge).
    pub bytes_pending: u64,
}

/// One sink's counters, as `ringlog_sink_stats_get` fills them. Fields
/// are only ever appended in later versions.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ringlog_sink_stats {
    /// Bytes the sink accepted.
    pub bytes_written: u64,
    /// Failed writes or syncs.
    pub write_errors: u64,
    /// Failed syncs (possible loss; never retried).
    pub sync_errors: u64,
    /// Panics caught in its encoder or in the sink.
    pub panics: u64,
    /// Writes tried again after a failure.
    pub write_retries: u64,
    /// Times its file was reopened after a rename or deletion.
    pub reopens: u64,
    /// Times its file was found truncated.
    pub truncations: u64,
    /// Records it discarded (retry buffer full, or given up).
    pub records_lost: u64,
    /// Bytes it discarded.
    pub bytes_lost: u64,
    /// Bytes it holds for a retry now.
    pub bytes_pending: u64,
    /// The sink has been given up (an error that cannot heal, e.g. EPIPE).
    pub failed: bool,
}

/// Fills `out` with the counters of the sink called `name` (`len` bytes,
/// as in the configuration's `sinks` object).
///
/// Errors: `RINGLOG_E_NULL`, `RINGLOG_E_STATE` (not initialised),
/// `RINGLOG_E_CONFIG` (no sink of that name).
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_sink_stats_get(
    name: *const c_char,
    len: usize,
    out: *mut ringlog_sink_stats,
) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        // SAFETY: caller contract.
        let Some(n) = (unsafe { bytes(name, len) }) else {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_sink_stats_get: name is NULL but len is {len}"),
            );
        };
        if out.is_null() {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_sink_stats_get: out is NULL"),
            );
        }
        let Some(rt) = ringlog::global::get() else {
            return fail(
                RINGLOG_E_STATE,
                format_args!("ringlog_sink_stats_get: ringlog is not initialised"),
            );
        };
        let Some(s) = rt.sink_stats().into_iter().find(|s| s.name.as_bytes() == n) else {
            return fail(
                RINGLOG_E_CONFIG,
                format_args!(
                    "ringlog_sink_stats_get: no sink named {:?}",
                    String::from_utf8_lossy(n)
                ),
            );
        };
        let v = ringlog_sink_stats {
            bytes_written: s.bytes_written,
            write_errors: s.write_errors,
            sync_errors: s.sync_errors,
            panics: s.panics,
            write_retries: s.write_retries,
            reopens: s.reopens,
            truncations: s.truncations,
            records_lost: s.records_lost,
            bytes_lost: s.bytes_lost,
            bytes_pending: s.bytes_pending,
            failed: s.failed,
        };
        // SAFETY: out is non-NULL (checked) and writable (contract).
        unsafe { *out = v };
        RINGLOG_OK
    })
}

/// Starts ringlog with a JSON configuration (`len` bytes), or, when
/// `config_json` is NULL, from `RINGLOG_CONFIG` or the defaults; the
/// `RINGLOG_LEVEL`, `RINGLOG_OUTPUT` and `RINGLOG_FORMAT` overrides
/// apply either way. Registers an `atexit` handler that shuts down.
///
/// Errors: `RINGLOG_E_CONFIG` (the message names the key),
/// `RINGLOG_E_IO`, `RINGLOG_E_STATE` (already running).
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_init(config_json: *const c_char, len: usize) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        let text = if config_json.is_null() {
            if len != 0 {
                return fail(
                    RINGLOG_E_NULL,
                    format_args!("ringlog_init: config_json is NULL but len is {len}"),
                );
            }
            None
        } else {
            // SAFETY: caller contract: valid for len bytes.
            let b = unsafe { bytes(config_json, len) }.unwrap_or(&[]);
            match std::str::from_utf8(b) {
                Ok(s) => Some(s),
                Err(e) => return fail(RINGLOG_E_CONFIG, format_args!("config: not UTF-8: {e}")),
            }
        };
        match ringlog::global::init(text) {
            Ok(_) => RINGLOG_OK,
            Err(e) => from_error(&e),
        }
    })
}

/// Waits until every record logged before this call is written (and
/// synced for sinks with a sync policy) by every working sink, at most
/// `timeout_ms`. A failing sink holds its records in memory for a retry
/// and is not waited for: check `bytes_pending` in `ringlog_stats_get`
/// (or per sink in `ringlog_sink_stats_get`); failed syncs are counted in
/// `sync_errors`.
///
/// Errors: `RINGLOG_E_TIMEOUT`, `RINGLOG_E_SHUTDOWN`, `RINGLOG_E_STATE`
/// (never initialised).
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_flush(timeout_ms: u64) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || match ringlog::global::get() {
        Some(rt) => match rt.flush(Duration::from_millis(timeout_ms)) {
            Ok(()) => RINGLOG_OK,
            Err(e) => from_error(&e),
        },
        None => fail(
            RINGLOG_E_STATE,
            format_args!("ringlog_flush: ringlog is not initialised"),
        ),
    })
}

/// Writes everything logged, stops the flusher and removes the instance
/// directory. Later `ringlog_log` calls return `RINGLOG_E_SHUTDOWN`.
/// Safe to call more than once, and before `ringlog_init`.
///
/// Errors: `RINGLOG_E_TIMEOUT` (`shutdown_timeout_ms` passed; the
/// directory is left for recovery).
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_shutdown() -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || match ringlog::global::shutdown() {
        Ok(()) => RINGLOG_OK,
        Err(e) => from_error(&e),
    })
}

/// Fills `*out` with the counters.
///
/// Errors: `RINGLOG_E_NULL`, `RINGLOG_E_STATE` (never initialised).
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_stats_get(out: *mut ringlog_stats) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        if out.is_null() {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_stats_get: out is NULL"),
            );
        }
        let Some(rt) = ringlog::global::get() else {
            return fail(
                RINGLOG_E_STATE,
                format_args!("ringlog_stats_get: ringlog is not initialised"),
            );
        };
        let s = rt.stats();
        let v = ringlog_stats {
            logged: s.logged,
            dropped_full: s.dropped_full,
            rejected_too_large: s.rejected_too_large,
            rejected_invalid: s.rejected_invalid,
            rejected_shutdown: s.rejected_shutdown,
            written: s.written,
            bytes_written: s.bytes_written,
            write_errors: s.write_errors,
            sink_panics: s.sink_panics,
            recovered: s.recovered,
            ring_high_water: s.ring_high_water,
            rings_active: s.rings_active,
            rings_reclaimed: s.rings_reclaimed,
            recovered_instances: s.recovered_instances,
            recovery_bad_frames: s.recovery_bad_frames,
            recovery_bad_files: s.recovery_bad_files,
            metadata_errors: s.metadata_errors,
            write_retries: s.write_retries,
            sync_errors: s.sync_errors,
            sink_failures: s.sink_failures,
            reopens: s.reopens,
            truncations: s.truncations,
            bytes_lost: s.bytes_lost,
            records_lost: s.records_lost,
            bytes_pending: s.bytes_pending,
        };
        // SAFETY: out is non-NULL (checked) and writable (contract).
        unsafe { *out = v };
        RINGLOG_OK
    })
}

/// Changes levels at run time from a JSON document (`len` bytes):
/// `{"level": "debug", "levels": {"db": "warn"}, "sinks": {"file": {"level": "info"}}}`.
///
/// Errors: `RINGLOG_E_NULL`, `RINGLOG_E_CONFIG` (names the key; only
/// levels can change at run time), `RINGLOG_E_STATE`.
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_reconfigure(
    config_json: *const c_char,
    len: usize,
) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        // SAFETY: caller contract.
        let Some(b) = (unsafe { bytes(config_json, len) }) else {
            return fail(
                RINGLOG_E_NULL,
                format_args!("ringlog_reconfigure: config_json is NULL"),
            );
        };
        let Ok(text) = std::str::from_utf8(b) else {
            return fail(RINGLOG_E_CONFIG, format_args!("config: not UTF-8"));
        };
        match ringlog::global::reconfigure(text) {
            Ok(()) => RINGLOG_OK,
            Err(ringlog::Error::State(_)) => fail(
                RINGLOG_E_STATE,
                format_args!("ringlog_reconfigure: ringlog is not initialised"),
            ),
            Err(e) => from_error(&e),
        }
    })
}

/// Recovers the records of dead instances under `ring_dir` (`len`
/// bytes; NULL = this runtime's own ring directory) through the
/// configured sinks, and waits for it (up to `shutdown_timeout_ms`).
/// Instances whose process is alive are never touched; each recovered
/// instance is deleted once its records are written. `ringlog_init`
/// already does this for its own ring directory unless the configuration
/// sets `"recover_on_start": false`. The counts appear in the stats.
///
/// Errors: `RINGLOG_E_NULL`, `RINGLOG_E_CONFIG` (an empty path or one
/// with a NUL byte), `RINGLOG_E_STATE` (not initialised), `RINGLOG_E_TIMEOUT` (the recovery still finishes),
/// `RINGLOG_E_SHUTDOWN`.
///
/// # Safety
/// Pointer arguments follow the conventions in `include/ringlog.h`.
#[no_mangle]
pub unsafe extern "C" fn ringlog_recover(ring_dir: *const c_char, len: usize) -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, move || {
        let dir = if ring_dir.is_null() {
            if len != 0 {
                return fail(
                    RINGLOG_E_NULL,
                    format_args!("ringlog_recover: ring_dir is NULL but len is {len}"),
                );
            }
            None
        } else {
            // SAFETY: caller contract: valid for `len` bytes.
            let b = unsafe { bytes(ring_dir, len) }.unwrap_or(&[]);
            if b.is_empty() || b.contains(&0) {
                return fail(
                    RINGLOG_E_CONFIG,
                    format_args!("ringlog_recover: ring_dir is empty or contains a NUL byte"),
                );
            }
            use std::os::unix::ffi::OsStrExt;
            Some(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b)))
        };
        match ringlog::global::recover(dir.as_deref()) {
            Ok(_) => RINGLOG_OK,
            Err(e) => from_error(&e),
        }
    })
}

/// The library version, e.g. `"0.1.0"`: a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn ringlog_version() -> *const c_char {
    crate::guard(c"".as_ptr(), || {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}
