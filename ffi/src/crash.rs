//! The opt-in fatal-signal handler: `ringlog_install_crash_handler`.

use crate::error::*;

/// Installs ringlog's handler for SIGSEGV, SIGBUS, SIGFPE, SIGILL and
/// SIGABRT, for the process-wide runtime: now if it is running, else
/// when it starts. `"crash_handler": true` in the configuration does the
/// same at `ringlog_init`. Also gives the calling thread an alternate
/// signal stack (each thread gets one with its first record). Calling it
/// again is harmless; the handlers are never removed.
///
/// On a fatal signal the handler, using only async-signal-safe calls:
/// writes a last FATAL record from logger "ringlog", message
/// "fatal signal", with `signal`, `signal_name`, `code` (si_code),
/// `thread_id`, `pid` and, for a fault the kernel raised, `fault_addr`;
/// wakes the flusher and waits up to 1 s for it to write what the rings
/// hold; calls the handler installed before ringlog's (if it was a
/// function); restores the default action and re-raises, so the process
/// still ends by the same signal, with its core dump. A watchdog
/// (alarm(3), SIGALRM) ends the process by that same signal if all of
/// this, the chained handler included, takes longer than 3 s.
///
/// What it cannot do: make the flusher write when the crashed code holds
/// a lock the flusher needs (the allocator's, say) or a sink blocks; then
/// the records stay in the ring files and the next start recovers them.
/// It handles one crash per process (a second faulting thread waits for
/// the first one, bounded, then re-raises). A stack overflow on a thread
/// without an alternate signal stack (one that never logged) ends the
/// process without the last record. SIGALRM's handler and any pending
/// alarm() are replaced once a crash is being handled. SIGKILL, the OOM
/// killer and _exit run no handler. Do not combine it with runtimes that
/// use these signals for their own purposes (a JVM, some garbage
/// collectors).
///
/// Errors: `RINGLOG_E_IO` (a handler could not be installed, or the
/// crash ring could not be created in the instance directory).
#[no_mangle]
pub extern "C" fn ringlog_install_crash_handler() -> ringlog_result {
    crate::guard(RINGLOG_E_PANIC, || match ringlog::crash::install() {
        Ok(()) => RINGLOG_OK,
        Err(e) => from_error(&e),
    })
}
