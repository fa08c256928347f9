//! Encoders: turn a decoded record into bytes for one sink.
//!
//! Encoders run only on the flusher thread (and in recovery), never on a
//! producer's hot path. Each sink owns one encoder instance, so an encoder
//! may keep caches (such as a child logger's bound fields, encoded once).

pub mod console;
pub mod escape;
pub mod json;
pub mod logfmt;
pub mod time;

use crate::record::{Fields, RecordView};

/// What the flusher knows about a record beyond its body.
#[derive(Clone, Debug)]
pub struct RecordMeta<'a> {
    /// The logger's interned name.
    pub logger: &'a [u8],
    /// Id of the logger definition (stable for the logger's lifetime), used
    /// as the cache key for `bound`.
    pub logger_id: u64,
    /// The logger's bound fields (child loggers), written before the
    /// record's own fields.
    pub bound: Fields<'a>,
    /// OS thread id of the producer.
    pub thread_id: u64,
    /// The ring's id within its instance.
    pub ring_id: u32,
    /// True for records recovered from a dead process's rings.
    pub recovered: bool,
}

/// Turns records into bytes.
pub trait Encoder: Send {
    /// Appends one encoded record (with its line terminator) to `out`.
    fn encode(&mut self, rec: &RecordView<'_>, meta: &RecordMeta<'_>, out: &mut Vec<u8>);

    /// Forgets anything cached for a logger definition that was retired.
    fn forget_logger(&mut self, _logger_id: u64) {}
}

// ---------------------------------------------------------------------------
// Shared helpers for the encoders: key de-duplication, the per-logger cache of
// encoded bound fields, and number formatting.
// ---------------------------------------------------------------------------

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// Up to this many keys, [`KeySet`] searches linearly; past it, it keeps a
/// hash table (an object with many keys must not cost O(n²)).
const LINEAR_MAX: usize = 24;

#[derive(Clone, Copy, Debug)]
struct KeyEntry {
    start: usize,
    len: u32,
    /// The next `#n` suffix worth trying when this key collides again; every
    /// suffix below it is already taken (keys are never removed).
    next: u32,
    /// Hash of the key; only computed once the table is in use.
    hash: u64,
}

/// The keys already present in one output object (or one logfmt line), used
/// to apply the de-duplication rule.
///
/// # The rule
///
/// The encoder's reserved keys that are in use (configured non-empty) are
/// claimed first, in output order, whether or not a given record writes them.
/// Then every bound field and every record field claims its key, in output
/// order. A key equal to one already present in the same object is renamed
/// `key#2`, `key#3`, …: the first suffix not yet present. Nothing is dropped.
/// Each nested group object has its own key set (in logfmt, where groups are
/// flattened, the flattened dotted keys share the line's key set).
///
/// Keys compare as the bytes actually written, before escaping: for JSON the
/// key with invalid UTF-8 replaced by U+FFFD (escaping itself is injective);
/// for logfmt and console the sanitized key.
///
/// Keys are copied into an arena owned by the set, so a reused set does not
/// allocate once it has warmed up.
#[derive(Debug)]
pub(crate) struct KeySet {
    arena: Vec<u8>,
    entries: Vec<KeyEntry>,
    /// Open-addressing table of `entry index + 1` (0 = empty slot); empty
    /// while the set is small enough to search linearly.
    table: Vec<u32>,
    /// One bit per [`filter_bit`] of each key present: a clear bit proves a
    /// key absent without scanning (most keys are new).
    filter: u64,
    state: RandomState,
}

/// The filter bit for a key, from its length and its first and last bytes.
#[inline]
fn filter_bit(key: &[u8]) -> u64 {
    let (first, last) = match key {
        [] => (0, 0),
        [f, .., l] => (*f, *l),
        [f] => (*f, *f),
    };
    let h = (key.len() as u32)
        .wrapping_mul(0x9E37)
        .wrapping_add(u32::from(first).wrapping_mul(0x1F1F))
        .wrapping_add(u32::from(last).wrapping_mul(0x3D));
    1u64 << ((h ^ (h >> 7)) & 63)
}

impl Clone for KeySet {
    fn clone(&self) -> Self {
        KeySet {
            arena: self.arena.clone(),
            entries: self.entries.clone(),
            table: self.table.clone(),
            filter: self.filter,
            state: self.state.clone(),
        }
    }
    /// Reuses `self`'s allocations (the per-record copy of a cached set).
    fn clone_from(&mut self, src: &Self) {
        self.arena.clone_from(&src.arena);
        self.entries.clone_from(&src.entries);
        self.table.clone_from(&src.table);
        self.filter = src.filter;
        self.state.clone_from(&src.state);
    }
}

impl Default for KeySet {
    fn default() -> Self {
        KeySet::new()
    }
}

impl KeySet {
    /// An empty set (allocates nothing).
    pub(crate) fn new() -> Self {
        KeySet {
            arena: Vec::new(),
            entries: Vec::new(),
            table: Vec::new(),
            filter: 0,
            state: RandomState::new(),
        }
    }

    /// Forgets every key, keeping the allocations.
    pub(crate) fn clear(&mut self) {
        self.arena.clear();
        self.entries.clear();
        self.table.clear();
        self.filter = 0;
    }

    /// Number of keys present.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Claims `key`; returns the key to write (`key` or `key#n`).
    pub(crate) fn claim(&mut self, key: &[u8]) -> &[u8] {
        self.claim_with(|b| b.extend_from_slice(key))
    }

    /// Claims the key that `write` appends to the buffer it is given (so a
    /// key can be normalized or flattened without a scratch allocation);
    /// returns the key to write (that key, or it with a `#n` suffix).
    pub(crate) fn claim_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> &[u8] {
        let start = self.arena.len();
        write(&mut self.arena);
        let base_end = self.arena.len();
        if let Some(hit) = self.find(start) {
            let mut n = self.entries[hit].next.max(2);
            loop {
                self.arena.truncate(base_end);
                self.arena.push(b'#');
                self.arena
                    .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                if self.find(start).is_none() {
                    break;
                }
                n = n.saturating_add(1);
            }
            self.entries[hit].next = n.saturating_add(1);
        }
        self.commit(start);
        &self.arena[start..]
    }

    /// Index of the entry equal to the arena's tail from `start`.
    fn find(&self, start: usize) -> Option<usize> {
        let key = &self.arena[start..];
        if self.filter & filter_bit(key) == 0 {
            return None;
        }
        if self.table.is_empty() {
            return self.entries.iter().position(|e| {
                e.len as usize == key.len() && &self.arena[e.start..e.start + key.len()] == key
            });
        }
        let hash = self.state.hash_one(key);
        let mask = self.table.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            match self.table[slot] {
                0 => return None,
                i => {
                    let e = &self.entries[i as usize - 1];
                    if e.hash == hash
                        && e.len as usize == key.len()
                        && &self.arena[e.start..e.start + key.len()] == key
                    {
                        return Some(i as usize - 1);
                    }
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Adds the arena's tail from `start` as a new entry.
    fn commit(&mut self, start: usize) {
        let len = (self.arena.len() - start) as u32;
        self.filter |= filter_bit(&self.arena[start..]);
        let hash = if self.table.is_empty() {
            0
        } else {
            self.state.hash_one(&self.arena[start..])
        };
        self.entries.push(KeyEntry {
            start,
            len,
            next: 2,
            hash,
        });
        if self.table.is_empty() {
            if self.entries.len() > LINEAR_MAX {
                self.rebuild();
            }
        } else if self.entries.len() * 2 > self.table.len() {
            self.rebuild();
        } else {
            self.place(self.entries.len() - 1);
        }
    }

    /// Rebuilds the hash table for the current entries (load ≤ 1/4).
    fn rebuild(&mut self) {
        let cap = (self.entries.len() * 4).next_power_of_two();
        self.table.clear();
        self.table.resize(cap, 0);
        for i in 0..self.entries.len() {
            let e = self.entries[i];
            self.entries[i].hash = self
                .state
                .hash_one(&self.arena[e.start..e.start + e.len as usize]);
            self.place(i);
        }
    }

    fn place(&mut self, i: usize) {
        let mask = self.table.len() - 1;
        let mut slot = self.entries[i].hash as usize & mask;
        while self.table[slot] != 0 {
            slot = (slot + 1) & mask;
        }
        self.table[slot] = i as u32 + 1;
    }
}

/// A cheap hasher for logger ids (small integers handed out by a registry).
#[derive(Default, Debug)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A logger's bound fields, encoded once, with the key set they leave behind.
#[derive(Debug, Default)]
pub(crate) struct BoundEntry {
    /// The encoded fields, ready to copy into each record's output.
    pub(crate) fragment: Vec<u8>,
    /// Reserved keys plus the bound fields' final keys.
    pub(crate) keys: KeySet,
    /// How many bound fields were encoded (a cheap consistency check).
    pub(crate) count: usize,
    /// Identifies this build of the entry (never 0, never reused), so a
    /// [`ShapeCache`] can tell whether `keys` is the set a shape was
    /// recorded against.
    pub(crate) generation: u64,
}

/// Caps the cache so a program that never retires loggers cannot grow it
/// without bound; on overflow the cache is simply emptied and refilled.
const BOUND_CACHE_MAX: usize = 4096;

/// Per-logger cache of encoded bound fields, keyed by `RecordMeta::logger_id`.
#[derive(Debug, Default)]
pub(crate) struct BoundCache {
    map: HashMap<u64, BoundEntry, BuildHasherDefault<IdHasher>>,
    /// The last generation handed out.
    generation: u64,
}

impl BoundCache {
    /// The cached entry for `id`, building it with `build` when it is missing
    /// or was built from a different number of fields.
    pub(crate) fn get_or_build(
        &mut self,
        id: u64,
        count: usize,
        build: impl FnOnce(&mut BoundEntry),
    ) -> &BoundEntry {
        let stale = !matches!(self.map.get(&id), Some(e) if e.count == count);
        if stale {
            if self.map.len() >= BOUND_CACHE_MAX && !self.map.contains_key(&id) {
                self.map.clear();
            }
            let e = self.map.entry(id).or_default();
            e.fragment.clear();
            e.keys.clear();
            e.count = count;
            self.generation += 1;
            e.generation = self.generation;
            build(e);
        }
        &self.map[&id]
    }

    /// Drops the entry for a retired logger.
    pub(crate) fn forget(&mut self, id: u64) {
        self.map.remove(&id);
    }

    /// Number of cached loggers.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// Builds a record from this process's own `ringlog` logger (notes about
/// lost records or recovery, never in a ring) and hands it to `f` ready to
/// encode.
pub(crate) fn with_internal_record(
    level: crate::level::Level,
    msg: &[u8],
    fields: &[crate::value::Field<'_>],
    f: impl FnOnce(&RecordView<'_>, &RecordMeta<'_>),
) {
    let head = crate::record::Head {
        ts_ns: crate::os::now_ns(),
        seq: 0,
        logger_id: crate::registry::INTERNAL_LOGGER,
        level: level.number(),
        ctx: None,
    };
    let mut body = Vec::new();
    crate::record::append_record(&mut body, &head, msg, fields);
    let Ok(rec) = RecordView::decode(&body) else {
        return;
    };
    let meta = RecordMeta {
        logger: b"ringlog",
        logger_id: crate::registry::INTERNAL_LOGGER,
        bound: Fields::empty(),
        thread_id: crate::os::thread_id(),
        ring_id: 0,
        recovered: false,
    };
    f(&rec, &meta);
}

/// Number of [`Shape`]s a [`ShapeCache`] holds (a power of two).
const SHAPES: usize = 64;

/// Fields past this many are not recorded in a [`Shape`] (they take the
/// slow path), which bounds a shape's memory.
const SHAPE_MAX_FIELDS: usize = 64;

/// The keys a record's top-level fields were written under, for one base key
/// set: the raw key of each field in order, with the piece of output that led
/// its value (for JSON `,"key":`, the key as claimed and escaped).
///
/// Why this is exact: claiming is deterministic, so the keys written for a
/// record's first `k` fields depend only on the base set (the reserved keys,
/// plus a logger's bound fields) and on the raw keys of those `k` fields. A
/// later record against the same base whose first `k` raw keys are the same
/// bytes writes the same `k` pieces, without claiming anything. Records from
/// one call site all have the same keys, so this is the common case.
#[derive(Debug, Default)]
pub(crate) struct Shape {
    /// The base set this shape was recorded against: 0 for an encoder's
    /// reserved keys alone, else a [`BoundEntry::generation`].
    generation: u64,
    /// The raw keys, back to back.
    raw: Vec<u8>,
    /// The written pieces, back to back.
    pieces: Vec<u8>,
    /// Each field's raw key in `raw` and piece in `pieces`.
    fields: Vec<ShapeField>,
}

/// Where one field of a [`Shape`] keeps its bytes (offsets into the shape's
/// buffers).
#[derive(Clone, Copy, Debug)]
struct ShapeField {
    raw: (u32, u32),
    piece: (u32, u32),
}

impl Shape {
    /// Number of fields recorded.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.fields.len()
    }

    /// The written piece for field `i` when the shape's field `i` has the
    /// raw key `key` (the shape's first `i` keys are the record's first `i`,
    /// as the caller checked field by field).
    #[inline(always)]
    pub(crate) fn piece(&self, i: usize, key: &[u8]) -> Option<&[u8]> {
        let f = self.fields.get(i)?;
        let raw = self.raw.get(f.raw.0 as usize..f.raw.1 as usize)?;
        if !eq_small(raw, key) {
            return None;
        }
        self.pieces.get(f.piece.0 as usize..f.piece.1 as usize)
    }

    /// The raw key of field `i` (< the number of fields recorded).
    pub(crate) fn raw_key(&self, i: usize) -> &[u8] {
        let f = self.fields[i];
        &self.raw[f.raw.0 as usize..f.raw.1 as usize]
    }

    /// Keeps the first `n` fields, forgetting the rest.
    pub(crate) fn truncate(&mut self, n: usize) {
        self.fields.truncate(n);
        let (raw, piece) = match self.fields.last() {
            Some(f) => (f.raw.1, f.piece.1),
            None => (0, 0),
        };
        self.raw.truncate(raw as usize);
        self.pieces.truncate(piece as usize);
    }

    /// Appends a field: its raw key and the piece written for it. Fields
    /// past [`SHAPE_MAX_FIELDS`], or whose offsets would not fit a `u32`, are
    /// left out (the shape then covers a prefix of the record).
    pub(crate) fn record(&mut self, raw: &[u8], piece: &[u8]) {
        let (raw_start, piece_start) = (self.raw.len(), self.pieces.len());
        let (raw_end, piece_end) = (raw_start + raw.len(), piece_start + piece.len());
        if self.fields.len() >= SHAPE_MAX_FIELDS || u32::try_from(raw_end.max(piece_end)).is_err() {
            return;
        }
        self.raw.extend_from_slice(raw);
        self.pieces.extend_from_slice(piece);
        self.fields.push(ShapeField {
            raw: (raw_start as u32, raw_end as u32),
            piece: (piece_start as u32, piece_end as u32),
        });
    }
}

/// A few recent [`Shape`]s, chosen by the base set, the field count and the
/// first key (so records from different call sites mostly land in different
/// slots; a slot holds the most recent shape that landed in it).
#[derive(Debug)]
pub(crate) struct ShapeCache {
    shapes: Box<[Shape]>,
}

impl Default for ShapeCache {
    fn default() -> Self {
        ShapeCache {
            shapes: (0..SHAPES).map(|_| Shape::default()).collect(),
        }
    }
}

impl ShapeCache {
    /// The slot for a record against base set `generation` with `count`
    /// fields, the first keyed `first`; emptied first when it holds a shape
    /// recorded against another base set.
    #[inline]
    pub(crate) fn shape(&mut self, generation: u64, count: usize, first: &[u8]) -> &mut Shape {
        let h = (key_word(first) ^ (first.len() as u64).rotate_left(56))
            .wrapping_add(generation.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .wrapping_add((count as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
            .wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        let shape = &mut self.shapes[(h >> 58) as usize & (SHAPES - 1)];
        if shape.generation != generation {
            shape.truncate(0);
            shape.generation = generation;
        }
        shape
    }
}

/// Up to 16 bytes of `s` folded into a word (for hashing a key).
#[inline(always)]
fn key_word(s: &[u8]) -> u64 {
    let n = s.len();
    if n >= 8 {
        word_at(s, 0) ^ word_at(s, n - 8).rotate_left(29)
    } else if n >= 4 {
        u64::from(half_at(s, 0)) | u64::from(half_at(s, n - 4)) << 32
    } else if n > 0 {
        u64::from(s[0]) | u64::from(s[n / 2]) << 8 | u64::from(s[n - 1]) << 16
    } else {
        0
    }
}

/// The 8 bytes of `s` at `i` (`i + 8 <= s.len()`), little-endian.
#[inline(always)]
pub(crate) fn word_at(s: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&s[i..i + 8]);
    u64::from_le_bytes(w)
}

/// The 4 bytes of `s` at `i` (`i + 4 <= s.len()`), little-endian.
#[inline(always)]
pub(crate) fn half_at(s: &[u8], i: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&s[i..i + 4]);
    u32::from_le_bytes(w)
}

/// `a == b`, without a call into `memcmp` for keys of up to 16 bytes.
#[inline(always)]
fn eq_small(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n > 16 {
        a == b
    } else if n >= 8 {
        word_at(a, 0) == word_at(b, 0) && word_at(a, n - 8) == word_at(b, n - 8)
    } else if n >= 4 {
        half_at(a, 0) == half_at(b, 0) && half_at(a, n - 4) == half_at(b, n - 4)
    } else {
        a == b
    }
}

/// Number of slots in a [`PieceCache`] (a power of two).
const PIECES: usize = 64;

/// Recently built pieces of output that depend only on a few values of a
/// record, such as the JSON text between the timestamp and the message,
/// which depends on the level and the logger's name alone.
///
/// A piece is looked up by two numbers `a` and `b` and a byte string
/// `check`; the caller guarantees that these three determine the piece.
/// Each slot holds the last piece built for the keys that map to it.
#[derive(Debug)]
pub(crate) struct PieceCache {
    slots: Box<[PieceSlot]>,
}

#[derive(Debug, Default)]
struct PieceSlot {
    /// False until a piece is built in this slot.
    used: bool,
    a: u64,
    b: u64,
    check: Vec<u8>,
    piece: Vec<u8>,
}

impl Default for PieceCache {
    fn default() -> Self {
        PieceCache {
            slots: (0..PIECES).map(|_| PieceSlot::default()).collect(),
        }
    }
}

impl PieceCache {
    /// The piece for `(a, b, check)`, built by `build` (appending to the
    /// empty buffer it is given) when the slot holds another one.
    #[inline]
    pub(crate) fn get(
        &mut self,
        a: u64,
        b: u64,
        check: &[u8],
        build: impl FnOnce(&mut Vec<u8>),
    ) -> &[u8] {
        let h = (a ^ b.rotate_left(32))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(17)
            .wrapping_add(b)
            .wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        let slot = &mut self.slots[(h >> 58) as usize & (PIECES - 1)];
        if !(slot.used && slot.a == a && slot.b == b && eq_small(&slot.check, check)) {
            slot.used = true;
            slot.a = a;
            slot.b = b;
            slot.check.clear();
            slot.check.extend_from_slice(check);
            slot.piece.clear();
            build(&mut slot.piece);
        }
        &slot.piece
    }
}

/// Lowercase hex digit pairs for every byte value.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    t
};

/// Appends `bytes` (a trace or span id, at most 16 bytes) as lowercase hex.
#[inline]
pub(crate) fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut buf = [0u8; 32];
    let n = bytes.len().min(16);
    for (pair, &b) in buf.chunks_exact_mut(2).zip(&bytes[..n]) {
        pair.copy_from_slice(&HEX_PAIRS[b as usize]);
    }
    put(out, &buf[..2 * n]);
}

use crate::record::copy_small;

/// Appends `s` to `out`: [`Vec::extend_from_slice`] without the call into
/// `memcpy` for short pieces, which dominated the encoders' profile (a
/// record is some twenty pieces of a few bytes each).
#[inline(always)]
pub(crate) fn put(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len());
    let len = out.len();
    // SAFETY: `reserve` made room for `s.len()` bytes after `len`; `s` and `out` cannot
    // overlap (shared vs mutable borrow); the copy initializes them before `set_len`.
    unsafe {
        copy_small(s.as_ptr(), out.as_mut_ptr().add(len), s.len());
        out.set_len(len + s.len());
    }
}

/// Appends `s` between double quotes (`s` needing no escaping).
#[inline(always)]
pub(crate) fn put_quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    let len = out.len();
    // SAFETY: `reserve` made room for the `s.len() + 2` bytes the three writes fill; `s`
    // cannot overlap `out` (shared vs mutable borrow); all are written before `set_len`.
    unsafe {
        let dst = out.as_mut_ptr().add(len);
        *dst = b'"';
        copy_small(s.as_ptr(), dst.add(1), s.len());
        *dst.add(1 + s.len()) = b'"';
        out.set_len(len + s.len() + 2);
    }
}

/// Appends `v` in decimal.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, v: u64) {
    put(out, itoa::Buffer::new().format(v).as_bytes());
}

/// Appends `v` in decimal.
#[inline]
pub(crate) fn push_i64(out: &mut Vec<u8>, v: i64) {
    put(out, itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a float: the shortest round-tripping form for a finite value
/// (`12.0`, `1e21`, valid JSON numbers), otherwise the bare word `NaN`,
/// `Infinity` or `-Infinity`. Returns false for the non-finite words, which
/// JSON must quote.
#[inline]
pub(crate) fn push_f64(out: &mut Vec<u8>, v: f64) -> bool {
    if push_short_f64(out, v) {
        true
    } else if v.is_finite() {
        put(out, ryu::Buffer::new().format_finite(v).as_bytes());
        true
    } else {
        put(
            out,
            if v.is_nan() {
                b"NaN"
            } else if v > 0.0 {
                b"Infinity"
            } else {
                b"-Infinity"
            },
        );
        false
    }
}

/// Writes `v` as `m / 10^k` with `k` ≤ 3 fraction digits, when such a
/// decimal reads back as exactly `v` (the common `12.5`, `0.25`, `3.0`);
/// otherwise writes nothing and returns false. Ryu's general algorithm is
/// several times slower for such short values; the output is the same.
///
/// Why this is exact: `m` and `10^k` are exact doubles, so IEEE division
/// gives `round(m / 10^k)`, which is also what parsing the text `m / 10^k`
/// gives; the check `m / 10^k == |v|` thus proves the text parses back to
/// `v`. Below 10¹², an ulp of `|v|·10^k` is at most 1/8, so the only integer
/// that can pass for a given `k` is the one nearest `|v|·10^k`, the one tried;
/// trying `k` upwards then finds the shortest decimal, which is unique at its
/// length and therefore the one ryu prints.
#[inline]
fn push_short_f64(out: &mut Vec<u8>, v: f64) -> bool {
    const POW: [f64; 4] = [1.0, 10.0, 100.0, 1000.0];
    let a = v.abs();
    // Outside this range (and for 0, NaN, infinities) use ryu.
    if !(1e-3..1e12).contains(&a) {
        return false;
    }
    for (k, p) in POW.iter().enumerate() {
        // The integer nearest `a * p` (< 10¹⁵). Rounding a tie either way is
        // fine: a passing `m` is within 1/8 of `a * p`, so a tie never passes.
        // (Through i64: cheaper conversions than u64 on common targets.)
        let m = (a * p + 0.5) as i64;
        if m as f64 / p == a {
            let m = m as u64;
            // Written backwards from the end of `buf`: the fraction digits
            // (`0` when there are none), `.`, the integer digits (at most 12)
            // and the sign.
            let mut buf = [0u8; 20];
            let mut i = buf.len();
            let (mut int, mut frac) = if k == 0 {
                i -= 1;
                buf[i] = b'0';
                (m, 0)
            } else {
                let div = [1u64, 10, 100, 1000][k];
                (m / div, m % div)
            };
            for _ in 0..k {
                i -= 1;
                buf[i] = b'0' + (frac % 10) as u8;
                frac /= 10;
            }
            i -= 1;
            buf[i] = b'.';
            loop {
                i -= 1;
                buf[i] = b'0' + (int % 10) as u8;
                int /= 10;
                if int == 0 {
                    break;
                }
            }
            if v < 0.0 {
                i -= 1;
                buf[i] = b'-';
            }
            put(out, &buf[i..]);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_gets_the_first_free_numeric_suffix() {
        let mut s = KeySet::new();
        assert_eq!(s.claim(b"a"), b"a");
        assert_eq!(s.claim(b"a#2"), b"a#2");
        assert_eq!(s.claim(b"a"), b"a#3");
        assert_eq!(s.claim(b"a"), b"a#4");
        assert_eq!(s.claim(b"a#3"), b"a#3#2");
        assert_eq!(s.claim(b""), b"");
        assert_eq!(s.claim(b""), b"#2");
    }

    #[test]
    fn large_key_sets_switch_to_hashing_and_stay_exact() {
        let mut s = KeySet::new();
        for i in 0..1000u32 {
            let k = format!("k{}", i % 100);
            let got = s.claim(k.as_bytes()).to_vec();
            let expect = if i < 100 {
                k.clone()
            } else {
                format!("{k}#{}", i / 100 + 1)
            };
            assert_eq!(String::from_utf8(got).unwrap(), expect);
        }
        assert_eq!(s.len(), 1000);
        let copy = s.clone();
        let mut t = KeySet::new();
        t.clone_from(&copy);
        assert_eq!(t.claim(b"k5"), b"k5#11");
        s.clear();
        assert_eq!(s.claim(b"k5"), b"k5");
    }

    #[test]
    fn many_identical_keys_are_renamed_in_linear_time() {
        let mut s = KeySet::new();
        for _ in 0..20_000 {
            s.claim(b"x");
        }
        assert_eq!(s.claim(b"x"), b"x#20001");
    }

    #[test]
    fn put_appends_pieces_of_every_length() {
        let src: Vec<u8> = (0..100u8).collect();
        for n in 0..=src.len() {
            let mut v = b"ab".to_vec();
            put(&mut v, &src[..n]);
            put_quoted(&mut v, &src[n / 2..n]);
            let mut want = b"ab".to_vec();
            want.extend_from_slice(&src[..n]);
            want.push(b'"');
            want.extend_from_slice(&src[n / 2..n]);
            want.push(b'"');
            assert_eq!(v, want, "{n}");
        }
    }

    #[test]
    fn shapes_match_field_by_field_and_are_emptied_for_another_base_set() {
        let mut c = ShapeCache::default();
        let s = c.shape(0, 2, b"a");
        assert_eq!(s.piece(0, b"a"), None);
        s.record(b"a", b",\"a\":");
        s.record(b"b", b",\"b#2\":");
        let s = c.shape(0, 2, b"a");
        assert_eq!(s.len(), 2);
        assert_eq!(s.piece(0, b"a"), Some(&b",\"a\":"[..]));
        assert_eq!(s.piece(1, b"b"), Some(&b",\"b#2\":"[..]));
        assert_eq!(s.piece(1, b"c"), None);
        assert_eq!(s.piece(2, b"b"), None);
        assert_eq!(s.raw_key(1), b"b");
        s.truncate(1);
        assert_eq!(s.piece(1, b"b"), None);
        s.record(b"c", b",\"c\":");
        assert_eq!(s.piece(1, b"c"), Some(&b",\"c\":"[..]));
        // The same slot against another base set starts empty.
        assert_eq!(c.shape(9, 2, b"a").len(), 0);
        // Long keys, and the cap on recorded fields.
        let long = [b'k'; 40];
        let s = c.shape(0, 100, &long);
        for _ in 0..100 {
            s.record(&long, b"p");
        }
        assert_eq!(s.len(), SHAPE_MAX_FIELDS);
        assert_eq!(s.piece(0, &long), Some(&b"p"[..]));
        assert_eq!(s.piece(0, &long[1..]), None);
    }

    #[test]
    fn cached_pieces_are_rebuilt_for_other_keys() {
        let mut c = PieceCache::default();
        let mut builds = 0;
        for (a, b, check) in [(1, 2, &b"x"[..]), (1, 2, b"x"), (1, 3, b"x"), (1, 2, b"y")] {
            let piece = c.get(a, b, check, |p| {
                builds += 1;
                p.extend_from_slice(format!("{a}/{b}/{check:?}").as_bytes());
            });
            assert_eq!(piece, format!("{a}/{b}/{check:?}").as_bytes());
        }
        assert_eq!(builds, 3);
    }

    #[test]
    fn the_bound_cache_rebuilds_after_forget_and_on_a_count_change() {
        let mut c = BoundCache::default();
        let mut builds = 0;
        for _ in 0..3 {
            c.get_or_build(7, 1, |e| {
                builds += 1;
                e.fragment.extend_from_slice(b"x");
            });
        }
        assert_eq!(builds, 1);
        c.get_or_build(7, 2, |_| builds += 1);
        assert_eq!(builds, 2);
        c.forget(7);
        assert_eq!(c.len(), 0);
        c.get_or_build(7, 2, |_| builds += 1);
        assert_eq!(builds, 3);
    }

    #[test]
    fn ids_are_written_as_lowercase_hex() {
        let mut v = Vec::new();
        push_hex(&mut v, &[0x00, 0x0f, 0xa5, 0xff]);
        assert_eq!(v, b"000fa5ff");
        let mut w = [0u8; 32];
        let id = [0x4b; 16];
        crate::context::write_hex(&id, &mut w);
        v.clear();
        push_hex(&mut v, &id);
        assert_eq!(v, w);
    }

    #[test]
    fn floats_are_shortest_and_non_finite_values_are_words() {
        let mut v = Vec::new();
        assert!(push_f64(&mut v, 12.0));
        v.push(b' ');
        assert!(push_f64(&mut v, 0.1));
        v.push(b' ');
        assert!(!push_f64(&mut v, f64::NAN));
        v.push(b' ');
        assert!(!push_f64(&mut v, f64::NEG_INFINITY));
        assert_eq!(v, b"12.0 0.1 NaN -Infinity");
    }

    #[test]
    fn the_short_float_path_round_trips_and_matches_ryu_on_common_values() {
        let mut vals = vec![
            12.5,
            -12.5,
            0.1,
            0.3,
            0.001,
            1.0,
            3.0,
            100.25,
            1e14 + 0.5,
            999.999,
        ];
        let mut x = 0.000_7f64;
        while x < 1e16 {
            vals.push(x);
            vals.push(x * 1.000_000_1);
            vals.push((x * 1000.0).round() / 1000.0);
            x *= 1.37;
        }
        for i in 0..20_000u32 {
            vals.push(f64::from(i) / 1000.0);
            vals.push(f64::from(i) / 8.0 - 1000.0);
        }
        // Pseudo-random doubles across the fast path's whole range.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mant = (seed >> 11) as f64 / (1u64 << 53) as f64;
            let v = mant * 10f64.powi((seed % 16) as i32 - 3);
            vals.push(v);
            vals.push((v * 1000.0).round() / 1000.0);
            vals.push((v * 10.0).round() / 10.0);
        }
        for v in vals {
            let mut out = Vec::new();
            push_f64(&mut out, v);
            let text = std::str::from_utf8(&out).unwrap();
            assert_eq!(text.parse::<f64>().unwrap(), v, "{text}");
            let mut r = ryu::Buffer::new();
            let ryu = r.format_finite(v);
            assert_eq!(text, ryu, "{v:e}");
        }
    }
}

/// Builds record bodies and metadata for the encoders' tests, through the
/// crate's own record writer and decoder.
#[cfg(test)]
pub(crate) mod test_support {
    use super::RecordMeta;
    use crate::context::TraceContext;
    use crate::record::{
        encode_fields, fields_len, record_len, write_record, Fields, Head, RecordView,
    };
    use crate::value::{Field, Value};

    /// A record body written by `write_record` (decode it with
    /// [`RecordView::decode`]).
    pub(crate) fn body(
        ts_ns: u64,
        level: u8,
        ctx: Option<&TraceContext>,
        msg: &[u8],
        fields: &[Field<'_>],
    ) -> Vec<u8> {
        let flen = fields_len(fields, 0).expect("test fields are valid");
        let mut buf = vec![0u8; record_len(ctx.is_some(), msg.len(), flen)];
        let h = Head {
            ts_ns,
            seq: 7,
            logger_id: 3,
            level,
            ctx,
        };
        // SAFETY: `buf` holds exactly `record_len(..)` bytes for this message
        // and these fields, the size `write_record` requires.
        unsafe { write_record(buf.as_mut_ptr(), &h, msg, fields) };
        buf
    }

    /// Decodes a body made by [`body`].
    pub(crate) fn view(body: &[u8]) -> RecordView<'_> {
        RecordView::decode(body).expect("test record decodes")
    }

    /// Bound fields stored as the registry stores them.
    pub(crate) fn bound_bytes(fields: &[Field<'_>]) -> Vec<u8> {
        encode_fields(fields).expect("test bound fields are valid")
    }

    /// Metadata for logger `logger_id` with the bound fields in `bound`
    /// (from [`bound_bytes`], holding `n` fields).
    pub(crate) fn meta<'a>(
        logger: &'a [u8],
        logger_id: u64,
        bound: &'a [u8],
        n: u32,
    ) -> RecordMeta<'a> {
        RecordMeta {
            logger,
            logger_id,
            bound: Fields::new(bound, n),
            thread_id: 123,
            ring_id: 1,
            recovered: false,
        }
    }

    /// A trace context with recognisable ids.
    pub(crate) fn ctx() -> TraceContext {
        TraceContext::parse_traceparent(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .expect("valid traceparent")
    }

    /// A xorshift step: deterministic pseudo-random numbers for the tests.
    pub(crate) fn next(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// Keys that collide with reserved keys, with renamed keys (`a#2`), with
    /// each other once sanitized (`x y`, `x_y`) or made valid (`\xff`,
    /// U+FFFD), or that are hostile or long.
    const KEYS: &[&[u8]] = &[
        b"user",
        b"status",
        b"msg",
        b"msg#2",
        b"ts",
        b"level",
        b"logger",
        b"seq",
        b"thread",
        b"ring",
        b"trace_id",
        b"recovered",
        b"trace",
        b"a",
        b"a#2",
        b"a#3",
        b"",
        b"k\ney",
        b"\xff",
        "\u{FFFD}".as_bytes(),
        b"x y",
        b"x_y",
        b"a.b",
        b"g",
        b"q\"uote",
        b"a_key_longer_than_sixteen_bytes",
        b"a_key_longer_than_sixteen_bytez",
    ];

    const STRS: &[&[u8]] = &[
        b"alice",
        b"",
        b"a b",
        b"a=b",
        b"line\nbreak",
        b"\x1b[31mred",
        b"bad \xff\xfe",
        b"h\xc3\xa9",
        b"\xe2\x80\xa8",
        b"say \"hi\" C:\\",
        b"0123456789abcdefghijklmnopqrstuvwxyz",
    ];

    /// Pseudo-random values, groups taken from `groups`.
    fn value<'a>(seed: &mut u64, groups: &[&'a [Field<'a>]]) -> Value<'a> {
        let r = next(seed);
        match r % 9 {
            0 => Value::Null,
            1 | 2 => Value::Str(STRS[(r >> 8) as usize % STRS.len()]),
            3 => Value::I64((r >> 8) as i64 % 100_000 - 50_000),
            4 => Value::U64(r >> (r % 64)),
            5 => {
                Value::F64([12.5, -0.25, 1e21, 0.1, f64::NAN, f64::INFINITY][(r >> 8) as usize % 6])
            }
            6 => Value::Bool(r & 256 != 0),
            7 => Value::Bytes(STRS[(r >> 8) as usize % STRS.len()]),
            _ => Value::Group(groups[(r >> 8) as usize % groups.len()]),
        }
    }

    /// The keys of a few record shapes, fixed by `seed`.
    pub(crate) fn shapes(seed: &mut u64) -> Vec<Vec<&'static [u8]>> {
        (0..6)
            .map(|_| {
                let n = next(seed) % 8;
                (0..n)
                    .map(|_| KEYS[next(seed) as usize % KEYS.len()])
                    .collect()
            })
            .collect()
    }

    /// Pseudo-random top-level fields: mostly the keys of one of `shapes`
    /// (whole, a prefix, or with one key changed), otherwise random keys;
    /// always random values.
    pub(crate) fn fields<'a>(
        seed: &mut u64,
        shapes: &[Vec<&'static [u8]>],
        groups: &[&'a [Field<'a>]],
    ) -> Vec<Field<'a>> {
        let r = next(seed);
        let mut keys: Vec<&[u8]> = shapes[(r >> 8) as usize % shapes.len()].clone();
        match r % 5 {
            0 => keys.truncate((r >> 16) as usize % (keys.len() + 1)),
            1 if !keys.is_empty() => {
                let i = (r >> 16) as usize % keys.len();
                keys[i] = KEYS[(r >> 24) as usize % KEYS.len()];
            }
            2 => {
                let n = (r >> 16) % 10;
                keys = (0..n)
                    .map(|_| KEYS[next(seed) as usize % KEYS.len()])
                    .collect();
            }
            _ => {}
        }
        keys.into_iter()
            .map(|key| Field {
                key,
                value: value(seed, groups),
            })
            .collect()
    }

    /// Encodes pseudo-random records, many of them alike, with one
    /// long-lived encoder and with a fresh encoder each (so no cache of the
    /// long-lived one is ever used), and checks that the bytes are the same;
    /// returns the long-lived encoder's output for further checks.
    pub(crate) fn cached_equals_fresh<E: super::Encoder>(
        new: impl Fn() -> E,
        rounds: usize,
    ) -> Vec<u8> {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let deep = [
            Field::i64("x", 1),
            Field::i64("x", 2),
            Field::str("ts", "t"),
        ];
        let inner = [
            Field::str("msg", "a"),
            Field::group("g", &deep),
            Field::group("g", &[]),
            Field::i64("msg", 2),
        ];
        let groups: [&[Field<'_>]; 3] = [&[], &deep, &inner];
        let bound_a = bound_bytes(&[Field::str("user", "b"), Field::group("g", &deep)]);
        let bound_b = bound_bytes(&[
            Field::str("a", "b"),
            Field::str("a", "c"),
            Field::str("x y", "d"),
        ]);
        // (logger id, bound fields, count): the same id with another count
        // rebuilds that logger's cache entry.
        let loggers: [(u64, &[u8], u32); 4] = [
            (1, &[], 0),
            (2, &bound_a, 2),
            (2, &bound_b, 3),
            (3, &bound_b, 3),
        ];
        let names: [&[u8]; 4] = [b"api", b"ap\"i\n", b"svc", "sv\u{e9}".as_bytes()];
        let shapes = shapes(&mut seed);
        let c = ctx();
        let mut cached = new();
        let mut all = Vec::new();
        for _ in 0..rounds {
            let fields = fields(&mut seed, &shapes, &groups);
            let r = next(&mut seed);
            let trace = (r % 4 == 0).then_some(&c);
            let msg = STRS[(r >> 8) as usize % STRS.len()];
            let ts = 1_763_775_890_123_456_789 + (r >> 40) * 1_000_000;
            let b = body(ts, 1 + (r >> 16) as u8 % 24, trace, msg, &fields);
            let (id, bound, n) = loggers[(r >> 24) as usize % loggers.len()];
            let mut m = meta(names[(r >> 28) as usize % names.len()], id, bound, n);
            m.thread_id = [123, 4567, 89][(r >> 32) as usize % 3];
            m.ring_id = [1, 2][(r >> 36) as usize % 2];
            m.recovered = r % 7 == 0;
            let mut got = Vec::new();
            cached.encode(&view(&b), &m, &mut got);
            let mut want = Vec::new();
            new().encode(&view(&b), &m, &mut want);
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want)
            );
            assert_eq!(got, want);
            all.extend_from_slice(&got);
        }
        all
    }
}
