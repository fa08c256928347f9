//! Model checks of the reserve/commit/read/release protocol under loom.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p ringlog --release --lib ring`.
//! The data area is made of loom cells, so loom reports a data race if the
//! cursor orderings ever let the producer overwrite bytes the consumer is
//! still reading, or the consumer read bytes before they are committed.

use super::*;
use loom::sync::Arc;
use loom::thread;

/// Producer: pushes `n` frames with bodies of `sizes[i]` bytes, each body
/// filled with the frame's index; spins (yielding) while the ring is full.
fn produce(r: &Ring, n: u32, sizes: &[u64]) {
    let mut cur = ProducerCursor::default();
    for i in 0..n {
        let body = sizes[i as usize % sizes.len()];
        let len = frame_len(body);
        let idx = loop {
            if let Some(idx) = r.reserve(&mut cur, len) {
                break idx;
            }
            thread::yield_now();
        };
        r.write(idx, &frame_header(kind::RECORD, body, 0));
        r.write(idx + 8, &vec![i as u8; body as usize]);
        r.commit(&mut cur, len);
    }
}

/// Consumer: reads until `n` records arrived, checking order and content.
fn consume(r: &Ring, n: u32) {
    let mut got = 0u32;
    while got < n {
        let (mut pos, tail) = r.readable();
        if pos == tail {
            thread::yield_now();
            continue;
        }
        while pos < tail {
            let (k, body, _) = r.frame_at(pos);
            assert!(r.frame_fits(pos, body, tail), "frame out of bounds");
            if k == kind::RECORD {
                let mut b = vec![0u8; body as usize];
                r.read((pos + 8) & (r.capacity() - 1), &mut b);
                assert!(
                    b.iter().all(|&x| x == got as u8),
                    "record {got} corrupt: {b:?}"
                );
                got += 1;
            } else {
                assert_eq!(k, kind::PAD);
            }
            pos += frame_len(body);
        }
        r.release(pos);
    }
}

#[test]
fn frames_arrive_whole_and_in_order() {
    loom::model(|| {
        let r = Arc::new(Ring::new_heap(64));
        let p = r.clone();
        let h = thread::spawn(move || produce(&p, 3, &[8]));
        consume(&r, 3);
        h.join().unwrap();
    });
}

#[test]
fn frames_wrap_around_through_a_padding_frame() {
    // 64-byte ring, 24-byte frames: the third frame does not fit in the
    // 16 bytes left at the end and forces a padding frame and a wrap.
    loom::model(|| {
        let r = Arc::new(Ring::new_heap(64));
        let p = r.clone();
        let h = thread::spawn(move || produce(&p, 4, &[16]));
        consume(&r, 4);
        h.join().unwrap();
    });
}
