//! Pieces shared by the fuzz targets and the seed-corpus generator: a strict
//! JSON line checker, a record body builder, and the mapping from fuzz input
//! to the files of one instance directory for the recovery target.

use ringlog::fuzzing::{self as fz, RingHeaderFields};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

// ------------------------------------------------------------ strict JSON

/// A JSON value that refuses duplicate keys in any object.
struct Strict;

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_str<E>(self, _: &str) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        while seq.next_element::<Strict>()?.is_some() {}
        Ok(Strict)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut keys = HashSet::new();
        while let Some(k) = map.next_key::<String>()? {
            if !keys.insert(k.clone()) {
                return Err(de::Error::custom(format!("duplicate key {k:?}")));
            }
            map.next_value::<Strict>()?;
        }
        Ok(Strict)
    }
}

/// The record metadata the encoder checks use: logger `fuzz`, no bound
/// fields, recovered.
pub fn plain_meta() -> ringlog::encode::RecordMeta<'static> {
    ringlog::encode::RecordMeta {
        logger: b"fuzz",
        logger_id: 1,
        bound: ringlog::record::Fields::empty(),
        thread_id: 7,
        ring_id: 0,
        recovered: true,
    }
}

/// Checks that `out` is NDJSON: every line (each ends with `\n`) is exactly
/// one JSON object, strict RFC 8259 with no duplicate key in any object.
/// Returns the parsed lines. Panics, naming the line, on the first bad one.
pub fn check_json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    if !out.is_empty() {
        assert_eq!(
            out.last(),
            Some(&b'\n'),
            "output does not end with a newline"
        );
    }
    let mut lines = Vec::new();
    for line in out.split_inclusive(|&b| b == b'\n') {
        let line = &line[..line.len() - 1];
        let show = || String::from_utf8_lossy(line).into_owned();
        assert_eq!(line.first(), Some(&b'{'), "not an object: {:?}", show());
        let mut d = serde_json::Deserializer::from_slice(line);
        if let Err(e) = Strict::deserialize(&mut d).and_then(|_| d.end()) {
            panic!("invalid JSON line ({e}): {:?}", show());
        }
        let v: serde_json::Value = serde_json::from_slice(line).expect("checked above");
        lines.push(v);
    }
    lines
}

// ------------------------------------------------------------ record bodies

/// A field value for [`record_body`].
#[derive(Clone, Debug)]
pub enum Val<'a> {
    /// `null`.
    Null,
    /// Text.
    Str(&'a [u8]),
    /// Signed integer.
    I64(i64),
    /// Unsigned integer.
    U64(u64),
    /// Float.
    F64(f64),
    /// Boolean.
    Bool(bool),
    /// Raw bytes.
    Bytes(&'a [u8]),
    /// Nested fields.
    Group(Vec<(&'a [u8], Val<'a>)>),
    /// A list (members are written with empty keys).
    Array(Vec<Val<'a>>),
}

fn put_fields(out: &mut Vec<u8>, fields: &[(&[u8], Val<'_>)]) {
    use ringlog::record::tag;
    for (key, v) in fields {
        let t = match v {
            Val::Null => tag::NULL,
            Val::Str(_) => tag::STR,
            Val::I64(_) => tag::I64,
            Val::U64(_) => tag::U64,
            Val::F64(_) => tag::F64,
            Val::Bool(_) => tag::BOOL,
            Val::Bytes(_) => tag::BYTES,
            Val::Group(_) => tag::GROUP,
            Val::Array(_) => tag::ARRAY,
        };
        out.extend_from_slice(&[t, 0]);
        out.extend_from_slice(&(key.len() as u16).to_ne_bytes());
        out.extend_from_slice(key);
        match v {
            Val::Null => {}
            Val::Str(s) | Val::Bytes(s) => {
                out.extend_from_slice(&(s.len() as u32).to_ne_bytes());
                out.extend_from_slice(s);
            }
            Val::I64(n) => out.extend_from_slice(&n.to_ne_bytes()),
            Val::U64(n) => out.extend_from_slice(&n.to_ne_bytes()),
            Val::F64(n) => out.extend_from_slice(&n.to_bits().to_ne_bytes()),
            Val::Bool(b) => out.push(u8::from(*b)),
            Val::Group(g) => {
                let mut inner = Vec::new();
                put_fields(&mut inner, g);
                out.extend_from_slice(&(g.len() as u32).to_ne_bytes());
                out.extend_from_slice(&(inner.len() as u32).to_ne_bytes());
                out.extend_from_slice(&inner);
            }
            Val::Array(items) => {
                let members: Vec<(&[u8], Val<'_>)> =
                    items.iter().map(|v| (&b""[..], v.clone())).collect();
                let mut inner = Vec::new();
                put_fields(&mut inner, &members);
                out.extend_from_slice(&(items.len() as u32).to_ne_bytes());
                out.extend_from_slice(&(inner.len() as u32).to_ne_bytes());
                out.extend_from_slice(&inner);
            }
        }
    }
}

/// A record body in the layout `ringlog::record` documents.
pub fn record_body(
    ts_ns: u64,
    seq: u64,
    level: u8,
    trace: Option<([u8; 16], [u8; 8], u8)>,
    msg: &[u8],
    fields: &[(&[u8], Val<'_>)],
) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&ts_ns.to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&1u64.to_ne_bytes());
    b.push(level);
    b.push(u8::from(trace.is_some()));
    b.extend_from_slice(&(fields.len() as u16).to_ne_bytes());
    b.extend_from_slice(&(msg.len() as u32).to_ne_bytes());
    if let Some((t, s, f)) = trace {
        b.extend_from_slice(&t);
        b.extend_from_slice(&s);
        b.extend_from_slice(&[f, 0, 0, 0, 0, 0, 0, 0]);
    }
    b.extend_from_slice(msg);
    put_fields(&mut b, fields);
    b
}

// ------------------------------------------------------- recovery input

/// Input layout of the `recover` target.
///
/// ```text
/// [0]       mode: bits 0-1  0, 1: ring header built with sane cursors
///                           2:    ring header built with the cursors verbatim
///                           3:    the ring file is taken verbatim
///                 bit 2     recompute the CRC of every frame on the walk
///                 bit 3     recompute the CRC of every metadata entry
///                 bit 4     the ring file is also written as ring-1
///                 bit 5     the metadata file starts with its magic
///                 bit 6     pending drops in the header
///                 bit 7     no metadata file
/// [1]       bits 0-6: capacity 4096 << (value % 3)
///           bit 7:    committed and dropped counters in the header
/// [2..10]   head (u64 LE; rounded down to a multiple of 8 in sane mode)
/// [10..18]  sane mode: bytes in use / 8 (u64 LE, modulo capacity / 8 + 1);
///           verbatim mode: tail
/// [18..20]  metadata length (u16 LE)
/// [20..44]  pending count, first and last sequence numbers (3 x u64 LE)
/// [44..60]  committed and dropped counters (2 x u64 LE)
/// [60..]    metadata bytes, then the ring data: from the head onwards
///           (wrapping at the capacity), or the whole file in mode 3
/// ```
///
/// Short inputs read as if padded with zeros.
pub const PREFIX: usize = 60;

/// Bit of byte 1 of the `recover` input: header counters from the input.
pub const COUNTERS: u8 = 1 << 7;

/// Mode bits of the `recover` input (see [`PREFIX`]).
pub mod mode {
    /// Header with sane cursors.
    pub const SANE: u8 = 0;
    /// Header with the cursors verbatim.
    pub const RAW_CURSORS: u8 = 2;
    /// The ring file verbatim.
    pub const RAW_FILE: u8 = 3;
    /// Recompute frame CRCs.
    pub const FIX_FRAME_CRC: u8 = 1 << 2;
    /// Recompute metadata entry CRCs.
    pub const FIX_META_CRC: u8 = 1 << 3;
    /// A second ring file.
    pub const SECOND_RING: u8 = 1 << 4;
    /// Prepend the metadata magic.
    pub const META_MAGIC: u8 = 1 << 5;
    /// Pending drops.
    pub const PENDING: u8 = 1 << 6;
    /// No metadata file.
    pub const NO_META: u8 = 1 << 7;
}

/// The files of one instance directory, built from fuzz input.
#[derive(Debug)]
pub struct Instance {
    /// `ring-0` (and `ring-1` when `second_ring`).
    pub ring: Vec<u8>,
    /// `meta`, if any.
    pub meta: Option<Vec<u8>>,
    /// Write the ring as `ring-1` too.
    pub second_ring: bool,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Builds the instance files for one `recover` input.
pub fn instance(data: &[u8]) -> Instance {
    let mut p = [0u8; PREFIX];
    let n = data.len().min(PREFIX);
    p[..n].copy_from_slice(&data[..n]);
    let rest = &data[n..];
    let m = p[0];
    let meta_len = (u16::from_le_bytes([p[18], p[19]]) as usize).min(rest.len());
    let (meta_bytes, ring_bytes) = rest.split_at(meta_len);

    let meta = if m & mode::NO_META != 0 {
        None
    } else {
        let mut v = Vec::with_capacity(8 + meta_bytes.len());
        if m & mode::META_MAGIC != 0 {
            v.extend_from_slice(&fz::META_MAGIC);
        }
        v.extend_from_slice(meta_bytes);
        if m & mode::FIX_META_CRC != 0 {
            fix_meta_crcs(&mut v);
        }
        Some(v)
    };

    let ring = if m & 3 == mode::RAW_FILE {
        ring_bytes.to_vec()
    } else {
        let cap = ringlog::MIN_CAPACITY << ((p[1] & !COUNTERS) % 3);
        let (head, tail) = if m & 3 == mode::RAW_CURSORS {
            (u64_at(&p, 2), u64_at(&p, 10))
        } else {
            let head = u64_at(&p, 2) & !7;
            let used = (u64_at(&p, 10) % (cap / 8 + 1)) * 8;
            (head, head.wrapping_add(used))
        };
        let (pending, pending_first, pending_last) = if m & mode::PENDING != 0 {
            (u64_at(&p, 20), u64_at(&p, 28), u64_at(&p, 36))
        } else {
            (0, 0, 0)
        };
        let (committed, dropped) = if p[1] & COUNTERS != 0 {
            (u64_at(&p, 44), u64_at(&p, 52))
        } else {
            (0, 0)
        };
        let hdr = fz::ring_header(&RingHeaderFields {
            capacity: cap,
            tail,
            head,
            ring_id: 0,
            thread_id: 7,
            pending,
            pending_first,
            pending_last,
            committed,
            dropped,
        });
        let mut area = vec![0u8; cap as usize];
        let mask = cap - 1;
        for (i, &b) in ring_bytes.iter().take(cap as usize).enumerate() {
            area[(head.wrapping_add(i as u64) & mask) as usize] = b;
        }
        if m & mode::FIX_FRAME_CRC != 0 {
            fix_frame_crcs(&mut area, head, tail);
        }
        let mut f = hdr;
        f.extend_from_slice(&area);
        f
    };
    Instance {
        ring,
        meta,
        second_ring: m & mode::SECOND_RING != 0,
    }
}

/// Recomputes the CRC of each frame the recovery walk would check, so
/// the walk gets past the CRC to the structure checks and the decoder.
fn fix_frame_crcs(area: &mut [u8], head: u64, tail: u64) {
    let cap = area.len() as u64;
    let mask = cap - 1;
    if !head.is_multiple_of(8) || !tail.is_multiple_of(8) {
        return; // recovery refuses such a header before any walk
    }
    let mut pos = head;
    // Bounded like the walk: at most one step per 8 bytes of the ring.
    let mut steps = cap / 8 + 1;
    while pos < tail && steps > 0 {
        steps -= 1;
        let idx = (pos & mask) as usize;
        let h: [u8; 8] = area[idx..idx + 8].try_into().expect("8 bytes");
        let (kind, body, _) = fz::parse_frame_header(h);
        let len = fz::frame_len(body);
        let fits = len <= tail - pos && idx as u64 + len <= cap;
        if fits && (kind == fz::KIND_RECORD || kind == fz::KIND_DROPS) {
            let start = idx + 8;
            let crc = fz::crc32c(&area[start..start + body as usize]);
            area[idx..idx + 8].copy_from_slice(&fz::frame_header(kind, body, crc));
            pos = pos.saturating_add(len);
        } else if fits && kind == fz::KIND_PAD && idx as u64 + len == cap {
            pos = pos.saturating_add(len);
        } else {
            pos = pos.saturating_add(8);
        }
    }
}

/// Recomputes the CRC of each metadata entry after the magic.
fn fix_meta_crcs(m: &mut [u8]) {
    let mut at = fz::META_MAGIC.len();
    while at + 8 <= m.len() {
        let len = u32::from_ne_bytes(m[at..at + 4].try_into().expect("4 bytes")) as usize;
        let Some(end) = (at + 8).checked_add(len).filter(|&e| e <= m.len()) else {
            return;
        };
        let crc = fz::crc32c(&m[at + 8..end]);
        m[at + 4..at + 8].copy_from_slice(&crc.to_ne_bytes());
        at = end;
    }
}

/// A `recover` input that rebuilds `ring` (a whole ring file) and `meta`
/// with mode `m` (and the header counters when `counters`). In the
/// built-header modes the cursors, pending drops and counters come from
/// `hdr` and the data is the unconsumed part of `ring`.
pub fn recover_input(
    m: u8,
    counters: bool,
    ring: &[u8],
    meta: &[u8],
    hdr: &RingHeaderFields,
) -> Vec<u8> {
    let mut v = vec![0u8; PREFIX];
    v[0] = m;
    let cap_shift = (hdr.capacity / ringlog::MIN_CAPACITY).trailing_zeros() as u8;
    v[1] = cap_shift | if counters { COUNTERS } else { 0 };
    v[2..10].copy_from_slice(&hdr.head.to_le_bytes());
    let used = hdr.tail - hdr.head;
    if m & 3 == mode::RAW_CURSORS {
        v[10..18].copy_from_slice(&hdr.tail.to_le_bytes());
    } else {
        v[10..18].copy_from_slice(&(used / 8).to_le_bytes());
    }
    v[18..20].copy_from_slice(&(meta.len() as u16).to_le_bytes());
    v[20..28].copy_from_slice(&hdr.pending.to_le_bytes());
    v[28..36].copy_from_slice(&hdr.pending_first.to_le_bytes());
    v[36..44].copy_from_slice(&hdr.pending_last.to_le_bytes());
    v[44..52].copy_from_slice(&hdr.committed.to_le_bytes());
    v[52..60].copy_from_slice(&hdr.dropped.to_le_bytes());
    v.extend_from_slice(meta);
    if m & 3 == mode::RAW_FILE {
        v.extend_from_slice(ring);
    } else {
        let area = &ring[fz::RING_HEADER_SIZE as usize..];
        let mask = hdr.capacity - 1;
        for i in 0..used {
            v.push(area[((hdr.head + i) & mask) as usize]);
        }
    }
    v
}
