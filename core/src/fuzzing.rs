//! Layout helpers for the fuzz targets in `fuzz/`: they build ring and
//! metadata files from fuzz input, and this keeps the on-disk layout in one
//! place. Not a stable API.

use crate::ring::{ProducerCounters, ProducerLine, RingHeader};
use std::mem::offset_of;

/// Bytes of header before a ring file's data area.
pub const RING_HEADER_SIZE: u64 = crate::ring::HEADER_SIZE;
/// Frame kind of a record.
pub const KIND_RECORD: u8 = crate::ring::kind::RECORD;
/// Frame kind of padding to the end of the buffer.
pub const KIND_PAD: u8 = crate::ring::kind::PAD;
/// Frame kind of a drop report.
pub const KIND_DROPS: u8 = crate::ring::kind::DROPS;
/// Size of a drop report body.
pub const DROPS_BODY: u64 = crate::producer::DROPS_BODY;
/// The metadata file's first bytes.
pub const META_MAGIC: [u8; 8] = crate::meta::MAGIC;
/// The metadata file's name in an instance directory.
pub const META_FILE: &str = crate::meta::FILE_NAME;

/// The cursors and counters a ring file header holds.
#[derive(Clone, Copy, Debug, Default)]
pub struct RingHeaderFields {
    /// Data area size (recovery accepts a power of two in
    /// `MIN_CAPACITY..=MAX_CAPACITY`).
    pub capacity: u64,
    /// Producer cursor.
    pub tail: u64,
    /// Consumer cursor.
    pub head: u64,
    /// The ring's id within its instance.
    pub ring_id: u32,
    /// OS thread id of the producer.
    pub thread_id: u64,
    /// Drops not yet reported in-band.
    pub pending: u64,
    /// First sequence number of the pending drops.
    pub pending_first: u64,
    /// Last sequence number of the pending drops.
    pub pending_last: u64,
    /// Records committed (all time).
    pub committed: u64,
    /// Records dropped because the ring was full (all time).
    pub dropped: u64,
}

/// A ring file header ([`RING_HEADER_SIZE`] bytes) with the current magic
/// and version and these fields.
pub fn ring_header(f: &RingHeaderFields) -> Vec<u8> {
    let mut h = vec![0u8; RING_HEADER_SIZE as usize];
    let mut put = |at: usize, b: &[u8]| h[at..at + b.len()].copy_from_slice(b);
    put(
        offset_of!(RingHeader, magic),
        &crate::ring::MAGIC.to_ne_bytes(),
    );
    put(
        offset_of!(RingHeader, version),
        &crate::ring::VERSION.to_ne_bytes(),
    );
    put(
        offset_of!(RingHeader, header_size),
        &(RING_HEADER_SIZE as u32).to_ne_bytes(),
    );
    put(offset_of!(RingHeader, capacity), &f.capacity.to_ne_bytes());
    put(offset_of!(RingHeader, ring_id), &f.ring_id.to_ne_bytes());
    put(
        offset_of!(RingHeader, thread_id),
        &f.thread_id.to_ne_bytes(),
    );
    put(
        offset_of!(RingHeader, prod) + offset_of!(ProducerLine, tail),
        &f.tail.to_ne_bytes(),
    );
    put(
        offset_of!(RingHeader, prod) + offset_of!(ProducerLine, committed),
        &f.committed.to_ne_bytes(),
    );
    put(offset_of!(RingHeader, head), &f.head.to_ne_bytes());
    let c = offset_of!(RingHeader, counters);
    put(
        c + offset_of!(ProducerCounters, dropped),
        &f.dropped.to_ne_bytes(),
    );
    put(
        c + offset_of!(ProducerCounters, pending),
        &f.pending.to_ne_bytes(),
    );
    put(
        c + offset_of!(ProducerCounters, pending_first),
        &f.pending_first.to_ne_bytes(),
    );
    put(
        c + offset_of!(ProducerCounters, pending_last),
        &f.pending_last.to_ne_bytes(),
    );
    h
}

/// Reads the fields of a ring file header (`None` if `file` is shorter
/// than a header). Checks nothing: recovery does that.
pub fn parse_ring_header(file: &[u8]) -> Option<RingHeaderFields> {
    let h = file.get(..RING_HEADER_SIZE as usize)?;
    let u64_at = |at: usize| u64::from_ne_bytes(h[at..at + 8].try_into().expect("8 bytes"));
    let c = offset_of!(RingHeader, counters);
    Some(RingHeaderFields {
        capacity: u64_at(offset_of!(RingHeader, capacity)),
        tail: u64_at(offset_of!(RingHeader, prod) + offset_of!(ProducerLine, tail)),
        head: u64_at(offset_of!(RingHeader, head)),
        ring_id: u32::from_ne_bytes(
            h[offset_of!(RingHeader, ring_id)..][..4]
                .try_into()
                .expect("4 bytes"),
        ),
        thread_id: u64_at(offset_of!(RingHeader, thread_id)),
        pending: u64_at(c + offset_of!(ProducerCounters, pending)),
        pending_first: u64_at(c + offset_of!(ProducerCounters, pending_first)),
        pending_last: u64_at(c + offset_of!(ProducerCounters, pending_last)),
        committed: u64_at(offset_of!(RingHeader, prod) + offset_of!(ProducerLine, committed)),
        dropped: u64_at(c + offset_of!(ProducerCounters, dropped)),
    })
}

/// Packs a frame header: kind, body length, CRC32C of the body.
pub fn frame_header(kind: u8, body_len: u64, crc: u32) -> [u8; 8] {
    crate::ring::frame_header(kind, body_len, crc)
}

/// Unpacks a frame header: (kind, body length, CRC32C of the body).
pub fn parse_frame_header(h: [u8; 8]) -> (u8, u64, u32) {
    crate::ring::parse_frame_header(h)
}

/// Total length of a frame whose body is `body_len` bytes.
pub fn frame_len(body_len: u64) -> u64 {
    crate::ring::frame_len(body_len)
}

/// Appends one entry (type tag `t`, `key`) to a call-site key table, as
/// `Logger::site` writes them. `key` must be under 65,536 bytes.
pub fn push_site_key(table: &mut Vec<u8>, t: u8, key: &[u8]) {
    crate::site::push_key(table, t, key)
}

/// The CRC32C that frames and metadata entries carry.
pub fn crc32c(data: &[u8]) -> u32 {
    crate::crc::crc32c(data)
}
