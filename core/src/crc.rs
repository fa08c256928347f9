//! CRC32C (Castagnoli) of frame bodies.
//!
//! Hand-written because it sits on the producer's hot path: the `crc32c`
//! crate spent about 300 instructions on a 100-byte record body (measured
//! with callgrind on `benches/hot_path`'s workload), mostly in dispatch and
//! alignment handling that ring frames never need. Here an SSE4.2 loop
//! does 8 bytes per `crc32` instruction; other CPUs use the crate.

/// CRC32C of `data`.
#[inline]
pub(crate) fn crc32c(data: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if has_sse42() {
            // SAFETY: the CPU supports SSE4.2 (checked above).
            return unsafe { crc32c_sse42(data) };
        }
    }
    crc32c::crc32c(data)
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn has_sse42() -> bool {
    // Compile-time when the build targets SSE4.2; otherwise std caches the
    // run-time check in an atomic.
    cfg!(target_feature = "sse4.2") || std::arch::is_x86_feature_detected!("sse4.2")
}

/// One step of CRC32C over an 8-byte word: the SSE4.2 `crc32` instruction
/// written as inline assembly, so that it inlines into any function (the
/// intrinsic needs its caller compiled with SSE4.2, which would keep the
/// record writer out of line behind a call).
///
/// # Safety
/// The CPU must support SSE4.2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) unsafe fn crc32_word(crc: u64, word: u64) -> u64 {
    let mut c = crc;
    // SAFETY: `crc32 r64, r64` reads and writes only its two registers;
    // the CPU has it (contract).
    unsafe {
        std::arch::asm!(
            "crc32 {c}, {w}",
            c = inout(reg) c,
            w = in(reg) word,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    c
}

/// # Safety
/// The CPU must support SSE4.2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
unsafe fn crc32c_sse42(data: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};
    let n = data.len();
    let p = data.as_ptr();
    let mut crc: u64 = 0xffff_ffff;
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n, so the 8 bytes are inside `data`.
        let v = unsafe { std::ptr::read_unaligned(p.add(i).cast::<u64>()) };
        crc = _mm_crc32_u64(crc, u64::from_le(v));
        i += 8;
    }
    let mut c32 = crc as u32;
    while i < n {
        // SAFETY: i < n.
        c32 = _mm_crc32_u8(c32, unsafe { *p.add(i) });
        i += 1;
    }
    !c32
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_word_step_matches_the_intrinsic() {
        if !super::has_sse42() {
            return;
        }
        let mut a: u64 = 0xffff_ffff;
        let mut b = a;
        for w in [0u64, 1, u64::MAX, 0x0123_4567_89ab_cdef, 178] {
            // SAFETY: the CPU has SSE4.2 (checked above).
            a = unsafe { super::crc32_word(a, w) };
            // SAFETY: as above.
            b = unsafe { std::arch::x86_64::_mm_crc32_u64(b, w) };
            assert_eq!(a, b);
        }
    }

    #[test]
    fn matches_the_reference_implementation_for_every_length() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 131 + 7) as u8).collect();
        for n in 0..data.len() {
            for start in 0..8.min(data.len() - n) {
                let s = &data[start..start + n];
                assert_eq!(super::crc32c(s), crc32c::crc32c(s), "len {n} at {start}");
            }
        }
        // The check value from the CRC catalogue.
        assert_eq!(super::crc32c(b"123456789"), 0xe306_9283);
    }
}
