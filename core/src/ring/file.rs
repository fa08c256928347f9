//! Creating a ring as a preallocated, shared file mapping.

use super::*;
use crate::os;
use std::io;
use std::path::Path;

impl Ring {
    /// Creates a new ring file at `path` (mode 0600, `O_EXCL`, `O_NOFOLLOW`),
    /// preallocates it so a full disk cannot raise SIGBUS later, maps it
    /// shared, and initialises the header.
    ///
    /// # Errors
    /// Any error from creating, sizing or mapping the file.
    pub(crate) fn create(path: &Path, cap: u64, ring_id: u32, thread_id: u64) -> io::Result<Ring> {
        debug_assert!(cap.is_power_of_two() && (MIN_CAPACITY..=MAX_CAPACITY).contains(&cap));
        let file = os::open_file(
            path,
            libc::O_RDWR | libc::O_CREAT | libc::O_EXCL,
            0o600,
            false,
        )?;
        // Whatever fails from here on, the half-made file goes.
        let cleanup = |e: io::Error| {
            let _ = std::fs::remove_file(path);
            e
        };
        let total = HEADER_SIZE + cap;
        use std::os::fd::AsRawFd;
        // SAFETY: a valid descriptor we own; offsets are in range.
        let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, total as libc::off_t) };
        if rc != 0 {
            let e = io::Error::from_raw_os_error(rc);
            // Filesystems without fallocate support: fall back to set_len,
            // which still gives the file its size (tmpfs supports fallocate).
            if rc != libc::EOPNOTSUPP && rc != libc::EINVAL {
                return Err(cleanup(e));
            }
            file.set_len(total).map_err(cleanup)?;
        }
        // MAP_POPULATE maps every page now, so the producer's first pass
        // over the ring takes no page faults on the hot path.
        let map = memmap2::MmapOptions::new()
            .len(total as usize)
            .populate()
            .map_raw(&file)
            .map_err(cleanup)?;
        let base = map.as_mut_ptr();
        let hdr = base as *mut RingHeader;
        // SAFETY: the new, zero-filled, page-aligned mapping holds the header and nobody else maps
        // it yet; zero bytes are valid atomics, so the fields and then the magic can be written.
        unsafe {
            std::ptr::addr_of_mut!((*hdr).version).write(VERSION);
            std::ptr::addr_of_mut!((*hdr).header_size).write(HEADER_SIZE as u32);
            std::ptr::addr_of_mut!((*hdr).capacity).write(cap);
            std::ptr::addr_of_mut!((*hdr).pid).write(std::process::id());
            std::ptr::addr_of_mut!((*hdr).ring_id).write(ring_id);
            std::ptr::addr_of_mut!((*hdr).thread_id).write(thread_id);
            std::ptr::addr_of_mut!((*hdr).created_ns).write(os::now_ns());
            // Ordering: Release so that a reader that sees the magic
            // (Acquire) also sees the fields above.
            (*hdr).magic.store(MAGIC, Ordering::Release);
        }
        Ok(Ring {
            hdr,
            // SAFETY: HEADER_SIZE < total, so the data area is in the mapping.
            data: unsafe { base.add(HEADER_SIZE as usize) },
            cap,
            id: ring_id,
            thread_id,
            _owner: Owner::Map(map),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn ring(cap: u64) -> (tempfile::TempDir, Ring) {
        let d = tempfile::tempdir().unwrap();
        let r = Ring::create(&d.path().join("r"), cap, 1, 7).unwrap();
        (d, r)
    }

    #[test]
    fn ring_files_are_private_and_preallocated() {
        let (d, _r) = ring(4096);
        let md = std::fs::metadata(d.path().join("r")).unwrap();
        assert_eq!(md.permissions().mode() & 0o777, 0o600);
        use std::os::unix::fs::MetadataExt;
        assert_eq!(md.len(), HEADER_SIZE + 4096);
        assert!(md.blocks() * 512 >= HEADER_SIZE + 4096);
    }

    #[test]
    fn an_existing_file_is_never_reused() {
        let (d, _r) = ring(4096);
        assert!(Ring::create(&d.path().join("r"), 4096, 2, 7).is_err());
    }

    #[test]
    fn frames_wrap_with_a_padding_frame_and_come_back_in_order() {
        let (_d, r) = ring(4096);
        let mut cur = ProducerCursor::default();
        let mut next_read = 0u64;
        let mut expect = 0u32;
        for i in 0..2000u32 {
            let body = 8 + (i % 200) as u64;
            let len = frame_len(body);
            let idx = loop {
                if let Some(idx) = r.reserve(&mut cur, len) {
                    break idx;
                }
                // Consume everything to make room.
                let (mut pos, tail) = r.readable();
                while pos < tail {
                    let (k, b, _) = r.frame_at(pos);
                    assert!(r.frame_fits(pos, b, tail));
                    if k == kind::RECORD {
                        let mut v = [0u8; 4];
                        r.read((pos + 8) & 4095, &mut v);
                        assert_eq!(u32::from_ne_bytes(v), expect);
                        expect += 1;
                    } else {
                        assert_eq!(k, kind::PAD);
                    }
                    pos += frame_len(b);
                }
                next_read = pos;
                r.release(pos);
            };
            r.write(idx, &frame_header(kind::RECORD, body, 0));
            r.write(idx + 8, &i.to_ne_bytes());
            r.commit(&mut cur, len);
        }
        assert!(next_read > 4096 * 10, "the ring wrapped many times");
    }
}
