//! The signals a write can raise in the thread that makes it: `SIGPIPE`
//! (a pipe or socket nobody reads any more) and `SIGXFSZ` (a file grown
//! past `RLIMIT_FSIZE`). Their default action ends the whole process, and
//! a library must not change the host's dispositions, nor end its host
//! because a log reader went away.
//!
//! `write(2)` has no `MSG_NOSIGNAL` (that is a `send(2)` flag, for sockets
//! only), and `SIG_IGN` would be process-wide. So the flusher, which is
//! the runtime's own thread and the only one that writes to sinks, blocks
//! both signals in its own mask. A write then fails with `EPIPE` or
//! `EFBIG` instead, and the signal it raised stays pending on the flusher
//! thread, where [`consume_after`] takes it with a zero-timeout
//! `sigtimedwait`. Other threads' masks and the dispositions are never
//! touched, so the host's own writes behave exactly as before.

use std::cell::Cell;
use std::io;

thread_local! {
    /// This thread already blocked the write signals.
    static BLOCKED: Cell<bool> = const { Cell::new(false) };
}

fn set_of(sigs: &[libc::c_int]) -> libc::sigset_t {
    // An all-zero `sigset_t` is a valid value to hand to `sigemptyset`,
    // which initialises it; `sigaddset` gets valid signal numbers.
    // SAFETY: as just said, every call gets valid, initialised arguments.
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        for &sig in sigs {
            libc::sigaddset(&mut s, sig);
        }
        s
    }
}

/// Blocks `SIGPIPE` and `SIGXFSZ` in the calling thread (once per thread;
/// later calls cost a thread-local read). Only the flusher thread calls it.
pub(crate) fn block_in_this_thread() {
    if BLOCKED.with(|b| b.replace(true)) {
        return;
    }
    let s = set_of(&[libc::SIGPIPE, libc::SIGXFSZ]);
    // SAFETY: `s` is an initialised signal set; a NULL old-set pointer is
    // allowed. This changes only the calling thread's mask.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &s, std::ptr::null_mut()) };
}

/// After a write failed with `err`, takes the signal that write raised
/// (`SIGPIPE` for `EPIPE`, `SIGXFSZ` for `EFBIG`) if it is pending, so it
/// is never delivered. A standard signal is pending at most once per
/// thread, and the thread's own pending set is taken before the
/// process-wide one, so this takes the signal our own write raised.
pub(crate) fn consume_after(err: &io::Error) {
    let sig = match err.raw_os_error() {
        Some(libc::EPIPE) => libc::SIGPIPE,
        Some(libc::EFBIG) => libc::SIGXFSZ,
        _ => return,
    };
    if !BLOCKED.with(|b| b.get()) {
        // Not blocked here: the signal was delivered (or ignored) already.
        return;
    }
    let s = set_of(&[sig]);
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // `s` is an initialised set of a signal blocked in this thread (a
    // precondition of `sigtimedwait`); NULL info is allowed; the zero
    // timeout makes it return at once (EAGAIN when nothing is pending).
    // SAFETY: valid arguments, as just said.
    unsafe { libc::sigtimedwait(&s, std::ptr::null_mut(), &zero) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending_sigpipe() -> bool {
        // SAFETY: an all-zero sigset_t is valid for sigpending to fill.
        let mut pending: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `pending` is a valid out-pointer, then a filled set.
        unsafe {
            libc::sigpending(&mut pending);
            libc::sigismember(&pending, libc::SIGPIPE) == 1
        }
    }

    #[test]
    fn a_write_to_a_closed_pipe_fails_with_epipe_and_leaves_no_signal_pending() {
        // On a thread of its own, as the flusher is. (The Rust runtime sets
        // SIGPIPE to SIG_IGN, but a blocked signal is queued even then, so
        // the pending set shows what would reach a C host.)
        std::thread::spawn(|| {
            block_in_this_thread();
            let mut fds = [0; 2];
            // SAFETY: `fds` has room for the two descriptors.
            assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
            // SAFETY: closing the read end we own.
            unsafe { libc::close(fds[0]) };
            let (n, r) = crate::sink::stream::write_fd(fds[1], b"x\n");
            let e = r.unwrap_err();
            assert_eq!((n, e.raw_os_error()), (0, Some(libc::EPIPE)));
            assert!(
                pending_sigpipe(),
                "the write raised SIGPIPE, held by the mask"
            );
            consume_after(&e);
            assert!(!pending_sigpipe(), "and it was taken");
            // SAFETY: closing the write end we own.
            unsafe { libc::close(fds[1]) };
        })
        .join()
        .unwrap();
    }
}
