//! Counters: what was logged, dropped, refused, written and recovered.

use crate::sync::{AtomicU64, Ordering};

/// A snapshot of a runtime's counters.
///
/// Every record a producer hands in ends up in exactly one of `logged`,
/// `dropped_full`, `rejected_too_large`, `rejected_invalid` or
/// `rejected_shutdown`; every logged record is later counted in `written`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records committed to a ring.
    pub logged: u64,
    /// Records dropped because a ring was full.
    pub dropped_full: u64,
    /// Records refused because they were larger than half a ring.
    pub rejected_too_large: u64,
    /// Records refused because a field could not be read.
    pub rejected_invalid: u64,
    /// Records refused because the runtime was shut down (or the thread
    /// was exiting, or its ring could not be created).
    pub rejected_shutdown: u64,
    /// Records the flusher consumed and handed to the sinks.
    pub written: u64,
    /// Bytes the sinks accepted.
    pub bytes_written: u64,
    /// Failed sink writes or syncs.
    pub write_errors: u64,
    /// Panics caught in encoders or sinks.
    pub sink_panics: u64,
    /// Records recovered from dead instances.
    pub recovered: u64,
    /// Dead instances recovered.
    pub recovered_instances: u64,
    /// Damaged frames (or runs of damaged bytes) recovery skipped.
    pub recovery_bad_frames: u64,
    /// Files recovery skipped whole (bad header, truncated, unreadable).
    pub recovery_bad_files: u64,
    /// Logger definitions that could not be appended to the metadata file
    /// (recovery would show such a logger as `?`).
    pub metadata_errors: u64,
    /// Most bytes the flusher found waiting in one ring.
    pub ring_high_water: u64,
    /// Rings currently registered.
    pub rings_active: u64,
    /// Rings drained and reclaimed after their thread exited.
    pub rings_reclaimed: u64,
    /// Write attempts that retried data a sink had refused before (see
    /// "When a sink fails" in `README.md`: retries back off from 10 ms to
    /// 1 s).
    pub write_retries: u64,
    /// Failed syncs (fsync/fdatasync), also counted in `write_errors`:
    /// what was written before may not be on disk. A failed sync is never
    /// retried, so a later successful one does not hide it.
    pub sync_errors: u64,
    /// Sinks given up after an error that cannot heal (`EPIPE`: nobody
    /// reads the pipe any more; `EBADF`); nothing more is written to them.
    pub sink_failures: u64,
    /// File sinks reopened because their file was renamed or deleted
    /// (logrotate's `create` mode).
    pub reopens: u64,
    /// File sinks whose file shrank under them (logrotate's
    /// `copytruncate`); writing goes on at the new end.
    pub truncations: u64,
    /// Encoded bytes a failing sink discarded: beyond its retry buffer, at
    /// shutdown while it still failed, or when it was given up.
    pub bytes_lost: u64,
    /// Records a sink discarded (as `bytes_lost`, plus the records never
    /// encoded for a sink given up). Counted per sink: a record two sinks
    /// lost counts twice.
    pub records_lost: u64,
    /// Encoded bytes failing sinks hold for retry right now (a gauge).
    pub bytes_pending: u64,
}

impl Stats {
    /// Every counter with its field name, in declaration order: what the
    /// language bindings turn into a dict or an object.
    pub fn pairs(&self) -> [(&'static str, u64); 25] {
        macro_rules! pairs {
            ($($f:ident),* $(,)?) => { [$((stringify!($f), self.$f)),*] };
        }
        pairs!(
            logged,
            dropped_full,
            rejected_too_large,
            rejected_invalid,
            rejected_shutdown,
            written,
            bytes_written,
            write_errors,
            sink_panics,
            recovered,
            recovered_instances,
            recovery_bad_frames,
            recovery_bad_files,
            metadata_errors,
            ring_high_water,
            rings_active,
            rings_reclaimed,
            write_retries,
            sync_errors,
            sink_failures,
            reopens,
            truncations,
            bytes_lost,
            records_lost,
            bytes_pending,
        )
    }
}

/// Runtime-wide counters that are not per ring.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub rejected_too_large: AtomicU64,
    pub rejected_invalid: AtomicU64,
    pub rejected_shutdown: AtomicU64,
    pub written: AtomicU64,
    pub bytes_written: AtomicU64,
    pub write_errors: AtomicU64,
    pub sink_panics: AtomicU64,
    pub recovered: AtomicU64,
    pub recovered_instances: AtomicU64,
    pub recovery_bad_frames: AtomicU64,
    pub recovery_bad_files: AtomicU64,
    pub ring_high_water: AtomicU64,
    pub rings_reclaimed: AtomicU64,
    /// `committed` of reclaimed rings.
    pub retired_logged: AtomicU64,
    /// `dropped` of reclaimed rings.
    pub retired_dropped: AtomicU64,
    pub write_retries: AtomicU64,
    pub sync_errors: AtomicU64,
    pub sink_failures: AtomicU64,
    pub reopens: AtomicU64,
    pub truncations: AtomicU64,
    pub bytes_lost: AtomicU64,
    pub records_lost: AtomicU64,
    /// A gauge: the flusher adds and subtracts as retry buffers change.
    pub bytes_pending: AtomicU64,
}

impl Counters {
    /// Adds one; Relaxed: a statistic, read only for reporting.
    #[inline]
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
    /// Adds `n`; Relaxed: a statistic.
    #[inline]
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
    /// Subtracts `n`; Relaxed: a statistic (a gauge only its one writer,
    /// the flusher, moves).
    #[inline]
    pub fn sub(c: &AtomicU64, n: u64) {
        c.fetch_sub(n, Ordering::Relaxed);
    }
    /// Reads; Relaxed: a statistic.
    #[inline]
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// One sink's counters: its share of the runtime-wide ones.
#[derive(Debug, Default)]
pub(crate) struct SinkCounters {
    /// The sink's name.
    pub name: String,
    /// Counters the flusher keeps for this sink (the fields that concern
    /// sinks; the others stay 0).
    pub c: Counters,
    /// Set when the sink has been given up.
    pub failed: crate::sync::AtomicBool,
}

/// A snapshot of one sink's counters (see [`crate::Runtime::sink_stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkStats {
    /// The sink's name in the configuration.
    pub name: String,
    /// Bytes it accepted.
    pub bytes_written: u64,
    /// Failed writes or syncs.
    pub write_errors: u64,
    /// Failed syncs (possible loss, never retried).
    pub sync_errors: u64,
    /// Panics caught in its encoder or in the sink.
    pub panics: u64,
    /// Writes tried again after a failure.
    pub write_retries: u64,
    /// Times its file was reopened after a rename or deletion.
    pub reopens: u64,
    /// Times its file was found truncated.
    pub truncations: u64,
    /// Records and bytes it discarded (retry buffer full, or given up).
    pub records_lost: u64,
    /// Bytes it discarded.
    pub bytes_lost: u64,
    /// Bytes it holds for a retry now.
    pub bytes_pending: u64,
    /// It has been given up (an error that cannot heal, such as EPIPE).
    pub failed: bool,
}

impl SinkCounters {
    pub(crate) fn snapshot(&self) -> SinkStats {
        let c = &self.c;
        SinkStats {
            name: self.name.clone(),
            bytes_written: Counters::get(&c.bytes_written),
            write_errors: Counters::get(&c.write_errors),
            sync_errors: Counters::get(&c.sync_errors),
            panics: Counters::get(&c.sink_panics),
            write_retries: Counters::get(&c.write_retries),
            reopens: Counters::get(&c.reopens),
            truncations: Counters::get(&c.truncations),
            records_lost: Counters::get(&c.records_lost),
            bytes_lost: Counters::get(&c.bytes_lost),
            bytes_pending: Counters::get(&c.bytes_pending),
            // Ordering: Relaxed: a statistic.
            failed: self.failed.load(crate::sync::Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod pairs_tests {
    #[test]
    fn pairs_name_every_counter_once() {
        let s = super::Stats {
            logged: 1,
            bytes_pending: 25,
            ..Default::default()
        };
        let p = s.pairs();
        // Every field is a u64: as many pairs as the struct has words.
        assert_eq!(p.len() * 8, std::mem::size_of::<super::Stats>());
        let names: std::collections::HashSet<_> = p.iter().map(|x| x.0).collect();
        assert_eq!(names.len(), p.len());
        assert_eq!((p[0], p[24]), (("logged", 1), ("bytes_pending", 25)));
    }
}
