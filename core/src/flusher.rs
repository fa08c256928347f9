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
use crate::sink::Sink;
use crate::stats::Counters;
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

/// One sink with its encoder, buffer and sync state.
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
        }
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
            unknown: Arc::new(LoggerDef {
                name: b"?".to_vec().into_boxed_slice(),
                bound: Box::new([]),
                bound_count: 0,
            }),
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
                std::thread::park_timeout(self.sh.interval);
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
                std::thread::park_timeout(self.sh.idle_interval);
            }
            self.sh.idle.store(false, Ordering::Relaxed);
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
        for s in &mut self.sinks {
            if !s.buf.is_empty() {
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
            failed: false,
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

/// Writes a sink's buffer; false if the write failed.
fn write_sink(sh: &Shared, s: &mut SinkSlot) -> bool {
    let r = catch_unwind(AssertUnwindSafe(|| s.sink.write_batch(&s.buf)));
    let ok = match r {
        Ok(Ok(())) => {
            Counters::add(&sh.counters.bytes_written, s.buf.len() as u64);
            s.unsynced = true;
            s.sync != SyncPolicy::Batch || sync_sink(sh, s)
        }
        Ok(Err(_)) => {
            Counters::bump(&sh.counters.write_errors);
            false
        }
        Err(_) => {
            Counters::bump(&sh.counters.sink_panics);
            false
        }
    };
    s.buf.clear();
    ok
}

/// Syncs a sink; false if the sync failed.
fn sync_sink(sh: &Shared, s: &mut SinkSlot) -> bool {
    let ok = match catch_unwind(AssertUnwindSafe(|| s.sink.sync())) {
        Ok(Ok(())) => true,
        Ok(Err(_)) => {
            Counters::bump(&sh.counters.write_errors);
            false
        }
        Err(_) => {
            Counters::bump(&sh.counters.sink_panics);
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
    failed: bool,
}

impl Visit for SinkVisit<'_> {
    fn record(&mut self, rec: &RecordView<'_>, meta: &RecordMeta<'_>) {
        for s in self.sinks.iter_mut() {
            // Ordering: Relaxed: a level read.
            if rec.level.number() < s.level.load(Ordering::Relaxed) {
                continue;
            }
            encode_into(self.sh, s, rec, meta);
            if s.buf.len() >= SINK_BUF_LIMIT && !write_sink(self.sh, s) {
                self.failed = true;
            }
        }
    }

    fn forget_logger(&mut self, id: u64) {
        for s in self.sinks.iter_mut() {
            s.enc.forget_logger(id);
        }
    }

    fn commit(&mut self) -> bool {
        for s in self.sinks.iter_mut() {
            if !s.buf.is_empty() && !write_sink(self.sh, s) {
                self.failed = true;
            }
            if s.unsynced && !sync_sink(self.sh, s) {
                self.failed = true;
            }
        }
        !std::mem::take(&mut self.failed)
    }
}

/// Encodes one record into a sink's buffer; a panicking encoder leaves
/// the buffer as it was and is counted.
fn encode_into(sh: &Shared, s: &mut SinkSlot, rec: &RecordView<'_>, meta: &RecordMeta<'_>) {
    let mark = s.buf.len();
    let r = catch_unwind(AssertUnwindSafe(|| s.enc.encode(rec, meta, &mut s.buf)));
    if r.is_err() {
        s.buf.truncate(mark);
        Counters::bump(&sh.counters.sink_panics);
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
