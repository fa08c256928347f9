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
}

/// Caps the cache so a program that never retires loggers cannot grow it
/// without bound; on overflow the cache is simply emptied and refilled.
const BOUND_CACHE_MAX: usize = 4096;

/// Per-logger cache of encoded bound fields, keyed by `RecordMeta::logger_id`.
#[derive(Debug, Default)]
pub(crate) struct BoundCache {
    map: HashMap<u64, BoundEntry, BuildHasherDefault<IdHasher>>,
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
    out.extend_from_slice(&buf[..2 * n]);
}

/// Appends `v` in decimal.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends `v` in decimal.
#[inline]
pub(crate) fn push_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
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
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
        true
    } else {
        out.extend_from_slice(if v.is_nan() {
            b"NaN"
        } else if v > 0.0 {
            b"Infinity"
        } else {
            b"-Infinity"
        });
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
        let m = (a * p).round();
        if m / p == a {
            let m = m as u64;
            if v < 0.0 {
                out.push(b'-');
            }
            let div = [1u64, 10, 100, 1000][k];
            push_u64(out, m / div);
            out.push(b'.');
            if k == 0 {
                out.push(b'0');
            } else {
                let mut frac = m % div;
                let mut digits = [b'0'; 3];
                for d in digits[..k].iter_mut().rev() {
                    *d = b'0' + (frac % 10) as u8;
                    frac /= 10;
                }
                out.extend_from_slice(&digits[..k]);
            }
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
    use crate::value::Field;

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
}
