//! The per-thread ring: a single-producer, single-consumer byte queue whose
//! storage is a shared file mapping, so its contents outlive the process.
//!
//! The protocol is the classic bounded SPSC queue with free-running cursors
//! (Lamport 1983; the same shape as rtrb and Quill's `BoundedSPSCQueue`):
//!
//! * `tail` is the producer cursor: the byte position one past the last
//!   committed frame. Only the producer stores it.
//! * `head` is the consumer cursor: everything before it has been read and
//!   may be overwritten. Only the consumer (the flusher) stores it.
//! * Both are `u64` byte counts that only grow; the buffer index is
//!   `pos & (capacity - 1)`, and `tail - head` is the number of bytes in use.
//! * Each side caches the other's cursor and reloads it only when the ring
//!   looks full (producer) or empty (consumer).
//!
//! The producer writes a frame into `[tail, tail + len)`, then publishes it
//! with one Release store of `tail`. The consumer loads `tail` with Acquire,
//! reads the frames, and returns the space with a Release store of `head`,
//! which the producer loads with Acquire before it reuses that space.
//!
//! Frames are 8-byte aligned: an 8-byte header (`len:28 | kind:4` and the
//! CRC32C of the body) and the body padded to 8 bytes. A frame never
//! crosses the end of the buffer: when it would, the producer first writes a
//! padding frame that fills the rest of the buffer.

#[cfg(not(loom))]
pub(crate) mod file;
#[cfg(all(test, loom))]
mod loom_tests;

use crate::sync::{AtomicU32, AtomicU64, Ordering};
use crossbeam_utils::CachePadded;

/// Frame kinds, stored in the top 4 bits of the frame header's first word.
pub(crate) mod kind {
    /// A record body (see `record.rs`).
    pub const RECORD: u8 = 1;
    /// Filler to the end of the buffer; its body is not read.
    pub const PAD: u8 = 2;
    /// A drop report: count, first and last dropped sequence numbers, time.
    pub const DROPS: u8 = 3;
}

/// Size of a frame header.
pub(crate) const FRAME_HEADER: u64 = 8;
/// Largest body length the header can express.
pub(crate) const MAX_BODY: u64 = (1 << 28) - 1;

/// Total frame length for a body of `body_len` bytes.
#[inline(always)]
pub(crate) const fn frame_len(body_len: u64) -> u64 {
    FRAME_HEADER + ((body_len + 7) & !7)
}

/// Packs a frame header.
#[inline(always)]
pub(crate) fn frame_header(kind: u8, body_len: u64, crc: u32) -> [u8; 8] {
    let w0 = (body_len as u32 & MAX_BODY as u32) | ((kind as u32) << 28);
    let mut h = [0u8; 8];
    h[..4].copy_from_slice(&w0.to_ne_bytes());
    h[4..].copy_from_slice(&crc.to_ne_bytes());
    h
}

/// Unpacks a frame header: (kind, body length, crc).
#[inline(always)]
pub(crate) fn parse_frame_header(h: [u8; 8]) -> (u8, u64, u32) {
    let w0 = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]);
    let crc = u32::from_ne_bytes([h[4], h[5], h[6], h[7]]);
    ((w0 >> 28) as u8, (w0 & MAX_BODY as u32) as u64, crc)
}

/// The ring file's first bytes: identity, cursors and producer counters.
///
/// It sits at offset 0 of the mapping and the data area starts at
/// [`HEADER_SIZE`]. The layout is `repr(C)` so another process (recovery)
/// can read it; `version` changes whenever it does.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct RingHeader {
    /// [`MAGIC`], written last when the ring is created.
    pub magic: AtomicU64,
    /// [`VERSION`].
    pub version: u32,
    /// [`HEADER_SIZE`].
    pub header_size: u32,
    /// Data area size in bytes, a power of two.
    pub capacity: u64,
    /// Owning process id.
    pub pid: u32,
    /// This ring's id within its instance.
    pub ring_id: u32,
    /// OS thread id of the producer.
    pub thread_id: u64,
    /// Creation time, ns since the Unix epoch.
    pub created_ns: u64,
    /// The producer's line: its cursor and its record count, which it
    /// stores together (one cache line the flusher reads once per cycle).
    pub prod: CachePadded<ProducerLine>,
    /// Consumer cursor: bytes ever released.
    pub head: CachePadded<AtomicU64>,
    /// Counters the producer writes and the flusher or recovery reads.
    pub counters: CachePadded<ProducerCounters>,
}

/// The producer cursor and the count of committed records.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct ProducerLine {
    /// Producer cursor: bytes ever committed.
    pub tail: AtomicU64,
    /// Records committed (single writer; a statistic).
    pub committed: AtomicU64,
}

/// Producer-written counters in the ring header, other than the cursor.
///
/// Each has a single writer (the producer), so updates are plain
/// load + store, never a read-modify-write.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct ProducerCounters {
    /// Records dropped because the ring was full (all time).
    pub dropped: AtomicU64,
    /// Drops not yet reported in-band by a `DROPS` frame.
    pub pending: AtomicU64,
    /// First sequence number of the pending drops.
    pub pending_first: AtomicU64,
    /// Last sequence number of the pending drops.
    pub pending_last: AtomicU64,
    /// Set to 1 when the producer thread has exited.
    pub closed: AtomicU32,
}

/// `"RINGLOG1"` as a little-endian u64.
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"RINGLOG1");
/// Ring file format version.
pub(crate) const VERSION: u32 = 1;
/// Bytes reserved for the header; the data area starts here.
pub(crate) const HEADER_SIZE: u64 = 4096;
/// Smallest ring capacity.
pub const MIN_CAPACITY: u64 = 4096;
/// Largest ring capacity.
pub const MAX_CAPACITY: u64 = 1 << 29;

const _: () = assert!(std::mem::size_of::<RingHeader>() as u64 <= HEADER_SIZE);

/// The shared ring: header and data area, wherever they live.
///
/// Producer-side and consumer-side state that is not shared lives in
/// [`ProducerCursor`] (on the producer thread) and in the flusher.
pub(crate) struct Ring {
    hdr: *const RingHeader,
    data: Data,
    cap: u64,
    /// The ring's id within its instance.
    pub id: u32,
    /// OS thread id of the producer.
    pub thread_id: u64,
    _owner: Owner,
}

// SAFETY: the header is only accessed through atomics; the data area is
// accessed by one producer (bytes in [tail, head + cap)) and one consumer
// (bytes in [head, tail)), which the cursor protocol keeps disjoint.
unsafe impl Send for Ring {}
// SAFETY: as for Send.
unsafe impl Sync for Ring {}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring")
            .field("id", &self.id)
            .field("cap", &self.cap)
            .finish()
    }
}

#[cfg(not(loom))]
type Data = *mut u8;
#[cfg(loom)]
type Data = Box<[loom::cell::UnsafeCell<u8>]>;

#[cfg(not(loom))]
#[allow(dead_code)] // held only to keep the mapping alive
enum Owner {
    Map(memmap2::MmapRaw),
}
#[cfg(loom)]
#[allow(dead_code)]
enum Owner {
    Heap(Box<RingHeader>),
}

/// The producer's private view: its copy of `tail` and its cached `head`.
#[derive(Debug, Default)]
pub(crate) struct ProducerCursor {
    /// Bytes reserved or committed by this producer (== published tail
    /// between calls).
    pub tail: u64,
    /// Last `head` loaded from the header.
    pub head_cache: u64,
}

impl Ring {
    /// The header.
    #[inline(always)]
    pub(crate) fn header(&self) -> &RingHeader {
        // SAFETY: `hdr` points at a live, initialised header owned by
        // `_owner`, which lives as long as `self`.
        unsafe { &*self.hdr }
    }

    /// Data area size in bytes.
    #[inline(always)]
    pub(crate) fn capacity(&self) -> u64 {
        self.cap
    }

    /// Reserves `len` contiguous bytes (a multiple of 8, at most half the
    /// capacity) and returns their buffer index, writing a padding frame
    /// first when the frame would cross the end. Returns `None` when the
    /// ring is full. Nothing is visible to the consumer until [`commit`].
    ///
    /// [`commit`]: Ring::commit
    #[inline]
    pub(crate) fn reserve(&self, cur: &mut ProducerCursor, len: u64) -> Option<u64> {
        debug_assert!(len % 8 == 0 && len <= self.cap / 2);
        let pos = cur.tail & (self.cap - 1);
        let to_end = self.cap - pos;
        let pad = if len > to_end { to_end } else { 0 };
        let need = pad + len;
        if self.cap - (cur.tail - cur.head_cache) < need {
            // Ordering: Acquire pairs with the Release store of `head` in
            // `release`: the consumer's reads of the bytes we are about to
            // overwrite happen before our writes.
            cur.head_cache = self.header().head.load(Ordering::Acquire);
            if self.cap - (cur.tail - cur.head_cache) < need {
                return None;
            }
        }
        if pad > 0 {
            self.write(pos, &frame_header(kind::PAD, pad - FRAME_HEADER, 0));
            cur.tail += pad;
        }
        Some(cur.tail & (self.cap - 1))
    }

    /// Publishes `len` reserved bytes to the consumer.
    #[inline(always)]
    pub(crate) fn commit(&self, cur: &mut ProducerCursor, len: u64) {
        cur.tail += len;
        // Ordering: Release pairs with the Acquire load of `tail` in
        // `readable`: the frame bytes written before this store are visible
        // to the consumer once it sees the new tail.
        self.header().prod.tail.store(cur.tail, Ordering::Release);
    }

    /// Bytes the producer has in use after its last commit, by its cached
    /// view of `head` (an over-estimate: the consumer may have released more).
    #[inline(always)]
    pub(crate) fn used_estimate(&self, cur: &ProducerCursor) -> u64 {
        cur.tail - cur.head_cache
    }

    /// The consumer's view: `(head, tail)`, the committed bytes not yet
    /// released.
    #[inline]
    pub(crate) fn readable(&self) -> (u64, u64) {
        // Ordering: Relaxed: only the consumer stores `head`, so it reads
        // its own last store.
        let head = self.header().head.load(Ordering::Relaxed);
        // Ordering: Acquire pairs with the Release store in `commit`.
        let tail = self.header().prod.tail.load(Ordering::Acquire);
        (head, tail)
    }

    /// Returns the space before `new_head` to the producer.
    #[inline]
    pub(crate) fn release(&self, new_head: u64) {
        // Ordering: Release pairs with the Acquire load of `head` in
        // `reserve`: our reads of the released frames happen before the
        // producer overwrites them.
        self.header().head.store(new_head, Ordering::Release);
    }

    /// Reads the frame header at cursor `pos` (consumer side).
    #[inline]
    pub(crate) fn frame_at(&self, pos: u64) -> (u8, u64, u32) {
        let mut h = [0u8; 8];
        self.read(pos & (self.cap - 1), &mut h);
        parse_frame_header(h)
    }

    /// Checks that a frame of body length `body` at cursor `pos` lies
    /// within `[pos, tail)` and does not cross the buffer end.
    #[inline]
    pub(crate) fn frame_fits(&self, pos: u64, body: u64, tail: u64) -> bool {
        let len = frame_len(body);
        let idx = pos & (self.cap - 1);
        len <= tail - pos && idx + len <= self.cap
    }
}

#[cfg(not(loom))]
impl Ring {
    /// Pointer to buffer index `idx` (producer writes records through it).
    #[inline(always)]
    pub(crate) fn ptr(&self, idx: u64) -> *mut u8 {
        debug_assert!(idx < self.cap);
        // SAFETY: idx < cap and the data area is `cap` bytes long.
        unsafe { self.data.add(idx as usize) }
    }

    /// Copies `src` to buffer index `idx`.
    #[inline(always)]
    pub(crate) fn write(&self, idx: u64, src: &[u8]) {
        debug_assert!(idx + src.len() as u64 <= self.cap);
        // SAFETY: the caller (producer) owns [idx, idx+len) by the cursor
        // protocol, and the range is inside the data area.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.ptr(idx), src.len()) }
    }

    /// Copies buffer bytes at `idx` into `dst`.
    #[inline(always)]
    pub(crate) fn read(&self, idx: u64, dst: &mut [u8]) {
        dst.copy_from_slice(self.slice(idx, dst.len() as u64));
    }

    /// The committed bytes at buffer index `idx` (consumer side).
    ///
    /// The slice stays valid while the caller has not released the frame
    /// that holds it: the producer does not write there until then.
    #[inline(always)]
    pub(crate) fn slice(&self, idx: u64, len: u64) -> &[u8] {
        assert!(idx + len <= self.cap);
        // SAFETY: in bounds (asserted); the bytes are committed and not yet
        // released, so no producer writes them while the slice is alive.
        unsafe { std::slice::from_raw_parts(self.ptr(idx), len as usize) }
    }
}

#[cfg(loom)]
impl Ring {
    /// A heap-backed ring for the loom model tests.
    pub(crate) fn new_heap(cap: u64) -> Ring {
        let hdr = Box::new(RingHeader {
            magic: AtomicU64::new(MAGIC),
            version: VERSION,
            header_size: HEADER_SIZE as u32,
            capacity: cap,
            pid: 0,
            ring_id: 0,
            thread_id: 0,
            created_ns: 0,
            prod: CachePadded::new(ProducerLine {
                tail: AtomicU64::new(0),
                committed: AtomicU64::new(0),
            }),
            head: CachePadded::new(AtomicU64::new(0)),
            counters: CachePadded::new(ProducerCounters {
                dropped: AtomicU64::new(0),
                pending: AtomicU64::new(0),
                pending_first: AtomicU64::new(0),
                pending_last: AtomicU64::new(0),
                closed: AtomicU32::new(0),
            }),
        });
        let data = (0..cap)
            .map(|_| loom::cell::UnsafeCell::new(0u8))
            .collect::<Vec<_>>()
            .into_boxed_slice();
        Ring {
            hdr: &*hdr as *const RingHeader,
            data,
            cap,
            id: 0,
            thread_id: 0,
            _owner: Owner::Heap(hdr),
        }
    }

    pub(crate) fn write(&self, idx: u64, src: &[u8]) {
        for (i, b) in src.iter().enumerate() {
            // SAFETY: loom checks that no other access to this cell races.
            self.data[idx as usize + i].with_mut(|p| unsafe { *p = *b });
        }
    }

    pub(crate) fn read(&self, idx: u64, dst: &mut [u8]) {
        for (i, d) in dst.iter_mut().enumerate() {
            // SAFETY: loom checks that no other access to this cell races.
            *d = self.data[idx as usize + i].with(|p| unsafe { *p });
        }
    }
}
