//! Producer timestamps: wall-clock ns since the Unix epoch, read from the
//! CPU's time-stamp counter when it is invariant, else `CLOCK_REALTIME`.
//!
//! `clock_gettime` costs about 29 ns on the machine the benchmarks ran on,
//! a third of a log call (`benches/README.md`, "Hot path"); `rdtsc` plus a
//! multiply costs about a third of that. The counter is turned into wall
//! time with a calibration (counter and wall clock sampled together, and the
//! counter's rate) that the flusher refreshes about once a second, so the
//! result follows `CLOCK_REALTIME`, including steps and NTP slewing, within
//! that second. Until the first calibration, and on CPUs without an
//! invariant counter, `now_ns` reads `CLOCK_REALTIME` directly.
//!
//! The calibration is published with a sequence lock: three words and a
//! sequence number, so the producer reads it without a lock or a
//! read-modify-write.

use crate::sync::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Sequence number: odd while a writer updates the words below; 0 means
/// never calibrated.
static SEQ: AtomicU64 = AtomicU64::new(0);
/// Counter value at the calibration point.
static TSC0: AtomicU64 = AtomicU64::new(0);
/// Wall-clock ns at the calibration point.
static NS0: AtomicU64 = AtomicU64::new(0);
/// ns per counter tick, as a 32.32 fixed-point number.
static MULT: AtomicU64 = AtomicU64::new(0);
/// Writers (flushers of several runtimes) take turns.
static WRITER: Mutex<Option<(u64, u64)>> = Mutex::new(None);

/// Wall-clock time in ns since the Unix epoch, as producers stamp records.
///
/// ```
/// let t = ringlog::clock::now_ns();
/// assert!(t > 1_600_000_000_000_000_000);
/// ```
#[inline(always)]
pub fn now_ns() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(ns) = tsc_now() {
            return ns;
        }
    }
    crate::os::now_ns()
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn tsc_now() -> Option<u64> {
    loop {
        // Ordering: Acquire pairs with the Release increments in
        // `calibrate`: the words read below are at least that new.
        let s1 = SEQ.load(Ordering::Acquire);
        if s1 == 0 {
            return None;
        }
        if s1 & 1 == 1 {
            std::hint::spin_loop();
            continue;
        }
        // Ordering: Relaxed loads inside the sequence-lock read section;
        // the fence and the re-check of SEQ below validate them.
        let tsc0 = TSC0.load(Ordering::Relaxed);
        let ns0 = NS0.load(Ordering::Relaxed);
        let mult = MULT.load(Ordering::Relaxed);
        // Ordering: the Acquire fence keeps the loads above before the
        // re-check of SEQ (the standard sequence-lock reader).
        std::sync::atomic::fence(Ordering::Acquire);
        if SEQ.load(Ordering::Relaxed) != s1 {
            continue;
        }
        // SAFETY: rdtsc has no preconditions on x86_64.
        let t = unsafe { std::arch::x86_64::_rdtsc() };
        let dt = t.wrapping_sub(tsc0) as i64 as i128;
        return Some((ns0 as i128 + ((dt * mult as i128) >> 32)) as u64);
    }
}

/// True when the CPU says its counter runs at a constant rate in every
/// power state (CPUID 0x8000_0007, EDX bit 8).
#[cfg(target_arch = "x86_64")]
fn invariant_tsc() -> bool {
    use std::arch::x86_64::__cpuid;
    // CPUID exists on every x86_64 CPU; leaf 0x8000_0000 reports the
    // highest extended leaf before we ask for 0x8000_0007.
    __cpuid(0x8000_0000).eax >= 0x8000_0007 && __cpuid(0x8000_0007).edx & (1 << 8) != 0
}

/// Samples the counter and the wall clock together: the wall-clock read
/// is bracketed by two counter reads, and the tightest of a few tries wins.
#[cfg(target_arch = "x86_64")]
fn sample() -> (u64, u64) {
    let mut best = (u64::MAX, 0u64, 0u64);
    for _ in 0..5 {
        // SAFETY: rdtsc has no preconditions on x86_64.
        let a = unsafe { std::arch::x86_64::_rdtsc() };
        let ns = crate::os::now_ns();
        // SAFETY: as above.
        let b = unsafe { std::arch::x86_64::_rdtsc() };
        let width = b.wrapping_sub(a);
        if width < best.0 {
            best = (width, a + width / 2, ns);
        }
    }
    (best.1, best.2)
}

/// Refreshes the calibration; the flusher calls it about once a second.
/// The first call only records a sample; the rate needs two.
pub(crate) fn calibrate() {
    #[cfg(target_arch = "x86_64")]
    {
        if std::env::var_os("RINGLOG_CLOCK").is_some_and(|v| v == "realtime") || !invariant_tsc() {
            return;
        }
        // try_lock: another flusher is calibrating (skip this round), or a
        // fork child inherited the lock held (keep the inherited
        // calibration rather than block the child's flusher forever).
        let mut w = match WRITER.try_lock() {
            Ok(w) => w,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return,
        };
        let (tsc, ns) = sample();
        match *w {
            Some((tsc_prev, ns_prev)) if tsc > tsc_prev && ns > ns_prev => {
                let dticks = tsc - tsc_prev;
                // At least 100 ms apart, so the rate is precise to ~1e-6.
                if ns - ns_prev < 100_000_000 {
                    return;
                }
                let mult = (((ns - ns_prev) as u128) << 32) / dticks as u128;
                let Ok(mult) = u64::try_from(mult) else {
                    return;
                };
                publish(tsc, ns, mult);
                *w = Some((tsc, ns));
            }
            // First sample, or the clock stepped back: start over.
            _ => *w = Some((tsc, ns)),
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn publish(tsc: u64, ns: u64, mult: u64) {
    // Ordering: the sequence-lock writer: make SEQ odd (Relaxed RMW, then
    // a Release fence so readers that see the new words also see it odd),
    // store the words, then make SEQ even with Release.
    let s = SEQ.load(Ordering::Relaxed);
    let s = if s == 0 { 2 } else { s };
    SEQ.store(s + 1, Ordering::Relaxed);
    std::sync::atomic::fence(Ordering::Release);
    TSC0.store(tsc, Ordering::Relaxed);
    NS0.store(ns, Ordering::Relaxed);
    MULT.store(mult, Ordering::Relaxed);
    SEQ.store(s + 2, Ordering::Release);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_calibrated_clock_follows_the_wall_clock() {
        // Calibrate until the counter path is on (another thread may hold
        // the writer lock for a round).
        #[cfg(target_arch = "x86_64")]
        if super::invariant_tsc() && std::env::var_os("RINGLOG_CLOCK").is_none() {
            for _ in 0..20 {
                super::calibrate();
                if super::tsc_now().is_some() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(120));
            }
            assert!(
                super::tsc_now().is_some(),
                "the counter clock never calibrated"
            );
        }
        for _ in 0..1000 {
            let a = crate::os::now_ns();
            let t = super::now_ns();
            let b = crate::os::now_ns();
            // Within 1 ms of the wall clock (the calibration drifts by far
            // less than that in a second).
            assert!(t + 1_000_000 >= a && t <= b + 1_000_000, "{a} {t} {b}");
        }
    }
}
