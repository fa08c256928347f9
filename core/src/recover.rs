//! Recovery: records left in the rings of a dead process, written out.
//!
//! An instance directory `<ring_dir>/<pid>-<start>-<nonce>/` belongs to a
//! dead process when its lock file can be locked: the owner holds
//! `flock(LOCK_EX)` for its whole life and the kernel drops the lock when
//! it dies, however it dies. Recovery takes that lock (so two recoverers
//! never process one instance), reads the logger definitions from the
//! metadata file, and for each ring file decodes the frames between the
//! consumer cursor and the producer cursor: exactly the records the dead
//! flusher had not yet released. A frame whose CRC or structure is wrong
//! is skipped and counted, and the scan looks for the next good frame.
//! Every read is bounds-checked against the file as it was read into
//! memory, so no file content can make recovery loop, crash or read out of
//! bounds.
//!
//! Records come out through a [`Visit`] (the flusher's sinks, or the
//! `ringlog recover` command's writer), each ring in its sequence order and
//! the rings of one instance merged by timestamp, marked `recovered`.
//! Then the instance directory is deleted, unless asked to keep it.

use crate::encode::{Encoder, RecordMeta};
use crate::level::Level;
use crate::meta;
use crate::record::{self, Head, RecordView};
use crate::registry::{LoggerDef, INTERNAL_LOGGER};
use crate::ring::{
    frame_len, kind, parse_frame_header, ProducerCounters, ProducerLine, RingHeader, FRAME_HEADER,
    HEADER_SIZE, MAGIC, MAX_CAPACITY, MIN_CAPACITY, VERSION,
};
use crate::value::Field;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::io::{self, Read};
use std::mem::offset_of;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// An instance directory without a lock file younger than this may be
/// one being created right now; older ones are abandoned.
const UNLOCKED_GRACE_S: u64 = 60;

/// Ids of recovered loggers are moved into their own space so encoders'
/// per-logger caches never mix them up with the live process's loggers.
const RECOVERED_ID: u64 = 1 << 63;

/// What a recovery pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Dead instances whose records were recovered.
    pub instances: u64,
    /// Instances left alone because their owner is alive.
    pub live: u64,
    /// Records recovered.
    pub records: u64,
    /// Drop reports recovered (in-band ones and pending drops).
    pub drop_reports: u64,
    /// Damaged frames (or runs of damaged bytes) skipped.
    pub bad_frames: u64,
    /// Files skipped whole: ring files with a bad header (wrong magic or
    /// version, truncated, empty, impossible cursors), unreadable or
    /// damaged metadata files, and entries that are not regular files.
    pub bad_files: u64,
    /// One line per problem found, for the log.
    pub problems: Vec<String>,
}

impl Report {
    /// Adds another pass's counts to this one.
    pub fn merge(&mut self, o: Report) {
        self.instances += o.instances;
        self.live += o.live;
        self.records += o.records;
        self.drop_reports += o.drop_reports;
        self.bad_frames += o.bad_frames;
        self.bad_files += o.bad_files;
        self.problems.extend(o.problems);
    }
}

/// Receives recovered (and synthetic) records.
pub(crate) trait Visit {
    /// One record, ready to encode.
    fn record(&mut self, rec: &RecordView<'_>, meta: &RecordMeta<'_>);
    /// A logger id passed to `record` will not be used again.
    fn forget_logger(&mut self, id: u64);
    /// Writes out everything passed so far; false if any of it could not
    /// be written (the instance is then kept, to be recovered again).
    fn commit(&mut self) -> bool;
}

/// Options for [`recover_dir`].
#[derive(Clone, Debug)]
pub struct Options {
    /// The ring directory to scan.
    pub ring_dir: PathBuf,
    /// Keep the instance directories after recovering them (their records
    /// come out again at the next recovery).
    pub keep: bool,
    /// An instance directory to leave alone (the caller's own).
    pub skip: Option<PathBuf>,
}

/// Recovers every dead instance under `opts.ring_dir` through `visit`.
/// Never fails: problems are counted and described in the report, and
/// announced through `visit` as WARN records from the `ringlog` logger.
pub(crate) fn recover_dir(opts: &Options, visit: &mut dyn Visit) -> Report {
    let mut report = Report::default();
    // Another user's directory could feed records into our sinks and have
    // us delete things: only a private one of ours is read.
    match crate::os::check_private_dir(&opts.ring_dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return report,
        Err(e) => {
            report.problems.push(format!(
                "ring directory {} refused: {e}",
                opts.ring_dir.display()
            ));
            return report;
        }
    }
    let mut dirs = match instance_dirs(&opts.ring_dir) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return report,
        Err(e) => {
            report.problems.push(format!(
                "cannot list the ring directory {}: {e}",
                opts.ring_dir.display()
            ));
            return report;
        }
    };
    dirs.sort();
    for (_, dir) in dirs {
        if opts.skip.as_deref() == Some(dir.as_path()) {
            continue;
        }
        let mut r = Report::default();
        recover_instance(&dir, opts.keep, visit, &mut r);
        report.merge(r);
    }
    report
}

/// The instance directories under `ring_dir`, with their start time (for
/// ordering: oldest first).
///
/// Leftovers are tidied on the way: directories whose deletion was cut
/// short, and ones whose making was cut short over a minute ago.
fn instance_dirs(ring_dir: &Path) -> io::Result<Vec<((u64, u32), PathBuf)>> {
    use crate::instance::{GONE_PREFIX, NEW_PREFIX};
    let mut out = Vec::new();
    for e in std::fs::read_dir(ring_dir)? {
        // An entry that vanished while listing is simply not there.
        let Ok(e) = e else { continue };
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && name.starts_with(GONE_PREFIX) {
            let _ = std::fs::remove_dir_all(e.path());
            continue;
        }
        if is_dir && name.starts_with(NEW_PREFIX) && older_than(&e.path(), UNLOCKED_GRACE_S) {
            let _ = std::fs::remove_dir_all(e.path());
            continue;
        }
        let mut parts = name.splitn(3, '-');
        let (Some(pid), Some(start), Some(nonce)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let (Ok(pid), Ok(start)) = (pid.parse::<u32>(), start.parse::<u64>()) else {
            continue;
        };
        if nonce.len() != 16 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        // Not followed if it is a link: only real directories count.
        if is_dir {
            out.push(((start, pid), e.path()));
        }
    }
    Ok(out)
}

fn older_than(p: &Path, secs: u64) -> bool {
    std::fs::symlink_metadata(p)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|m| m.elapsed().ok())
        .is_some_and(|age| age.as_secs() >= secs)
}

/// Takes the instance's lock, or says why not.
enum Lock {
    /// We hold it: the owner is dead. (The descriptor is kept only for
    /// its lock.)
    Held(#[allow(dead_code)] std::fs::File),
    /// The owner is alive (or another recoverer is at work).
    Busy,
    /// The lock file was deleted or replaced before we locked it: the
    /// instance is being removed by its owner or another recoverer.
    Gone,
    /// No lock file, and the directory is old: abandoned.
    Abandoned,
}

fn take_lock(dir: &Path) -> io::Result<Lock> {
    match try_lock(dir) {
        // The directory (or its lock file) vanished under us: its owner
        // or another recoverer removed it.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Lock::Gone),
        r => r,
    }
}

fn try_lock(dir: &Path) -> io::Result<Lock> {
    match crate::os::open_file(&dir.join("lock"), libc::O_RDWR, 0, false) {
        Ok(f) => {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                use std::os::unix::fs::MetadataExt;
                let ours = f.metadata()?;
                let now = std::fs::symlink_metadata(dir.join("lock"));
                let same = matches!(&now, Ok(m) if m.ino() == ours.ino() && m.dev() == ours.dev());
                Ok(if ours.nlink() == 0 || !same {
                    Lock::Gone
                } else {
                    Lock::Held(f)
                })
            } else {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                    Ok(Lock::Busy)
                } else {
                    Err(e)
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let age = std::fs::symlink_metadata(dir)?
                .modified()?
                .elapsed()
                .unwrap_or_default();
            Ok(if age.as_secs() >= UNLOCKED_GRACE_S {
                Lock::Abandoned
            } else {
                Lock::Busy
            })
        }
        Err(e) => Err(e),
    }
}

/// One ring file's contents, read into memory and checked.
struct RingData {
    ring_id: u32,
    thread_id: u64,
    cap: u64,
    head: u64,
    tail: u64,
    /// The bytes of positions `head..tail`, in position order (the part
    /// before the end of the buffer, then the part after the wrap).
    data: Vec<u8>,
    /// The highest sequence number the producer handed out, if any.
    last_seq: Option<u64>,
    /// Records the producer dropped (each consumed a sequence number).
    dropped: u64,
    pending: u64,
    pending_first: u64,
    pending_last: u64,
}

fn hdr_u64(h: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(h[at..at + 8].try_into().expect("8 bytes"))
}

fn hdr_u32(h: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(h[at..at + 4].try_into().expect("4 bytes"))
}

/// Reads and checks a ring file. The error says why it was skipped.
fn read_ring(path: &Path) -> Result<RingData, String> {
    let f = crate::os::open_file(path, libc::O_RDONLY, 0, false)
        .map_err(|e| format!("cannot open: {e}"))?;
    let size = f.metadata().map_err(|e| format!("cannot stat: {e}"))?.len();
    if size == 0 {
        return Err("empty file".into());
    }
    if size < HEADER_SIZE {
        return Err(format!("truncated header ({size} bytes)"));
    }
    let mut h = vec![0u8; HEADER_SIZE as usize];
    let mut f = f;
    f.read_exact(&mut h)
        .map_err(|e| format!("cannot read the header: {e}"))?;
    if hdr_u64(&h, offset_of!(RingHeader, magic)) != MAGIC {
        return Err("wrong magic".into());
    }
    let version = hdr_u32(&h, offset_of!(RingHeader, version));
    if version != VERSION || hdr_u32(&h, offset_of!(RingHeader, header_size)) != HEADER_SIZE as u32
    {
        return Err(format!("unsupported format version {version}"));
    }
    let cap = hdr_u64(&h, offset_of!(RingHeader, capacity));
    if !cap.is_power_of_two() || !(MIN_CAPACITY..=MAX_CAPACITY).contains(&cap) {
        return Err(format!("impossible capacity {cap}"));
    }
    if size < HEADER_SIZE + cap {
        return Err(format!(
            "truncated data area ({} of {cap} bytes)",
            size - HEADER_SIZE
        ));
    }
    let tail = hdr_u64(
        &h,
        offset_of!(RingHeader, prod) + offset_of!(ProducerLine, tail),
    );
    let head = hdr_u64(&h, offset_of!(RingHeader, head));
    if head > tail || tail - head > cap || head % 8 != 0 || tail % 8 != 0 {
        return Err(format!("impossible cursors (head {head}, tail {tail})"));
    }
    // Only the unconsumed bytes: a big, mostly drained ring costs little.
    use std::os::unix::fs::FileExt;
    let used = (tail - head) as usize;
    let idx = head & (cap - 1);
    let first = used.min((cap - idx) as usize);
    let mut data = vec![0u8; used];
    f.read_exact_at(&mut data[..first], HEADER_SIZE + idx)
        .and_then(|_| f.read_exact_at(&mut data[first..], HEADER_SIZE))
        .map_err(|e| format!("cannot read the data area: {e}"))?;
    let c = offset_of!(RingHeader, counters);
    let committed = hdr_u64(
        &h,
        offset_of!(RingHeader, prod) + offset_of!(ProducerLine, committed),
    );
    let dropped = hdr_u64(&h, c + offset_of!(ProducerCounters, dropped));
    Ok(RingData {
        last_seq: committed.saturating_add(dropped).checked_sub(1),
        dropped,
        ring_id: hdr_u32(&h, offset_of!(RingHeader, ring_id)),
        thread_id: hdr_u64(&h, offset_of!(RingHeader, thread_id)),
        cap,
        head,
        tail,
        data,
        pending: hdr_u64(&h, c + offset_of!(ProducerCounters, pending)),
        pending_first: hdr_u64(&h, c + offset_of!(ProducerCounters, pending_first)),
        pending_last: hdr_u64(&h, c + offset_of!(ProducerCounters, pending_last)),
    })
}

/// Where a recovered entry's body is.
#[derive(Clone, Copy)]
enum Src {
    /// In ring `ring`'s data at `off`: a record, or a drop report.
    Ring { off: u32, len: u32, drops: bool },
    /// In the synthetic buffer.
    Synth { off: u32, len: u32 },
}

#[derive(Clone, Copy)]
struct Entry {
    ts: u64,
    ring: u32,
    src: Src,
}

/// How a frame at a position looks.
enum Frame {
    /// A good frame of this total length; the entry to push, if any, and
    /// the last sequence number it covers.
    Good(u64, Option<Src>, Option<u64>),
    /// Damaged.
    Bad,
}

/// Smallest frame a record or drop report takes (header + fixed part).
const MIN_FRAME: u64 = FRAME_HEADER + 32;

/// Sequence numbers a frame found after damage may carry: above the last
/// good one and no further past it than the skipped bytes (and drops)
/// allow, never past the last the producer handed out. A frame outside
/// is not believed: it may be bytes of a message that look like a frame.
#[derive(Clone, Copy)]
struct Window {
    lo: u64,
    hi: u64,
}

/// Checks the frame at `pos` of ring `r` (not past `tail`); after damage,
/// `window` limits the sequence numbers it may carry.
fn check_frame(r: &RingData, pos: u64, window: Option<Window>, budget: &mut u64) -> Frame {
    let idx = pos & (r.cap - 1);
    let off = (pos - r.head) as usize;
    let h: [u8; 8] = r.data[off..off + 8].try_into().expect("8-aligned");
    let (k, body, crc) = parse_frame_header(h);
    let len = frame_len(body);
    if len > r.tail - pos || idx + len > r.cap {
        return Frame::Bad;
    }
    let start = off + FRAME_HEADER as usize;
    let bytes = &r.data[start..start + body as usize];
    match k {
        // A padding frame always runs to the end of the buffer.
        kind::PAD if idx + len == r.cap => Frame::Good(len, None, None),
        kind::RECORD | kind::DROPS => {
            *budget = budget.saturating_sub(body);
            if crate::crc::crc32c(bytes) != crc {
                return Frame::Bad;
            }
            // (first seq, last seq) the frame covers.
            let seqs = match k {
                kind::RECORD => RecordView::decode(bytes).ok().map(|v| (v.seq, v.seq)),
                _ if body == crate::producer::DROPS_BODY => {
                    let w = |i: usize| {
                        u64::from_ne_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8"))
                    };
                    (w(1) <= w(2)).then(|| (w(1), w(2)))
                }
                _ => None,
            };
            let Some((first, last)) = seqs else {
                return Frame::Bad;
            };
            if window.is_some_and(|w| first < w.lo || last > w.hi) {
                return Frame::Bad;
            }
            let src = Src::Ring {
                off: start as u32,
                len: body as u32,
                drops: k == kind::DROPS,
            };
            Frame::Good(len, Some(src), Some(last))
        }
        _ => Frame::Bad,
    }
}

/// Walks a ring's unconsumed frames, pushing entries; returns the number
/// of damaged runs skipped and whether the scan had to stop early.
fn walk(r: &RingData, ri: u32, entries: &mut Vec<Entry>) -> (u64, bool) {
    // Bytes of CRC work allowed while resynchronising: damage can cost a
    // full check at every 8-byte step, so the work is capped.
    let mut budget = 16 * (r.tail - r.head) + 1024;
    let mut bad = 0u64;
    let mut damage_from: Option<u64> = None;
    let mut last_good: Option<u64> = None;
    let mut pos = r.head;
    while pos < r.tail {
        if budget == 0 {
            return (bad + u64::from(damage_from.is_none()), true);
        }
        let window = damage_from.map(|from| {
            let ceiling = r.last_seq.unwrap_or(u64::MAX);
            match last_good {
                // Saturating: `g` and `dropped` come from the file.
                Some(g) => Window {
                    lo: g.saturating_add(1),
                    hi: g
                        .saturating_add(1 + (pos - from) / MIN_FRAME)
                        .saturating_add(r.dropped)
                        .min(ceiling),
                },
                None => Window { lo: 0, hi: ceiling },
            }
        });
        match check_frame(r, pos, window, &mut budget) {
            Frame::Good(len, src, seq) => {
                damage_from = None;
                if seq.is_some() {
                    last_good = seq;
                }
                if let Some(src) = src {
                    let Src::Ring { off, drops, .. } = src else {
                        unreachable!("frames come from the ring")
                    };
                    // A record starts with its time; a drop report keeps
                    // its time in its fourth word.
                    let at = off as usize + if drops { 24 } else { 0 };
                    let ts = u64::from_ne_bytes(
                        r.data[at..at + 8]
                            .try_into()
                            .expect("bodies are at least 32 bytes"),
                    );
                    entries.push(Entry { ts, ring: ri, src });
                }
                pos += len;
            }
            Frame::Bad => {
                if damage_from.is_none() {
                    bad += 1;
                    damage_from = Some(pos);
                }
                pos += 8;
            }
        }
    }
    (bad, false)
}

/// Recovers one instance directory (if its owner is dead).
fn recover_instance(dir: &Path, keep: bool, visit: &mut dyn Visit, rep: &mut Report) {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match take_lock(dir) {
        Ok(Lock::Busy) => rep.live += 1,
        Ok(Lock::Gone) => {}
        Ok(Lock::Held(lock)) => {
            recover_contents(dir, &name, keep, visit, rep);
            // Unlocked only after the directory is gone (or kept).
            drop(lock);
        }
        Ok(Lock::Abandoned) => {
            // No lock to hold: claim it by renaming it out of every other
            // recoverer's sight (only one rename can win).
            let claimed = dir.with_file_name(format!(
                "{}claim-{}-{name}",
                crate::instance::NEW_PREFIX,
                std::process::id()
            ));
            if std::fs::rename(dir, &claimed).is_ok() {
                recover_contents(&claimed, &name, keep, visit, rep);
                if claimed.exists() {
                    // Kept: give it its name back.
                    let _ = std::fs::rename(&claimed, dir);
                }
            }
        }
        Err(e) => {
            rep.bad_files += 1;
            rep.problems
                .push(format!("instance {name}: cannot take its lock: {e}"));
        }
    }
}

/// Recovers the contents of instance directory `dir` (named `name`),
/// which this recoverer has to itself, and deletes it unless `keep`.
fn recover_contents(dir: &Path, name: &str, keep: bool, visit: &mut dyn Visit, rep: &mut Report) {
    let mut synth = Vec::new();
    let mut notes: Vec<(String, String)> = Vec::new();
    // Definitions. A missing or damaged metadata file costs the loggers'
    // names (records then show logger "?"), never the records.
    let m = meta::read(&dir.join(meta::FILE_NAME), 1 << 30);
    if let Some(p) = &m.problem {
        rep.bad_files += 1;
        notes.push(("meta".into(), p.clone()));
    }
    let unknown = LoggerDef::root(b"?");
    let internal = LoggerDef::root(b"ringlog");
    // Ring files, in id order; anything else in the directory is ignored.
    let mut files: Vec<(u32, PathBuf)> = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(rd) => {
            for e in rd.flatten() {
                let n = e.file_name();
                let Some(id) = n
                    .to_str()
                    .and_then(|s| s.strip_prefix("ring-"))
                    .and_then(|s| s.parse::<u32>().ok())
                else {
                    continue;
                };
                files.push((id, e.path()));
            }
        }
        Err(e) => {
            rep.bad_files += 1;
            notes.push((".".into(), format!("cannot list: {e}")));
        }
    }
    files.sort();
    let mut rings: Vec<RingData> = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    for (_, path) in &files {
        let fname = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let r = match read_ring(path) {
            Ok(r) => r,
            Err(why) => {
                rep.bad_files += 1;
                notes.push((fname, why));
                continue;
            }
        };
        let ri = rings.len() as u32;
        let (bad, stopped) = walk(&r, ri, &mut entries);
        if bad > 0 {
            rep.bad_frames += bad;
            notes.push((fname.clone(), format!("{bad} damaged frame run(s) skipped")));
        }
        if stopped {
            notes.push((
                fname,
                "too much damage: the rest of the ring was skipped".into(),
            ));
        }
        // Drops the dead producer had not reported in-band yet.
        if r.pending > 0 {
            let range = record::append_record(
                &mut synth,
                &Head {
                    ts_ns: crate::os::now_ns(),
                    seq: r.pending_first,
                    logger_id: INTERNAL_LOGGER,
                    level: Level::WARN.number(),
                    ctx: None,
                },
                b"ring full: records dropped",
                &drop_fields(r.pending, r.pending_first, r.pending_last),
            );
            entries.push(Entry {
                ts: u64::MAX,
                ring: ri,
                src: Src::Synth {
                    off: range.start as u32,
                    len: range.len() as u32,
                },
            });
        }
        rings.push(r);
    }
    // Merge the rings by timestamp, each in its own (sequence) order.
    let order = merge(&entries);
    let mut used: HashSet<u64> = HashSet::new();
    for i in order {
        let e = entries[i];
        let r = &rings[e.ring as usize];
        match e.src {
            Src::Ring {
                off,
                len,
                drops: true,
            } => {
                let body = &r.data[off as usize..(off + len) as usize];
                let w = |k: usize| {
                    u64::from_ne_bytes(body[k * 8..k * 8 + 8].try_into().expect("32-byte body"))
                };
                let mut b = Vec::new();
                record::append_record(
                    &mut b,
                    &Head {
                        ts_ns: w(3),
                        seq: w(1),
                        logger_id: INTERNAL_LOGGER,
                        level: Level::WARN.number(),
                        ctx: None,
                    },
                    b"ring full: records dropped",
                    &drop_fields(w(0), w(1), w(2)),
                );
                emit(visit, &b, &internal, INTERNAL_LOGGER, r);
                rep.drop_reports += 1;
            }
            Src::Synth { off, len } => {
                emit(
                    visit,
                    &synth[off as usize..(off + len) as usize],
                    &internal,
                    INTERNAL_LOGGER,
                    r,
                );
                rep.drop_reports += 1;
            }
            Src::Ring { off, len, .. } => {
                let body = &r.data[off as usize..(off + len) as usize];
                let Ok(rec) = RecordView::decode(body) else {
                    continue;
                };
                let def = if rec.logger_id == INTERNAL_LOGGER {
                    &internal
                } else {
                    m.defs.get(&rec.logger_id).unwrap_or(&unknown)
                };
                let id = RECOVERED_ID | rec.logger_id;
                used.insert(id);
                emit(visit, body, def, id, r);
                rep.records += 1;
            }
        }
    }
    for id in used {
        visit.forget_logger(id);
    }
    rep.instances += 1;
    // One note per problem file, from the runtime's own logger.
    for (file, why) in &notes {
        rep.problems.push(format!("instance {name}: {file}: {why}"));
        note(
            visit,
            "recovery skipped damaged data",
            &[
                Field::str("instance", name),
                Field::str("file", file),
                Field::str("reason", why),
            ],
        );
    }
    if rep.records + rep.drop_reports > 0 || !notes.is_empty() {
        note(
            visit,
            "recovered records of a dead process",
            &[
                Field::str("instance", name),
                Field::u64("records", rep.records),
                Field::u64("drop_reports", rep.drop_reports),
                Field::u64("damaged", rep.bad_frames + rep.bad_files),
            ],
        );
    }
    // Delete only what is safely written.
    if !visit.commit() {
        rep.problems.push(format!(
            "instance {name}: kept, because its records could not all be written"
        ));
    } else if !keep {
        if let Err(e) = crate::instance::remove_instance_dir(dir) {
            rep.problems
                .push(format!("instance {name}: cannot remove it: {e}"));
        }
    }
}

fn drop_fields(count: u64, first: u64, last: u64) -> [Field<'static>; 3] {
    [
        Field::u64("dropped", count),
        Field::u64("first_seq", first),
        Field::u64("last_seq", last),
    ]
}

fn emit(visit: &mut dyn Visit, body: &[u8], def: &LoggerDef, logger_id: u64, r: &RingData) {
    let Ok(rec) = RecordView::decode(body) else {
        return;
    };
    // A call-site record whose values do not fit its site's key table (or
    // whose site is unknown) keeps its time, level and logger, without
    // fields.
    let rec = match &def.site {
        Some(site) if rec.site => rec
            .clone()
            .with_site_checked(&site.msg, &site.keys)
            .unwrap_or_else(|_| rec.with_site(&site.msg, &[])),
        _ => rec,
    };
    let meta = RecordMeta {
        logger: &def.name,
        logger_id,
        bound: def.bound_fields(),
        thread_id: r.thread_id,
        ring_id: r.ring_id,
        recovered: true,
    };
    visit.record(&rec, &meta);
}

/// A WARN or INFO record from this process's `ringlog` logger about the
/// recovery itself.
fn note(visit: &mut dyn Visit, msg: &str, fields: &[Field<'_>]) {
    let level = if msg.starts_with("recovered") {
        Level::INFO
    } else {
        Level::WARN
    };
    crate::encode::with_internal_record(level, msg.as_bytes(), fields, |rec, meta| {
        visit.record(rec, meta)
    });
}

/// Indices of `entries` merged by timestamp, keeping each ring's order.
fn merge(entries: &[Entry]) -> Vec<usize> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for i in 1..=entries.len() {
        if i == entries.len() || entries[i].ring != entries[start].ring {
            if i > start {
                runs.push((start, i));
            }
            start = i;
        }
    }
    let mut heap = BinaryHeap::with_capacity(runs.len());
    for (ri, &(s, _)) in runs.iter().enumerate() {
        heap.push(Reverse((entries[s].ts, ri, s)));
    }
    let mut out = Vec::with_capacity(entries.len());
    while let Some(Reverse((_, ri, i))) = heap.pop() {
        out.push(i);
        if i + 1 < runs[ri].1 {
            heap.push(Reverse((entries[i + 1].ts, ri, i + 1)));
        }
    }
    out
}

/// A [`Visit`] that encodes with one encoder into a writer (the
/// `ringlog recover` command).
struct WriterVisit<'a> {
    enc: &'a mut dyn Encoder,
    out: &'a mut dyn io::Write,
    buf: Vec<u8>,
    err: Option<io::Error>,
}

impl WriterVisit<'_> {
    fn drain(&mut self) {
        if self.err.is_none() && !self.buf.is_empty() {
            if let Err(e) = self.out.write_all(&self.buf) {
                self.err = Some(e);
            }
        }
        self.buf.clear();
    }
}

impl Visit for WriterVisit<'_> {
    fn record(&mut self, rec: &RecordView<'_>, meta: &RecordMeta<'_>) {
        self.enc.encode(rec, meta, &mut self.buf);
        if self.buf.len() >= 1 << 20 {
            self.drain();
        }
    }
    fn forget_logger(&mut self, id: u64) {
        self.enc.forget_logger(id);
    }
    fn commit(&mut self) -> bool {
        self.drain();
        if self.err.is_none() {
            if let Err(e) = self.out.flush() {
                self.err = Some(e);
            }
        }
        self.err.is_none()
    }
}

/// Recovers every dead instance under `opts.ring_dir`, encoding the
/// records with `enc` into `out`.
///
/// Each instance is deleted (unless `opts.keep`) only after its records
/// were written and `out` flushed.
///
/// # Errors
/// The first error writing to `out`; instances not fully written are
/// kept, so nothing is lost.
pub fn recover_to(
    opts: &Options,
    enc: &mut dyn Encoder,
    out: &mut dyn io::Write,
) -> io::Result<Report> {
    let mut v = WriterVisit {
        enc,
        out,
        buf: Vec::with_capacity(1 << 16),
        err: None,
    };
    let report = recover_dir(opts, &mut v);
    v.drain();
    match v.err.take() {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::frame_header;

    /// A ring of record frames with the given sequence numbers, as recovery
    /// holds it in memory.
    fn ring_of(seqs: &[u64]) -> RingData {
        let mut data = Vec::new();
        for &seq in seqs {
            let mut body = Vec::new();
            let head = Head {
                ts_ns: 1000 + seq,
                seq,
                logger_id: 1,
                level: Level::INFO.number(),
                ctx: None,
            };
            record::append_record(&mut body, &head, b"m", &[Field::u64("n", seq)]);
            let crc = crate::crc::crc32c(&body);
            data.extend_from_slice(&frame_header(kind::RECORD, body.len() as u64, crc));
            data.extend_from_slice(&body);
            data.resize(data.len().next_multiple_of(8), 0);
        }
        RingData {
            ring_id: 0,
            thread_id: 1,
            cap: 4096,
            head: 0,
            tail: data.len() as u64,
            data,
            last_seq: seqs.iter().copied().max(),
            dropped: 0,
            pending: 0,
            pending_first: 0,
            pending_last: 0,
        }
    }

    fn seqs_found(r: &RingData) -> (Vec<u64>, u64) {
        let mut e = Vec::new();
        let (bad, stopped) = walk(r, 0, &mut e);
        assert!(!stopped);
        let seqs = e
            .iter()
            .map(|e| {
                let Src::Ring { off, len, .. } = e.src else {
                    unreachable!()
                };
                RecordView::decode(&r.data[off as usize..(off + len) as usize])
                    .unwrap()
                    .seq
            })
            .collect();
        (seqs, bad)
    }

    #[test]
    fn after_damage_only_frames_whose_sequence_fits_are_believed() {
        // 0, 1, [damaged 2], 3: the walk skips 2 and finds 3 again.
        let mut r = ring_of(&[0, 1, 2, 3]);
        let frame = r.data.len() / 4;
        r.data[2 * frame] ^= 0x40; // the length bits of frame 2's header
        assert_eq!(seqs_found(&r), (vec![0, 1, 3], 1));

        // A well-formed frame whose sequence number cannot follow the last
        // good one (here a copy of frame 0, as a message could carry one)
        // is not believed after damage: 0, [damaged 1], [copy of 0], 3.
        let mut r = ring_of(&[0, 1, 2, 3]);
        let f0 = r.data[..frame].to_vec();
        r.data[2 * frame..3 * frame].copy_from_slice(&f0);
        r.data[frame] ^= 0x40;
        assert_eq!(seqs_found(&r), (vec![0, 3], 1));
    }

    #[test]
    fn drop_reports_merge_by_their_own_time() {
        let mut r = ring_of(&[0]);
        let body: Vec<u8> = [3u64, 1, 3, 5]
            .iter()
            .flat_map(|w| w.to_ne_bytes())
            .collect();
        let crc = crate::crc::crc32c(&body);
        r.data
            .extend_from_slice(&frame_header(kind::DROPS, body.len() as u64, crc));
        r.data.extend_from_slice(&body);
        r.tail = r.data.len() as u64;
        r.last_seq = Some(3);
        let mut e = Vec::new();
        walk(&r, 0, &mut e);
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].ts, 5, "the drop report's time, not its count");
    }
}
