//! The flusher: one thread per runtime that drains every ring, merges the
//! batch by timestamp, encodes it for each sink, writes and syncs, and only
//! then returns the ring space to the producers.
//!
//! It sleeps in `park_timeout` when there is nothing to do, so an idle
//! runtime costs one short wake-up per `flush_interval_ms`. Producers wake
//! it early when a ring passes its high-water mark, and `flush` wakes it
//! with a ticket that the flusher completes after the cycle that saw it.
//!
//! Writing before releasing means a record is always somewhere: in the
//! ring (recoverable after a crash) or in the sink.

use crate::config::SyncPolicy;
use crate::encode::{Encoder, RecordMeta};
use crate::level::Level;
use crate::producer::DROPS_BODY;
use crate::record::{self, RecordView};
use crate::recover::{Report, Visit};
use crate::registry::{LoggerDef, INTERNAL_LOGGER};
use crate::ring::{frame_len, kind, Ring, FRAME_HEADER};
use crate::runtime::{lock, Shared};
use crate::sink::{signals, Rotation, Sink};
use crate::stats::{Counters, SinkCounters};
use crate::sync::{AtomicU8, Ordering};
use crate::value::Field;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the flusher refreshes the producers' clock calibration (the
/// first refresh after start gives the counter's rate).
const CALIBRATE_EVERY: Duration = Duration::from_millis(200);

/// How long the flusher finds nothing before it sleeps the idle interval.
const IDLE_AFTER: Duration = Duration::from_millis(100);

/// Encoded bytes a sink may buffer before it writes mid-batch.
const SINK_BUF_LIMIT: usize = 1 << 20;

/// The wait before the first retry of a failed sink write. It doubles
/// with every failure, up to [`RETRY_MAX`], and starts again here once
/// the sink has written everything it held.
const RETRY_FIRST: Duration = Duration::from_millis(10);

/// The longest wait between two retries of a failing sink.
const RETRY_MAX: Duration = Duration::from_secs(1);

/// The message of the WARN record a sink writes first when it works again
/// after discarding records.
const LOSS_NOTE: &[u8] = b"sink write failed: records lost";

/// One sink with its encoder, buffer, sync state and fault state.
///
/// Fault state: after a failed write the sink holds what was not written
/// (`held`, at most `retry_cap` bytes) and is tried again at `retry_at`;
/// meanwhile its new batches join `held` or, once they do not fit, are
/// discarded and counted in `gap_*`, which a WARN record reports when
/// the sink works again. A sink that hits an error that cannot heal is
/// `failed`: it gets nothing more.
pub(crate) struct SinkSlot {
    name: String,
    level: Arc<AtomicU8>,
    enc: Box<dyn Encoder>,
    sink: Box<dyn Sink>,
    buf: Vec<u8>,
    sync: SyncPolicy,
    sync_interval: Duration,
    last_sync: Instant,
    unsynced: bool,
    /// Encoded bytes a failed write left unwritten, oldest first; they
    /// start at a record boundary or in the middle of the record whose
    /// first part was written.
    held: Vec<u8>,
    /// Bytes at the front of `held` that belong to a loss note rather than
    /// to records (so discarding them does not count a record).
    held_note: usize,
    /// `held` starts with the rest of a record whose beginning was
    /// written: it must go out before anything else, whatever the cap.
    held_mid: bool,
    /// `held.len()` as last added to the `bytes_pending` gauge.
    held_reported: usize,
    /// Most bytes `held` may keep.
    retry_cap: usize,
    /// Set while the sink is failing: when to try again.
    retry_at: Option<Instant>,
    /// The wait after the next failure.
    backoff: Duration,
    /// Records and bytes discarded since the last loss note.
    gap_records: u64,
    gap_bytes: u64,
    /// Given up: an error that cannot heal (a pipe nobody reads).
    failed: bool,
    /// This sink's own share of the counters (see `Runtime::sink_stats`).
    counters: Arc<SinkCounters>,
}

impl SinkSlot {
    pub(crate) fn new(
        name: String,
        level: Arc<AtomicU8>,
        enc: Box<dyn Encoder>,
        sink: Box<dyn Sink>,
        sync: SyncPolicy,
        sync_interval_ms: u64,
    ) -> Self {
        let name_for_counters = name.clone();
        SinkSlot {
            name,
            level,
            enc,
            sink,
            buf: Vec::with_capacity(64 * 1024),
            sync,
            sync_interval: Duration::from_millis(sync_interval_ms),
            last_sync: Instant::now(),
            unsynced: false,
            held: Vec::new(),
            held_note: 0,
            held_mid: false,
            held_reported: 0,
            retry_cap: 8 << 20,
            retry_at: None,
            backoff: RETRY_FIRST,
            gap_records: 0,
            gap_bytes: 0,
            failed: false,
            counters: Arc::new(SinkCounters {
                name: name_for_counters,
                ..SinkCounters::default()
            }),
        }
    }

    /// This sink's counters, for the runtime's `sink_stats`.
    pub(crate) fn counters(&self) -> Arc<SinkCounters> {
        self.counters.clone()
    }

    /// Sets how many bytes the sink holds for retry while it fails
    /// (`retry_buffer_bytes`).
    pub(crate) fn retry_buffer(mut self, bytes: u64) -> Self {
        self.retry_cap = usize::try_from(bytes).unwrap_or(usize::MAX);
        self
    }

    /// True when a failing sink's next retry is due at `now`.
    fn retry_due(&self, now: Instant) -> bool {
        self.retry_at.is_some_and(|t| now >= t)
    }
}

impl std::fmt::Debug for SinkSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkSlot")
            .field("name", &self.name)
            .finish()
    }
}

/// The flusher's view of one ring.
struct RingSlot {
    ring: Arc<Ring>,
    /// Drops reported so far (in-band or synthesized).
    reported: u64,
    /// Last sequence number covered by a report synthesized from the ring
    /// header, so a drop frame the producer writes later for the same
    /// drops is not reported twice.
    synthesized_upto: Option<u64>,
    /// Where this cycle's reading stopped.
    new_head: u64,
    /// The producer thread has exited.
    closed: bool,
}

/// Where an entry's record body is.
#[derive(Clone, Copy)]
enum Src {
    /// In ring `slot` at buffer index `idx`.
    Ring { idx: u64, len: u32 },
    /// In the flusher's scratch buffer (synthetic drop reports).
    Synth { off: u32, len: u32 },
}

#[derive(Clone, Copy)]
struct Entry {
    ts: u64,
    slot: u32,
    src: Src,
}

/// The flusher thread's state.
pub(crate) struct Flusher {
    sh: Arc<Shared>,
    sinks: Vec<SinkSlot>,
    rings: Vec<RingSlot>,
    rings_gen: u64,
    defs: HashMap<u64, Arc<LoggerDef>>,
    /// The definition used by the previous record (runs of one logger are
    /// common, so most records skip the map).
    last_def: Option<(u64, Arc<LoggerDef>)>,
    unknown: Arc<LoggerDef>,
    entries: Vec<Entry>,
    order: Vec<u32>,
    synth: Vec<u8>,
    done: u64,
}

impl Flusher {
    pub(crate) fn new(sh: Arc<Shared>, sinks: Vec<SinkSlot>) -> Self {
        Flusher {
            sh,
            sinks,
            rings: Vec::new(),
            rings_gen: u64::MAX,
            defs: HashMap::new(),
            last_def: None,
            unknown: Arc::new(LoggerDef::root(b"?")),
            entries: Vec::new(),
            order: Vec::new(),
            synth: Vec::new(),
            done: 0,
        }
    }

    /// The thread body. A panic in the flusher's own code (encoders and
    /// sinks have their own guard) stops the runtime: producers are refused
    /// and counted, and flush waiters get an error instead of waiting out
    /// their timeout.
    pub(crate) fn run(mut self) {
        let sh = self.sh.clone();
        if catch_unwind(AssertUnwindSafe(|| self.run_loop())).is_err() {
            Counters::bump(&sh.counters.sink_panics);
            sh.state.store(crate::runtime::CLOSED, Ordering::SeqCst);
        }
        let _g = lock(&sh.flush_done);
        // Ordering: Release pairs with the Acquire loads in `flush` and
        // `shutdown`: everything written is done before they see it.
        sh.exited.store(true, Ordering::Release);
        sh.flush_cv.notify_all();
    }

    fn run_loop(&mut self) {
        let mut idle_since: Option<Instant> = None;
        let mut calibrated = Instant::now();
        crate::clock::calibrate();
        if self.sh.recover_on_start {
            // Before the first cycle, so recovered records come out ahead
            // of this process's own.
            let dir = self.sh.ring_dir().to_path_buf();
            self.recover(&dir);
        }
        loop {
            if calibrated.elapsed() >= CALIBRATE_EVERY {
                crate::clock::calibrate();
                calibrated = Instant::now();
            }
            let n = self.cycle(false);
            // Ordering: Acquire pairs with the SeqCst store in `shutdown`.
            if self.sh.stop.load(Ordering::Acquire) {
                while self.cycle(true) > 0 {}
                self.retry_held_at_exit();
                self.sync_all(true);
                // The last, empty cycle completed every ticket taken before
                // it began; later ones get `Error::Shutdown` from `flush`.
                break;
            }
            if n > 0 {
                idle_since = None;
                continue;
            }
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() < IDLE_AFTER {
                std::thread::park_timeout(self.until_retry(self.sh.interval));
                continue;
            }
            // Long sleep: announce it, then look once more, so a record
            // committed before a producer could see the flag is not left
            // waiting for the whole idle interval.
            // Ordering: SeqCst store then SeqCst fence, before the tail
            // loads of `has_work`; producers load the flag (Relaxed) after
            // their Release commit. A producer that misses the flag is
            // found by this look or, at worst, by the next idle wake-up.
            self.sh.idle.store(true, Ordering::SeqCst);
            std::sync::atomic::fence(Ordering::SeqCst);
            if !self.has_work() {
                std::thread::park_timeout(self.until_retry(self.sh.idle_interval));
            }
            self.sh.idle.store(false, Ordering::Relaxed);
        }
    }

    /// `wait`, or less when a failing sink's retry is due sooner.
    fn until_retry(&self, wait: Duration) -> Duration {
        let now = Instant::now();
        self.sinks
            .iter()
            .filter_map(|s| s.retry_at)
            .map(|t| t.saturating_duration_since(now))
            .min()
            .map_or(wait, |r| r.max(Duration::from_millis(1)).min(wait))
    }

    /// At shutdown: one last try for every sink still holding bytes from
    /// failed writes, whatever its backoff; what it still cannot write is
    /// discarded and counted.
    fn retry_held_at_exit(&mut self) {
        let now = Instant::now();
        for s in &mut self.sinks {
            if s.retry_at.is_some() {
                s.retry_at = Some(now);
                write_sink(&self.sh, s);
                give_up_held(&self.sh, s);
            }
        }
    }

    /// True when any ring holds committed frames or any request waits.
    fn has_work(&mut self) -> bool {
        self.refresh_rings();
        // Ordering: Acquire, as in `cycle`.
        self.sh.flush_req.load(Ordering::Acquire) > self.done
            || self.sh.stop.load(Ordering::Acquire)
            || self.rings.iter().any(|s| {
                let (h, t) = s.ring.readable();
                h != t || s.ring.header().counters.closed.load(Ordering::Acquire) == 1
            })
    }

    fn refresh_rings(&mut self) {
        // Ordering: Acquire pairs with the Release bump in `create_ring`.
        let gen = self.sh.rings_gen.load(Ordering::Acquire);
        if gen == self.rings_gen {
            return;
        }
        self.rings_gen = gen;
        let all = lock(&self.sh.rings);
        for r in all.iter() {
            if !self.rings.iter().any(|s| Arc::ptr_eq(&s.ring, r)) {
                self.rings.push(RingSlot {
                    ring: r.clone(),
                    reported: 0,
                    synthesized_upto: None,
                    new_head: 0,
                    closed: false,
                });
            }
        }
    }

    /// One pass: collect, merge, encode, write, release. Returns the number
    /// of records (real and synthetic) handled. With `final_pass`, drops
    /// not yet reported by still-running producers are reported too.
    fn cycle(&mut self, final_pass: bool) -> usize {
        // Ordering: Relaxed: a wake that races with this store costs at
        // most one interval of latency (the unpark token still ends the
        // next park at once).
        self.sh.wake_pending.store(false, Ordering::Relaxed);
        // Ordering: Acquire pairs with the AcqRel increment in `flush`.
        let epoch = self.sh.flush_req.load(Ordering::Acquire);
        let retired = self.sh.registry.take_retired();
        let reqs = std::mem::take(&mut *lock(&self.sh.recover_reqs));
        for (id, dir) in reqs {
            let rep = self.recover(&dir);
            lock(&self.sh.recover_done).insert(id, rep);
        }
        self.refresh_rings();
        self.collect(final_pass);
        let n = self.entries.len();
        if n > 0 {
            self.merge();
            self.encode_all();
        }
        self.write_all();
        let mut records = 0u64;
        for s in &mut self.rings {
            let (head, _) = s.ring.readable();
            if s.new_head != head {
                s.ring.release(s.new_head);
            }
        }
        for e in &self.entries {
            if matches!(e.src, Src::Ring { .. }) {
                records += 1;
            }
        }
        Counters::add(&self.sh.counters.written, records);
        if epoch > self.done {
            self.sync_all(false);
            self.done = epoch;
            let mut g = lock(&self.sh.flush_done);
            *g = epoch;
            self.sh.flush_cv.notify_all();
        } else {
            self.sync_due();
        }
        self.reclaim();
        if !retired.is_empty() {
            self.last_def = None;
            for id in &retired {
                self.defs.remove(id);
                for s in &mut self.sinks {
                    s.enc.forget_logger(*id);
                }
            }
            self.sh.registry.remove(&retired);
        }
        n
    }

    fn collect(&mut self, final_pass: bool) {
        self.entries.clear();
        self.synth.clear();
        let hw = &self.sh.counters.ring_high_water;
        for (si, s) in self.rings.iter_mut().enumerate() {
            let c = &s.ring.header().counters;
            // Ordering: Acquire pairs with the Release store in
            // `Producer::drop`; loaded before `tail` so the tail we read
            // includes the producer's last commit.
            s.closed = c.closed.load(Ordering::Acquire) == 1;
            let (head, tail) = s.ring.readable();
            hw.fetch_max(tail - head, Ordering::Relaxed);
            let mut pos = head;
            let mask = s.ring.capacity() - 1;
            while pos < tail {
                let (k, body, _crc) = s.ring.frame_at(pos);
                if !s.ring.frame_fits(pos, body, tail) {
                    // Cannot happen with our own producer; never loop on it.
                    pos = tail;
                    break;
                }
                let idx = (pos + FRAME_HEADER) & mask;
                match k {
                    kind::RECORD if body >= 8 => {
                        let mut ts = [0u8; 8];
                        s.ring.read(idx, &mut ts);
                        self.entries.push(Entry {
                            ts: u64::from_ne_bytes(ts),
                            slot: si as u32,
                            src: Src::Ring {
                                idx,
                                len: body as u32,
                            },
                        });
                    }
                    kind::DROPS if body == DROPS_BODY => {
                        let mut b = [0u8; DROPS_BODY as usize];
                        s.ring.read(idx, &mut b);
                        let w = |i: usize| {
                            u64::from_ne_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]))
                        };
                        // A report synthesized from the header (at a
                        // final pass) may already cover these drops.
                        if s.synthesized_upto.is_some_and(|last| w(2) <= last) {
                            pos += frame_len(body);
                            continue;
                        }
                        s.reported += w(0);
                        push_drop_report(
                            &mut self.synth,
                            &mut self.entries,
                            si as u32,
                            w(0),
                            w(1),
                            w(2),
                            w(3),
                        );
                    }
                    _ => {}
                }
                pos += frame_len(body);
            }
            s.new_head = pos;
            if s.closed || final_pass {
                // Ordering: Relaxed: ordered by the `closed` Acquire above
                // for exited producers; at the final pass a live producer
                // may still race, and its later drops are then reported by
                // the next pass.
                let dropped = c.dropped.load(Ordering::Relaxed);
                if dropped > s.reported {
                    let first = c.pending_first.load(Ordering::Relaxed);
                    let last = c.pending_last.load(Ordering::Relaxed);
                    let n = dropped - s.reported;
                    s.reported = dropped;
                    s.synthesized_upto = Some(last);
                    push_drop_report(
                        &mut self.synth,
                        &mut self.entries,
                        si as u32,
                        n,
                        first,
                        last,
                        crate::os::now_ns(),
                    );
                }
            }
        }
    }

    /// Orders `entries` by timestamp across rings, keeping each ring's own
    /// order (its sequence order) even if its clock stepped back.
    fn merge(&mut self) {
        self.order.clear();
        let n = self.entries.len();
        let multi = self.entries.windows(2).any(|w| w[0].slot != w[1].slot);
        if !multi {
            self.order.extend(0..n as u32);
            return;
        }
        // Runs: entries are contiguous per ring, in ring order.
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut start = 0;
        for i in 1..=n {
            if i == n || self.entries[i].slot != self.entries[start].slot {
                runs.push((start, i));
                start = i;
            }
        }
        let mut heap = BinaryHeap::with_capacity(runs.len());
        for (ri, &(s, _)) in runs.iter().enumerate() {
            heap.push(Reverse((self.entries[s].ts, ri, s)));
        }
        while let Some(Reverse((_, ri, i))) = heap.pop() {
            self.order.push(i as u32);
            if i + 1 < runs[ri].1 {
                heap.push(Reverse((self.entries[i + 1].ts, ri, i + 1)));
            }
        }
    }

    fn encode_all(&mut self) {
        for k in 0..self.order.len() {
            let e = self.entries[self.order[k] as usize];
            let slot = &self.rings[e.slot as usize];
            let ring = slot.ring.clone();
            let body: &[u8] = match e.src {
                Src::Ring { idx, len } => ring.slice(idx, len as u64),
                Src::Synth { off, len } => &self.synth[off as usize..(off + len) as usize],
            };
            // Our own producers wrote these frames (and the synthetic ones):
            // skip the full field walk that recovery needs.
            let Ok(rec) = RecordView::decode_trusted(body) else {
                continue;
            };
            let def = match &self.last_def {
                Some((id, d)) if *id == rec.logger_id => d.clone(),
                _ => {
                    let d = lookup_def(&mut self.defs, &self.sh, &self.unknown, rec.logger_id);
                    self.last_def = Some((rec.logger_id, d.clone()));
                    d
                }
            };
            let rec = match &def.site {
                Some(site) => rec.with_site(&site.msg, &site.keys),
                None => rec,
            };
            let meta = RecordMeta {
                logger: &def.name,
                logger_id: rec.logger_id,
                bound: def.bound_fields(),
                thread_id: ring.thread_id,
                ring_id: ring.id,
                recovered: false,
            };
            for s in &mut self.sinks {
                // Ordering: Relaxed: a level change may apply a batch late.
                if rec.level.number() < s.level.load(Ordering::Relaxed) {
                    continue;
                }
                encode_into(&self.sh, s, &rec, &meta);
                if s.buf.len() >= SINK_BUF_LIMIT {
                    write_sink(&self.sh, s);
                }
            }
        }
    }

    fn write_all(&mut self) {
        let now = Instant::now();
        for s in &mut self.sinks {
            // A failing sink is written to when its retry is due, even
            // with no new records.
            if !s.buf.is_empty() || s.retry_due(now) {
                write_sink(&self.sh, s);
            }
            if s.buf.capacity() > 8 * SINK_BUF_LIMIT {
                s.buf.shrink_to(SINK_BUF_LIMIT);
            }
        }
    }

    /// Recovers the dead instances under `ring_dir` through the sinks.
    fn recover(&mut self, ring_dir: &std::path::Path) -> Report {
        let opts = crate::recover::Options {
            ring_dir: ring_dir.to_path_buf(),
            keep: false,
            skip: Some(self.sh.instance_dir.clone()),
        };
        let mut v = SinkVisit {
            sh: &self.sh,
            sinks: &mut self.sinks,
        };
        let rep = crate::recover::recover_dir(&opts, &mut v);
        let c = &self.sh.counters;
        Counters::add(&c.recovered, rep.records);
        Counters::add(&c.recovered_instances, rep.instances);
        Counters::add(&c.recovery_bad_frames, rep.bad_frames);
        Counters::add(&c.recovery_bad_files, rep.bad_files);
        rep
    }

    /// Syncs sinks whose interval has passed.
    fn sync_due(&mut self) {
        for s in &mut self.sinks {
            if s.unsynced
                && s.sync == SyncPolicy::Interval
                && s.last_sync.elapsed() >= s.sync_interval
            {
                sync_sink(&self.sh, s);
            }
        }
    }

    /// Syncs every sink with a sync policy (or every sink, at shutdown).
    fn sync_all(&mut self, all: bool) {
        for s in &mut self.sinks {
            if s.unsynced && (all || s.sync != SyncPolicy::None) {
                sync_sink(&self.sh, s);
            }
        }
    }

    /// Drops rings whose producer exited and that are now empty.
    fn reclaim(&mut self) {
        let before = self.rings.len();
        let mut gone = Vec::new();
        self.rings.retain(|s| {
            let (h, t) = s.ring.readable();
            if s.closed && h == t {
                gone.push(s.ring.clone());
                false
            } else {
                true
            }
        });
        if self.rings.len() == before {
            return;
        }
        let c = &self.sh.counters;
        let mut all = lock(&self.sh.rings);
        for r in gone {
            all.retain(|x| !Arc::ptr_eq(x, &r));
            let rc = &r.header().counters;
            Counters::add(
                &c.retired_logged,
                r.header().prod.committed.load(Ordering::Relaxed),
            );
            Counters::add(&c.retired_dropped, rc.dropped.load(Ordering::Relaxed));
            Counters::bump(&c.rings_reclaimed);
            let _ = std::fs::remove_file(crate::instance::ring_path(&self.sh.instance_dir, r.id));
        }
    }
}

/// The definition of logger `id`, from the flusher's cache or the registry.
fn lookup_def(
    defs: &mut HashMap<u64, Arc<LoggerDef>>,
    sh: &Shared,
    unknown: &Arc<LoggerDef>,
    id: u64,
) -> Arc<LoggerDef> {
    if let Some(d) = defs.get(&id) {
        return d.clone();
    }
    match sh.registry.get(id) {
        Some(d) => {
            defs.insert(id, d.clone());
            d
        }
        None => unknown.clone(),
    }
}

/// Adds `n` to counter `f` of the runtime and of sink `s`.
fn count(sh: &Shared, s: &SinkSlot, f: impl Fn(&Counters) -> &crate::sync::AtomicU64, n: u64) {
    Counters::add(f(&sh.counters), n);
    Counters::add(f(&s.counters.c), n);
}

/// Writes a sink's buffer, after whatever it holds from failed writes.
/// True when everything is written: nothing held, the sink not given up.
///
/// A failing sink is tried again only when its backoff has passed
/// (10 ms, doubling to 1 s); until then a new batch joins the held bytes
/// if it fits in the retry buffer, and is discarded (and counted) if it
/// does not, and so is every batch after it until the sink writes again.
/// So a sink's output is what it held, then a WARN record saying how many
/// records were lost (if any were), then what came after.
fn write_sink(sh: &Shared, s: &mut SinkSlot) -> bool {
    let ok = write_sink_inner(sh, s);
    report_held(sh, s);
    ok
}

/// Moves the `bytes_pending` gauge by how much `held` changed.
fn report_held(sh: &Shared, s: &mut SinkSlot) {
    let now = s.held.len();
    let up = (now as u64).saturating_sub(s.held_reported as u64);
    let down = (s.held_reported as u64).saturating_sub(now as u64);
    for c in [&sh.counters, &s.counters.c] {
        Counters::add(&c.bytes_pending, up);
        Counters::sub(&c.bytes_pending, down);
    }
    s.held_reported = now;
}

fn write_sink_inner(sh: &Shared, s: &mut SinkSlot) -> bool {
    // The flusher is the only thread that writes to sinks: a write to a
    // pipe nobody reads must fail with EPIPE there, not kill the host.
    signals::block_in_this_thread();
    if s.failed {
        let lost = std::mem::take(&mut s.buf);
        discard(sh, s, &lost, 0);
        s.buf = lost;
        s.buf.clear();
        return false;
    }
    let mut note_len = 0;
    let mut gap = (0, 0);
    if s.retry_at.is_some() {
        if !s.retry_due(Instant::now()) {
            hold(sh, s);
            return false;
        }
        count(sh, s, |c| &c.write_retries, 1);
        if !s.held.is_empty() {
            let held = std::mem::take(&mut s.held);
            let held_note = std::mem::take(&mut s.held_note);
            let mid = std::mem::take(&mut s.held_mid);
            if let Err((n, heals)) = attempt(sh, s, &held) {
                after_failure(sh, s, &held, n, held_note, mid, heals);
                hold(sh, s);
                return false;
            }
        }
        // Everything held is out: say what was lost before what follows.
        gap = (s.gap_records, s.gap_bytes);
        if s.gap_records > 0 {
            let mut v = Vec::with_capacity(256 + s.buf.len());
            // Ordering: Relaxed: a level read.
            if Level::WARN.number() >= s.level.load(Ordering::Relaxed) {
                loss_note(sh, s, &mut v);
            }
            note_len = v.len();
            v.extend_from_slice(&s.buf);
            s.buf = v;
            s.gap_records = 0;
            s.gap_bytes = 0;
        }
    }
    let data = std::mem::take(&mut s.buf);
    let r = attempt(sh, s, &data);
    if let Err((n, heals)) = r {
        after_failure(sh, s, &data, n, note_len, false, heals);
        if note_len > n && s.held_note == 0 {
            // The loss note did not go out and is not held either: the
            // losses it reported are still to be reported.
            s.gap_records += gap.0;
            s.gap_bytes += gap.1;
        }
    }
    s.buf = data;
    s.buf.clear();
    if r.is_err() {
        return false;
    }
    // Everything written: the sink works again.
    s.retry_at = None;
    s.backoff = RETRY_FIRST;
    if s.held.capacity() > SINK_BUF_LIMIT {
        s.held = Vec::new();
    }
    s.sync != SyncPolicy::Batch || !s.unsynced || sync_sink(sh, s)
}

/// One write of `data` (after following a rotation of the destination):
/// `Err((bytes written, whether the error can heal))` when not all of it
/// went out. Counts what was written and the error.
fn attempt(sh: &Shared, s: &mut SinkSlot, data: &[u8]) -> Result<(), (usize, bool)> {
    if data.is_empty() {
        return Ok(());
    }
    match catch_unwind(AssertUnwindSafe(|| s.sink.follow_rotation())) {
        Ok(Ok(Rotation::Unchanged)) => {}
        Ok(Ok(Rotation::Reopened)) => count(sh, s, |c| &c.reopens, 1),
        Ok(Ok(Rotation::Truncated)) => count(sh, s, |c| &c.truncations, 1),
        // The path could not be opened again: go on where we wrote.
        Ok(Err(_)) => count(sh, s, |c| &c.write_errors, 1),
        Err(_) => count(sh, s, |c| &c.sink_panics, 1),
    }
    let (n, r) = match catch_unwind(AssertUnwindSafe(|| s.sink.write_partial(data))) {
        Ok((n, r)) => (n.min(data.len()), r.map_err(Some)),
        // A panicking sink is treated as failing: retried with backoff.
        Err(_) => {
            count(sh, s, |c| &c.sink_panics, 1);
            (0, Err(None))
        }
    };
    if n > 0 {
        count(sh, s, |c| &c.bytes_written, n as u64);
        s.unsynced = true;
    }
    match r {
        Ok(()) => Ok(()),
        Err(e) => {
            let mut heals = true;
            if let Some(e) = e {
                count(sh, s, |c| &c.write_errors, 1);
                signals::consume_after(&e);
                heals = !cannot_heal(&e);
            }
            Err((n, heals))
        }
    }
}

/// Errors after which a sink is given up: nobody reads the pipe or socket
/// any more, or the descriptor is gone.
fn cannot_heal(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EPIPE | libc::EBADF | libc::ECONNRESET)
    )
}

/// After a failed write of `data` (whose first `note` bytes are a loss
/// note, and which starts with the rest of a cut record when `mid`) of
/// which only `written` bytes went out: give the sink up, or hold what
/// fits in its retry buffer and schedule a retry.
#[allow(clippy::too_many_arguments)]
fn after_failure(
    sh: &Shared,
    s: &mut SinkSlot,
    data: &[u8],
    written: usize,
    note: usize,
    mid: bool,
    heals: bool,
) {
    debug_assert!(s.held.is_empty());
    let rest = &data[written..];
    let note = note.saturating_sub(written);
    if !heals {
        s.failed = true;
        // Ordering: Relaxed: a statistic.
        s.counters.failed.store(true, Ordering::Relaxed);
        count(sh, s, |c| &c.sink_failures, 1);
        discard(sh, s, rest, note);
        s.retry_at = None;
        return;
    }
    // Keep whole records up to the cap; always keep the rest of a record
    // whose beginning was written, so the output never has a cut line.
    let cut = if written > 0 {
        data[written - 1] != b'\n'
    } else {
        mid
    };
    let mut keep = 0;
    let mut at = 0;
    while let Some(i) = rest[at..].iter().position(|&b| b == b'\n') {
        let end = at + i + 1;
        if end > s.retry_cap && !(at == 0 && cut) {
            break;
        }
        keep = end;
        at = end;
    }
    let note_kept = if keep > 0 { note } else { 0 };
    discard(sh, s, &rest[keep..], note - note_kept);
    s.held.extend_from_slice(&rest[..keep]);
    s.held_note = note_kept;
    s.held_mid = cut && keep > 0;
    let now = Instant::now();
    s.retry_at = Some(now + s.backoff);
    s.backoff = (s.backoff * 2).min(RETRY_MAX);
}

/// A failing sink between retries: its new batch joins what it holds, or
/// is discarded when it does not fit (or an earlier batch did not, or the
/// sink was just given up).
fn hold(sh: &Shared, s: &mut SinkSlot) {
    if !s.failed && s.gap_records == 0 && s.held.len() + s.buf.len() <= s.retry_cap {
        s.held.extend_from_slice(&s.buf);
    } else {
        let lost = std::mem::take(&mut s.buf);
        discard(sh, s, &lost, 0);
        s.buf = lost;
    }
    s.buf.clear();
}

/// Counts `bytes` as lost (the first `note` of them are a loss note, not
/// records): one record per line, every encoder ends each record with
/// exactly one newline.
fn discard(sh: &Shared, s: &mut SinkSlot, bytes: &[u8], note: usize) {
    if bytes.is_empty() {
        return;
    }
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    let records = lines - u64::from(note > 0 && lines > 0);
    let n = (bytes.len() - note.min(bytes.len())) as u64;
    count(sh, s, |c| &c.bytes_lost, n);
    count(sh, s, |c| &c.records_lost, records);
    s.gap_records += records;
    s.gap_bytes += n;
}

/// Discards whatever a still-failing sink holds (at shutdown).
fn give_up_held(sh: &Shared, s: &mut SinkSlot) {
    let held = std::mem::take(&mut s.held);
    let note = std::mem::take(&mut s.held_note);
    discard(sh, s, &held, note);
    s.retry_at = None;
    report_held(sh, s);
}

/// Encodes the WARN record from logger `ringlog` that tells a sink's
/// reader how many records it lost while it failed.
fn loss_note(sh: &Shared, s: &mut SinkSlot, out: &mut Vec<u8>) {
    let fields = [
        Field::str("sink", &s.name),
        Field::u64("lost", s.gap_records),
        Field::u64("bytes", s.gap_bytes),
    ];
    let mut panicked = false;
    crate::encode::with_internal_record(Level::WARN, LOSS_NOTE, &fields, |rec, meta| {
        let mark = out.len();
        if catch_unwind(AssertUnwindSafe(|| s.enc.encode(rec, meta, out))).is_err() {
            out.truncate(mark);
            panicked = true;
        }
    });
    if panicked {
        count(sh, s, |c| &c.sink_panics, 1);
    }
}

/// Syncs a sink; false if the sync failed.
///
/// A failed sync is counted (`sync_errors`, and `write_errors`) and never
/// retried: after a failed fsync the kernel may have dropped the dirty
/// pages and a second fsync would report success for data that is gone.
fn sync_sink(sh: &Shared, s: &mut SinkSlot) -> bool {
    let ok = match catch_unwind(AssertUnwindSafe(|| s.sink.sync())) {
        Ok(Ok(())) => true,
        Ok(Err(_)) => {
            count(sh, s, |c| &c.write_errors, 1);
            count(sh, s, |c| &c.sync_errors, 1);
            false
        }
        Err(_) => {
            count(sh, s, |c| &c.sink_panics, 1);
            count(sh, s, |c| &c.sync_errors, 1);
            false
        }
    };
    s.unsynced = false;
    s.last_sync = Instant::now();
    ok
}

/// Recovery's output: the runtime's sinks, each at its level.
struct SinkVisit<'a> {
    sh: &'a Shared,
    sinks: &'a mut [SinkSlot],
}

impl Visit for SinkVisit<'_> {
    fn record(&mut self, rec: &RecordView<'_>, meta: &RecordMeta<'_>) {
        for s in self.sinks.iter_mut() {
            // Ordering: Relaxed: a level read.
            if rec.level.number() < s.level.load(Ordering::Relaxed) {
                continue;
            }
            encode_into(self.sh, s, rec, meta);
            if s.buf.len() >= SINK_BUF_LIMIT {
                write_sink(self.sh, s);
            }
        }
    }

    fn forget_logger(&mut self, id: u64) {
        for s in self.sinks.iter_mut() {
            s.enc.forget_logger(id);
        }
    }

    /// The recovered records are handed over once every sink has written
    /// them, holds them for a retry (a failing sink), or has been given up
    /// (they are counted as lost there): the same point at which the
    /// flusher releases live ring space. Keeping the instance instead
    /// would write the records again to every healthy sink at each start.
    fn commit(&mut self) -> bool {
        for s in self.sinks.iter_mut() {
            if s.failed {
                continue;
            }
            if !s.buf.is_empty() {
                write_sink(self.sh, s);
            }
            if s.unsynced {
                sync_sink(self.sh, s);
            }
        }
        true
    }
}

/// Encodes one record into a sink's buffer; a panicking encoder leaves
/// the buffer as it was and is counted.
fn encode_into(sh: &Shared, s: &mut SinkSlot, rec: &RecordView<'_>, meta: &RecordMeta<'_>) {
    if s.failed {
        // Given up: nothing is encoded for it, each record is counted.
        count(sh, s, |c| &c.records_lost, 1);
        return;
    }
    let mark = s.buf.len();
    let r = catch_unwind(AssertUnwindSafe(|| s.enc.encode(rec, meta, &mut s.buf)));
    if r.is_err() {
        s.buf.truncate(mark);
        count(sh, s, |c| &c.sink_panics, 1);
    }
}

/// Builds a synthetic WARN record from the `ringlog` logger saying how many
/// records a ring dropped, and queues it.
#[allow(clippy::too_many_arguments)]
fn push_drop_report(
    synth: &mut Vec<u8>,
    entries: &mut Vec<Entry>,
    slot: u32,
    count: u64,
    first: u64,
    last: u64,
    ts: u64,
) {
    let fields = [
        Field::u64("dropped", count),
        Field::u64("first_seq", first),
        Field::u64("last_seq", last),
    ];
    let head = record::Head {
        ts_ns: ts,
        seq: first,
        logger_id: INTERNAL_LOGGER,
        level: Level::WARN.number(),
        ctx: None,
    };
    let r = record::append_record(synth, &head, b"ring full: records dropped", &fields);
    let (off, len) = (r.start, r.len());
    entries.push(Entry {
        ts,
        slot,
        src: Src::Synth {
            off: off as u32,
            len: len as u32,
        },
    });
}
