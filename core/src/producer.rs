//! The producer side: each thread's ring and the hot path that frames a
//! record into it.
//!
//! A thread gets its ring on its first record (the only allocation a
//! thread ever makes for logging) and keeps it in a thread-local. After
//! that, logging a record is: a level check (done by the caller), the
//! clock, a size computation, a reserve against the cached consumer
//! cursor, a copy of the message and fields into the mapping, a CRC32C of
//! the body, and one Release store of the producer cursor. No lock, no
//! allocation, no system call (unless the ring is full or past its
//! high-water mark, when the flusher is woken).

use crate::context::{self, TraceContext};
use crate::error::LogError;
use crate::level::Level;
use crate::logger::LoggerInner;
use crate::record::{self, Head};
use crate::ring::{frame_header, frame_len, kind, ProducerCursor, Ring, MAX_BODY};
use crate::runtime::{Shared, RUNNING};
use crate::site::{ArgSource, SiteInner};
use crate::stats::Counters;
use crate::sync::Ordering;
use crate::value::FieldSource;
use crossbeam_utils::Backoff;
use std::cell::RefCell;
use std::sync::Arc;

/// Byte length of a drop-report body: count, first seq, last seq, time.
pub(crate) const DROPS_BODY: u64 = 32;

/// One thread's producer for one runtime.
pub(crate) struct Producer {
    rt: Arc<Shared>,
    ring: Arc<Ring>,
    cur: ProducerCursor,
    /// Next sequence number.
    seq: u64,
    committed: u64,
    dropped: u64,
    pending: u64,
    pending_first: u64,
    pending_last: u64,
}

thread_local! {
    /// This thread's producers, one per runtime it has logged to (almost
    /// always exactly one).
    static PRODUCERS: RefCell<Vec<Producer>> = const { RefCell::new(Vec::new()) };
}

/// What a record frame holds after the frame header: written by
/// [`commit_record`] into space sized for it.
pub(crate) trait Body {
    /// Writes the `len`-byte record body for `head` and returns its
    /// CRC32C.
    ///
    /// # Safety
    /// `dst` is valid for `len` bytes, the length this body was sized at.
    unsafe fn write(&self, dst: *mut u8, len: u64, head: &Head<'_>) -> u32;
}

/// A record with its own message and keyed fields.
pub(crate) struct Plain<'a, F> {
    pub msg: &'a [u8],
    pub fields: &'a [F],
}

impl<F: FieldSource> Body for Plain<'_, F> {
    #[inline(always)]
    unsafe fn write(&self, dst: *mut u8, len: u64, head: &Head<'_>) -> u32 {
        // SAFETY: forwarded: sized by `record_len` for this message and
        // these fields.
        unsafe {
            record::write_record(dst, head, self.msg, self.fields);
            crate::crc::crc32c(std::slice::from_raw_parts(dst, len as usize))
        }
    }
}

/// A call-site record: the values of a registered site.
struct SiteBody<'a, A> {
    site: &'a SiteInner,
    values: &'a [A],
}

impl<A: ArgSource> Body for SiteBody<'_, A> {
    #[inline(always)]
    unsafe fn write(&self, dst: *mut u8, len: u64, head: &Head<'_>) -> u32 {
        // SAFETY: forwarded: sized by `record_len` over `site::values_len`.
        unsafe {
            record::write_site_record(
                dst,
                len,
                head,
                self.site.word3,
                &self.site.tags,
                self.values,
            )
        }
    }
}

/// Logs a record whose level the caller has already checked.
#[inline]
pub(crate) fn log<F: FieldSource>(
    logger: &LoggerInner,
    level: Level,
    ts_ns: u64,
    ctx: Option<&TraceContext>,
    msg: &[u8],
    fields: &[F],
) -> Result<(), LogError> {
    let rt = &logger.rt;
    if !accepting(rt) {
        return Err(refuse(rt));
    }
    let flen = match record::fields_len(fields, 0) {
        Ok(n) if fields.len() <= u16::MAX as usize => n,
        Ok(_) => return Err(reject_invalid(rt, record::RecordError::TooMany)),
        Err(e) => return Err(reject_invalid(rt, e)),
    };
    if msg.len() > u32::MAX as usize {
        return Err(too_large(rt));
    }
    let ctx = ctx_or_current(ctx);
    let ctx = ctx.as_ref();
    let body = record::record_len(ctx.is_some(), msg.len(), flen) as u64;
    let head = Head {
        ts_ns,
        seq: 0,
        logger_id: logger.id,
        level: level.number(),
        ctx,
    };
    emit(rt, head, body, &Plain { msg, fields })
}

/// Logs a call-site record whose level the caller has already checked,
/// stamped `ts_ns` (0: now).
#[inline]
pub(crate) fn log_site<A: ArgSource>(
    site: &SiteInner,
    ts_ns: u64,
    ctx: Option<&TraceContext>,
    values: &[A],
) -> Result<(), LogError> {
    let rt = &site.logger.rt;
    if !accepting(rt) {
        return Err(refuse(rt));
    }
    let vlen = match crate::site::values_len(site, values) {
        Ok(n) => n,
        Err(e) => return Err(reject_invalid(rt, e)),
    };
    let ctx = ctx_or_current(ctx);
    let ctx = ctx.as_ref();
    let body = record::record_len(ctx.is_some(), 0, vlen) as u64;
    let head = Head {
        ts_ns,
        seq: 0,
        logger_id: site.logger.id,
        level: site.level.number(),
        ctx,
    };
    emit(rt, head, body, &SiteBody { site, values })
}

/// The trace context a record carries: the one given, else the thread's
/// current one.
#[inline(always)]
fn ctx_or_current(ctx: Option<&TraceContext>) -> Option<TraceContext> {
    match ctx {
        Some(c) => Some(*c),
        None => context::current(),
    }
}

/// True while the runtime takes records (not shut down, not inherited
/// through fork).
#[inline(always)]
fn accepting(rt: &Shared) -> bool {
    // Ordering: Relaxed: a record racing with shutdown is either refused
    // here or drained by the final flush (see `Runtime::shutdown`).
    rt.state.load(Ordering::Relaxed) == RUNNING && !rt.forked()
}

#[cold]
fn refuse(rt: &Shared) -> LogError {
    Counters::bump(&rt.counters.rejected_shutdown);
    LogError::Shutdown
}

#[cold]
fn too_large(rt: &Shared) -> LogError {
    Counters::bump(&rt.counters.rejected_too_large);
    LogError::TooLarge
}

/// The shared tail of a log call: the size check, the clock (when
/// `head.ts_ns` is 0), this thread's producer, and the push.
#[inline(always)]
fn emit<B: Body>(rt: &Arc<Shared>, mut head: Head<'_>, body: u64, b: &B) -> Result<(), LogError> {
    if body > MAX_BODY || frame_len(body) > rt.max_frame {
        return Err(too_large(rt));
    }
    if head.ts_ns == 0 {
        head.ts_ns = crate::clock::now_ns();
    }
    let r = PRODUCERS.try_with(|cell| {
        let Ok(mut list) = cell.try_borrow_mut() else {
            // Logging from inside a log call (a signal handler, say).
            Counters::bump(&rt.counters.rejected_shutdown);
            return Err(LogError::ThreadExiting);
        };
        let p = match list.iter().position(|p| Arc::ptr_eq(&p.rt, rt)) {
            Some(0) => &mut list[0],
            Some(i) => &mut list[i],
            None => {
                list.retain(|p| p.rt.state.load(Ordering::Relaxed) == RUNNING);
                let Some(p) = Producer::new(rt) else {
                    Counters::bump(&rt.counters.rejected_shutdown);
                    return Err(LogError::NoRing);
                };
                list.push(p);
                list.last_mut().expect("just pushed")
            }
        };
        p.push(head, body, b)
    });
    match r {
        Ok(r) => r,
        Err(_) => {
            Counters::bump(&rt.counters.rejected_shutdown);
            Err(LogError::ThreadExiting)
        }
    }
}

/// Writes a record frame into space `reserve` gave at `idx` (the frame of
/// a `body`-byte record) and commits it: body, its CRC32C, the frame
/// header, then the Release store of the cursor.
///
/// # Safety
/// `idx` must come from `ring.reserve(cur, frame_len(body))` on this
/// producer's cursor, not yet committed, and `body` must be the length
/// `b` writes for this head.
#[inline(always)]
pub(crate) unsafe fn commit_record<B: Body>(
    ring: &Ring,
    cur: &mut ProducerCursor,
    idx: u64,
    body: u64,
    head: &Head<'_>,
    b: &B,
) {
    let p = ring.ptr(idx);
    // SAFETY: per the contract, `frame_len(body)` bytes at `idx` are ours
    // until commit, and the body is exactly what `b` writes.
    let crc = unsafe { b.write(p.add(8), body, head) };
    ring.write(idx, &frame_header(kind::RECORD, body, crc));
    ring.commit(cur, frame_len(body));
}

#[cold]
fn reject_invalid(rt: &Shared, e: record::RecordError) -> LogError {
    Counters::bump(&rt.counters.rejected_invalid);
    LogError::Invalid(e)
}

impl Producer {
    #[cold]
    fn new(rt: &Arc<Shared>) -> Option<Producer> {
        let ring = rt.create_ring().ok()?;
        Some(Producer {
            rt: rt.clone(),
            ring,
            cur: ProducerCursor::default(),
            seq: 0,
            committed: 0,
            dropped: 0,
            pending: 0,
            pending_first: 0,
            pending_last: 0,
        })
    }

    #[inline]
    fn push<B: Body>(&mut self, mut head: Head<'_>, body: u64, b: &B) -> Result<(), LogError> {
        if self.pending > 0 {
            self.report_drops();
        }
        let len = frame_len(body);
        head.seq = self.seq;
        self.seq += 1;
        let idx = match self.ring.reserve(&mut self.cur, len) {
            Some(idx) => idx,
            None => match self.wait_for_space(head.level, len) {
                Some(idx) => idx,
                None => {
                    self.note_drop(head.seq);
                    return Err(LogError::Full);
                }
            },
        };
        // SAFETY: `reserve` just gave this producer `len` bytes at `idx`.
        unsafe { commit_record(&self.ring, &mut self.cur, idx, body, &head, b) };
        self.committed += 1;
        // Ordering: Relaxed: single writer; a statistic. It shares the
        // cache line of the cursor just stored.
        self.ring
            .header()
            .prod
            .committed
            .store(self.committed, Ordering::Relaxed);
        if self.ring.used_estimate(&self.cur) > self.rt.high_water {
            self.past_high_water();
        }
        // Ordering: Relaxed: a hint; see `Flusher::run` for the race this
        // leaves and how it is bounded.
        if self.rt.idle.load(Ordering::Relaxed) {
            self.rt.wake();
        }
        Ok(())
    }

    /// The cached consumer cursor says the ring is past its high-water
    /// mark: refresh it, and wake the flusher if that is really so.
    #[cold]
    fn past_high_water(&mut self) {
        // Ordering: Acquire, as in `Ring::reserve`.
        self.cur.head_cache = self.ring.header().head.load(Ordering::Acquire);
        if self.ring.used_estimate(&self.cur) > self.rt.high_water {
            self.rt.wake();
        }
    }

    /// Applies the full-ring policy: waits (bounded) for WARN and above
    /// under `default`, always under `block`, never under `drop`.
    #[cold]
    fn wait_for_space(&mut self, level: u8, len: u64) -> Option<u64> {
        use crate::config::FullPolicy;
        let block = match self.rt.policy {
            FullPolicy::Drop => false,
            FullPolicy::Block => true,
            FullPolicy::Default => level >= Level::WARN.number(),
        };
        if !block {
            self.rt.wake();
            return None;
        }
        let deadline = std::time::Instant::now() + self.rt.block_timeout;
        let backoff = Backoff::new();
        loop {
            self.rt.wake();
            if self.pending > 0 {
                self.report_drops();
            }
            if backoff.is_completed() {
                std::thread::sleep(std::time::Duration::from_micros(50));
            } else {
                backoff.snooze();
            }
            if let Some(idx) = self.ring.reserve(&mut self.cur, len) {
                return Some(idx);
            }
            if std::time::Instant::now() >= deadline
                || self.rt.state.load(Ordering::Relaxed) != RUNNING
            {
                return None;
            }
        }
    }

    #[cold]
    fn note_drop(&mut self, seq: u64) {
        let c = &self.ring.header().counters;
        if self.pending == 0 {
            self.pending_first = seq;
            // Ordering: Relaxed: read by the flusher only after `closed`
            // (Acquire) or at shutdown; single writer.
            c.pending_first.store(seq, Ordering::Relaxed);
        }
        self.pending += 1;
        self.pending_last = seq;
        self.dropped += 1;
        // Ordering: Relaxed, as above.
        c.pending_last.store(seq, Ordering::Relaxed);
        c.pending.store(self.pending, Ordering::Relaxed);
        c.dropped.store(self.dropped, Ordering::Relaxed);
    }

    /// Writes a drop report for the pending drops, if there is room.
    #[cold]
    fn report_drops(&mut self) {
        let len = frame_len(DROPS_BODY);
        let Some(idx) = self.ring.reserve(&mut self.cur, len) else {
            return;
        };
        let mut body = [0u8; DROPS_BODY as usize];
        body[0..8].copy_from_slice(&self.pending.to_ne_bytes());
        body[8..16].copy_from_slice(&self.pending_first.to_ne_bytes());
        body[16..24].copy_from_slice(&self.pending_last.to_ne_bytes());
        body[24..32].copy_from_slice(&crate::os::now_ns().to_ne_bytes());
        let crc = crate::crc::crc32c(&body);
        self.ring
            .write(idx, &frame_header(kind::DROPS, DROPS_BODY, crc));
        self.ring.write(idx + 8, &body);
        self.ring.commit(&mut self.cur, len);
        self.pending = 0;
        // Ordering: Relaxed: the drop frame itself is published by the
        // commit above; this mirror is read only at reclaim or shutdown.
        self.ring
            .header()
            .counters
            .pending
            .store(0, Ordering::Relaxed);
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        if self.rt.forked() {
            // In a fork child the ring is the parent's: leave it alone.
            return;
        }
        if self.pending > 0 {
            self.report_drops();
        }
        // Ordering: Release pairs with the Acquire load of `closed` in the
        // flusher: our last commit and counter stores are visible to it.
        self.ring
            .header()
            .counters
            .closed
            .store(1, Ordering::Release);
        self.rt.wake();
    }
}
