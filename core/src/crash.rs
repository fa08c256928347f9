//! The opt-in fatal-signal handler: a last record and a bounded drain when
//! the process dies of `SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL` or `SIGABRT`.
//!
//! Turned on by the configuration key `"crash_handler": true` (for the
//! runtime started with it), by [`install`] / `ringlog_install_crash_handler`
//! (for the process-wide runtime, now or whenever it starts), or by
//! [`install_for`] (for a given runtime). One runtime is served at a time:
//! the one attached last. Its shutdown detaches it; the handlers stay
//! installed and then only chain and re-raise.
//!
//! # What the handler does
//!
//! 1. **Re-entry guard.** The first thread to enter takes `OWNER` (a
//!    compare-and-swap of its thread id). A second thread that faults at
//!    the same time waits, bounded (1.5 s), until the owner has finished
//!    its record and drain, then goes on to step 5. A fault inside the
//!    handler itself goes straight to the default action: the handler runs
//!    with every signal but `SIGALRM` blocked, so the kernel ends the
//!    process at once on a synchronous `SIGSEGV`, `SIGBUS`, `SIGFPE` or
//!    `SIGILL` there, and an `abort()` there re-enters on the owning
//!    thread, which restores the default action and re-raises.
//! 2. **Watchdog.** The owner sets `SIGALRM` to a small handler of its own,
//!    unblocks it on its thread and calls `alarm(3)`. If the process is
//!    still alive 3 s later (a step below hung, or the chained handler
//!    did), that handler restores the default action of the *original*
//!    signal and raises it, so the process still ends by that signal.
//! 3. **Last record.** A FATAL record from logger `ringlog`, message
//!    `"fatal signal"`, fields `signal`, `signal_name`, `code` (`si_code`),
//!    `thread_id` (the faulting thread), `pid`, and `fault_addr` when the
//!    kernel reported a fault (`si_code > 0`, not for `SIGABRT`). It goes
//!    into a ring of its own (4 KiB, created when the runtime is attached,
//!    written only by the owner), not into the faulting thread's ring:
//!    that one may be mid-write (the fault hit inside a log call), and
//!    reaching it means a thread-local access that may allocate on a
//!    thread that never logged. So the record is written whatever the
//!    faulting thread was doing. Its output `thread` is 0; the faulting
//!    thread is the `thread_id` field. (That ring counts in
//!    `rings_active` while the runtime is attached.)
//! 4. **Drain.** The owner wakes the flusher (`unpark`: an atomic swap
//!    and a futex wake), takes a snapshot of every ring's producer cursor
//!    (`try_lock` of the ring list, never a blocking lock; up to 1024
//!    rings), and polls the consumer cursors with `clock_gettime` and
//!    `nanosleep` until each ring's consumer cursor has passed its
//!    snapshot, which the flusher does only after handing the records to
//!    every sink, or until 1 s has passed. It does not wait when the
//!    faulting thread is the flusher, or when the flusher has exited.
//! 5. **Chain and re-raise.** The handler that was installed before
//!    ringlog's is called (`sa_sigaction` when it had `SA_SIGINFO`, else
//!    `sa_handler`; not when it was `SIG_DFL` or `SIG_IGN`). Then the
//!    default action is restored. A fault the kernel raised (`si_code > 0`)
//!    re-executes the faulting instruction when the handler returns and
//!    faults again, now with the default action; a signal that was sent
//!    (`raise`, `abort`, `kill`) is raised again on this thread, stays
//!    pending while the handler runs, and is delivered when it returns.
//!    Either way the process ends by the same signal, with its core dump.
//!
//! # Async-signal safety
//!
//! Everything on the path above is an atomic operation, a copy into the
//! already mapped, preallocated crash ring, a CRC, or one of these calls,
//! all async-signal-safe: `gettid`, `getpid`, `pthread_self`,
//! `clock_gettime`, `nanosleep`, `sigaction`, `sigemptyset`/`sigaddset`/
//! `sigdelset`, `pthread_sigmask`, `alarm`, `tgkill`, and the futex wake
//! inside `unpark`. Nothing allocates (the ring snapshot is a static
//! array only the owner uses; the `Arc`s it takes are leaked, never
//! dropped), and no
//! lock is waited for (the ring list is only ever `try_lock`ed, so a lock
//! the interrupted code holds is skipped). No thread-local is touched.
//!
//! # What it cannot do
//!
//! - It cannot make the flusher write. The flusher is an ordinary thread:
//!   if the crashed code holds a lock it needs (the allocator's, the ring
//!   list's, the registry's, a sink's), or a sink blocks, the drain times
//!   out after 1 s. Records not written stay in the ring files, which the
//!   next start (or `ringlog recover`) recovers. A batch the flusher had
//!   written but not yet released when the process died is written again
//!   by recovery (at least once, not exactly once).
//! - It handles one crash per process: `OWNER` is never released.
//! - The alternate signal stack (64 KiB) is set up for the thread that
//!   installs the handler or starts the runtime, and for each thread when
//!   it logs its first record; a thread that already has one of at least
//!   that size keeps it (a smaller one, such as the one Rust's runtime
//!   gives its threads, is replaced). A stack overflow on any other
//!   thread cannot run the handler: the kernel ends the process with
//!   `SIGSEGV` and no last record (records already in the rings are still
//!   recovered). On a thread with a small signal stack of its own making
//!   the handler may overflow it, with the same result.
//! - The chained handler is foreign code: it runs under the watchdog, so
//!   it has what is left of the 3 s. Install ringlog's handler first and a
//!   crash reporter that chains after it if that reporter needs longer. A
//!   chained handler that recovers (`longjmp`) is not supported: the
//!   watchdog still ends the process. A runtime that uses these signals
//!   for its own purposes (a JVM, some garbage collectors) does not mix
//!   with it.
//! - `SIGALRM`'s disposition and any pending `alarm` of the application
//!   are replaced once a crash is being handled.
//! - `SIGKILL`, the OOM killer, `_exit` and power loss run no handler;
//!   recovery at the next start covers them.

use crate::error::Error;
use crate::forklock::{ForkGuard, ForkLock};
use crate::level::Level;
use crate::record::{self, Head};
use crate::registry::INTERNAL_LOGGER;
use crate::ring::{frame_len, ProducerCursor, Ring, MIN_CAPACITY};
use crate::runtime::{Runtime, Shared, RUNNING};
use crate::sync::{AtomicBool, AtomicU64, Ordering};
use crate::value::Field;
use libc::c_int;
use std::cell::{RefCell, UnsafeCell};
use std::ffi::c_void;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize};
use std::sync::Arc;

/// The signals handled, in the order of the `PREV_*` tables.
const SIGNALS: [c_int; 5] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGABRT,
];

/// How long the handler waits for the flusher to write the rings, in ms.
pub const DRAIN_BUDGET_MS: u64 = 1000;

/// Seconds after the handler starts at which the watchdog ends the process
/// by the original signal, whatever the handler (or the handler it chains
/// to) is doing.
pub const WATCHDOG_SECS: u32 = 3;

/// How long a second faulting thread waits for the first one's drain.
const OTHERS_WAIT_MS: u64 = DRAIN_BUDGET_MS + 500;

/// Rings the drain waits for at most (the rest are drained all the same,
/// just not waited for).
const MAX_RINGS: usize = 1024;

/// Size of the alternate signal stacks ringlog sets up.
const ALT_STACK_SIZE: usize = 64 * 1024;

/// What the handler needs of the attached runtime, reachable without a
/// lock through [`TARGET`].
struct Target {
    sh: Arc<Shared>,
    /// The crash ring: written only by the thread holding [`OWNER`].
    ring: Arc<Ring>,
    /// The flusher thread, to know when the crash is the flusher's own.
    flusher: Option<libc::pthread_t>,
    /// The crash ring's producer state (only the owner touches it).
    cur: UnsafeCell<ProducerCursor>,
    /// Next sequence number in the crash ring (only the owner touches it).
    seq: UnsafeCell<u64>,
}

/// The attached runtime, or null. Replaced under [`SETUP`]; an old value
/// is freed only when no handler can be using it (see [`retire`]).
static TARGET: AtomicPtr<Target> = AtomicPtr::new(std::ptr::null_mut());
/// Thread id of the thread handling the crash; 0 before any crash.
static OWNER: AtomicU64 = AtomicU64::new(0);
/// Set once the owner has written its record and finished its drain.
static DONE: AtomicBool = AtomicBool::new(false);
/// The signal being handled, for the watchdog.
static CRASH_SIG: AtomicI32 = AtomicI32::new(0);
/// When the watchdog may end the process (`CLOCK_MONOTONIC` ns): a
/// `SIGALRM` that comes earlier is someone else's and is ignored.
static WATCHDOG_AT: AtomicU64 = AtomicU64::new(u64::MAX);
/// The handlers are installed.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// [`install`] was called: the process-wide runtime is attached whenever
/// it starts.
static WANTED: AtomicBool = AtomicBool::new(false);
/// The disposition each signal had before ringlog's handler (`sa_sigaction`).
static PREV_HANDLER: [AtomicUsize; 5] = [const { AtomicUsize::new(libc::SIG_DFL) }; 5];
/// Its `sa_flags`.
static PREV_FLAGS: [AtomicI32; 5] = [const { AtomicI32::new(0) }; 5];
/// Serialises installing, attaching and detaching (never taken on the
/// signal path).
pub(crate) static SETUP: ForkLock<()> = ForkLock::new(());

/// The drain's snapshot of the rings and their producer cursors. Static,
/// not on the signal stack (which may be a small one the thread had
/// before), and used only by the thread holding [`OWNER`].
struct Snapshot(UnsafeCell<[(*const Ring, u64); MAX_RINGS]>);
// SAFETY: only the OWNER thread ever touches the contents (see `SNAPSHOT`).
unsafe impl Sync for Snapshot {}
static SNAPSHOT: Snapshot = Snapshot(UnsafeCell::new([(std::ptr::null(), 0); MAX_RINGS]));

fn setup() -> ForkGuard<'static, ()> {
    SETUP.lock()
}

/// Installs the handlers and attaches the process-wide runtime (the one
/// the C ABI uses) if it is running; if it is not, it is attached when it
/// starts. Also sets up an alternate signal stack for the calling thread.
/// Calling it again is harmless.
///
/// See the module documentation for what the handler does and what it
/// cannot do.
///
/// # Errors
/// [`Error::Io`] when a handler cannot be installed or the crash ring
/// cannot be created in the runtime's instance directory.
pub fn install() -> Result<(), Error> {
    // Ordering: Release pairs with the Acquire load in `global_started`;
    // a runtime that starts after this store is attached by its start,
    // one that started before is found by `global::get` below.
    WANTED.store(true, Ordering::Release);
    install_handlers()?;
    prepare_thread();
    // `global::get` takes the global lock, which `global::init` holds
    // while it calls `global_started` (which takes `SETUP`): so look the
    // runtime up before taking `SETUP`, never while holding it.
    match crate::global::get() {
        Some(rt) => attach(&rt),
        None => Ok(()),
    }
}

/// Installs the handlers and attaches `rt`: a crash from now on writes its
/// last record into `rt`'s rings and waits for `rt`'s flusher. Replaces a
/// runtime attached before. Also sets up an alternate signal stack for
/// the calling thread. `"crash_handler": true` in a runtime's
/// configuration does the same when it starts.
///
/// # Errors
/// [`Error::State`] when `rt` is not running; otherwise as [`install`].
pub fn install_for(rt: &Runtime) -> Result<(), Error> {
    if !rt.is_running() {
        return Err(Error::State(
            "crash handler: the runtime is not running".into(),
        ));
    }
    install_handlers()?;
    prepare_thread();
    attach(rt)
}

/// True once the handlers are installed (they stay installed).
pub fn is_installed() -> bool {
    // Ordering: Acquire pairs with the Release store in `install_handlers`.
    INSTALLED.load(Ordering::Acquire)
}

/// Called by `global::init` after it started the process-wide runtime:
/// attaches it when [`install`] asked for that. Best effort: if the crash
/// ring cannot be created, the runtime runs without a last record (the
/// handlers still chain and re-raise).
pub(crate) fn global_started(rt: &Runtime) {
    // Ordering: Acquire pairs with the Release store in `install`.
    if WANTED.load(Ordering::Acquire) {
        let _ = install_for(rt);
    }
}

/// Called by `Runtime::shutdown` once the runtime stops taking records:
/// detaches it if it is the attached one.
pub(crate) fn detach(sh: &Arc<Shared>) {
    if sh.forked() {
        // The parent's runtime, inherited: nothing of it is attached here.
        return;
    }
    let _g = setup();
    // Ordering: SeqCst, as every access to TARGET (see `retire`).
    let cur = TARGET.load(Ordering::SeqCst);
    if cur.is_null() {
        return;
    }
    // SAFETY: a non-null TARGET is a live `Box<Target>`; it is replaced and
    // freed only under SETUP, which we hold.
    let ours = unsafe { Arc::ptr_eq(&(*cur).sh, sh) };
    if ours {
        // Ordering: SeqCst, as every access to TARGET.
        TARGET.store(std::ptr::null_mut(), Ordering::SeqCst);
        retire(cur);
    }
}

/// Creates the crash ring of `rt` and makes `rt` the attached runtime.
fn attach(rt: &Runtime) -> Result<(), Error> {
    let (sh, flusher) = rt.crash_parts();
    let _g = setup();
    // Checked under SETUP: a shutdown that began before this point has
    // already detached (or will find the new target in `detach`).
    if !rt.is_running() {
        return Ok(());
    }
    // Ordering: SeqCst, as every access to TARGET.
    let cur = TARGET.load(Ordering::SeqCst);
    // SAFETY: as in `detach`: live while SETUP is held.
    if !cur.is_null() && unsafe { Arc::ptr_eq(&(*cur).sh, sh) } {
        return Ok(());
    }
    // One crash ring per runtime, kept across attaches: a new target
    // carries on from where the ring's header says the last one stopped.
    let ring = match sh.crash_ring.get() {
        Some(r) => r.clone(),
        None => {
            let r = sh
                .create_unowned_ring(MIN_CAPACITY)
                .map_err(|e| Error::Io("crash handler: cannot create the crash ring".into(), e))?;
            sh.crash_ring.get_or_init(|| r).clone()
        }
    };
    let (_, tail) = ring.readable();
    // Ordering: Relaxed: written only by a crash handler, which is not
    // running (we hold SETUP, and a handler never takes it).
    let seq = ring.header().prod.committed.load(Ordering::Relaxed);
    let t = Box::into_raw(Box::new(Target {
        sh: sh.clone(),
        ring,
        flusher,
        cur: UnsafeCell::new(ProducerCursor {
            tail,
            head_cache: 0,
        }),
        seq: UnsafeCell::new(seq),
    }));
    // Ordering: SeqCst, as every access to TARGET.
    let old = TARGET.swap(t, Ordering::SeqCst);
    retire(old);
    Ok(())
}

/// Frees a target that is no longer in [`TARGET`], unless a handler may be
/// using it: then it is leaked (the process is dying anyway).
///
/// The owner stores OWNER before it loads TARGET; we swap TARGET before
/// we load OWNER; all four are SeqCst, so in their single total order
/// either our load sees the owner (leak) or the owner's load comes after
/// our swap and sees the new target.
fn retire(old: *mut Target) {
    if old.is_null() {
        return;
    }
    // Ordering: SeqCst, see above.
    let handling = OWNER.load(Ordering::SeqCst) != 0;
    // SAFETY: `old` came from `Box::into_raw` and is no longer reachable
    // through TARGET.
    let forked = unsafe { (*old).sh.forked() };
    // In a fork child the target belongs to the parent's runtime: leak it
    // rather than touch anything of it.
    if !handling && !forked {
        // SAFETY: as above, and no handler holds it (checked above).
        drop(unsafe { Box::from_raw(old) });
    }
}

/// Installs the five handlers once, remembering the dispositions they
/// replace.
fn install_handlers() -> Result<(), Error> {
    let _g = setup();
    if is_installed() {
        return Ok(());
    }
    let ours = on_fatal as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) as usize;
    for (i, &sig) in SIGNALS.iter().enumerate() {
        // SAFETY: a zeroed sigaction is a valid value to pass for output.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: a valid signal number and a valid out-pointer.
        if unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) } != 0 {
            return Err(Error::Io(
                format!(
                    "crash handler: cannot read the {} handler",
                    signal_name(sig)
                ),
                std::io::Error::last_os_error(),
            ));
        }
        if old.sa_sigaction != ours {
            // Ordering: Relaxed: the handler runs only after the
            // `sigaction` call below, which the kernel orders after these
            // stores (it changes the disposition under its own lock).
            PREV_HANDLER[i].store(old.sa_sigaction, Ordering::Relaxed);
            // Ordering: Relaxed, as above.
            PREV_FLAGS[i].store(old.sa_flags, Ordering::Relaxed);
        }
    }
    // SAFETY: a zeroed sigaction is valid; every field is set below.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = ours;
    sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
    // SAFETY: `sa.sa_mask` is a valid sigset_t.
    unsafe {
        // Everything but SIGALRM (the watchdog) is blocked while the
        // handler runs: a synchronous fault inside it then takes the
        // default action at once, and no other handler interleaves.
        libc::sigfillset(&mut sa.sa_mask);
        libc::sigdelset(&mut sa.sa_mask, libc::SIGALRM);
    }
    for &sig in &SIGNALS {
        // SAFETY: a valid signal number and a fully initialised action.
        if unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) } != 0 {
            return Err(Error::Io(
                format!(
                    "crash handler: cannot install the {} handler",
                    signal_name(sig)
                ),
                std::io::Error::last_os_error(),
            ));
        }
    }
    // Ordering: Release pairs with the Acquire load in `is_installed`.
    INSTALLED.store(true, Ordering::Release);
    Ok(())
}

// ------------------------------------------------------------ signal stacks

/// An alternate signal stack ringlog mapped for this thread.
struct AltStack {
    /// The whole mapping: a guard page, then the stack.
    base: *mut c_void,
    len: usize,
    /// The stack proper (after the guard page).
    sp: *mut c_void,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: `cur` is a valid out-pointer.
        let mut cur: libc::stack_t = unsafe { std::mem::zeroed() };
        // SAFETY: reads this thread's alternate stack.
        let rc = unsafe { libc::sigaltstack(std::ptr::null(), &mut cur) };
        if rc != 0 || cur.ss_flags & libc::SS_ONSTACK != 0 {
            // Unknown, or running on it: leave the mapping in place.
            return;
        }
        if cur.ss_sp == self.sp {
            let off = libc::stack_t {
                ss_sp: std::ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            // SAFETY: disables this thread's alternate stack (ours).
            if unsafe { libc::sigaltstack(&off, std::ptr::null_mut()) } != 0 {
                return;
            }
        }
        // SAFETY: the mapping is ours and no longer the signal stack.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

thread_local! {
    /// This thread's alternate signal stack, when ringlog made it.
    static ALT_STACK: RefCell<Option<AltStack>> = const { RefCell::new(None) };
}

/// Gives the calling thread an alternate signal stack if the handlers are
/// installed and it has none, so the handler also runs after a stack
/// overflow. Called when a thread creates its ring (its first record) and
/// by [`install`]; not on the signal path.
pub(crate) fn prepare_thread() {
    if !is_installed() {
        return;
    }
    let _ = ALT_STACK.try_with(|slot| {
        let Ok(mut slot) = slot.try_borrow_mut() else {
            return;
        };
        if slot.is_some() {
            return;
        }
        // SAFETY: `cur` is a valid out-pointer.
        let mut cur: libc::stack_t = unsafe { std::mem::zeroed() };
        // SAFETY: reads this thread's alternate stack.
        if unsafe { libc::sigaltstack(std::ptr::null(), &mut cur) } != 0
            || cur.ss_flags & libc::SS_ONSTACK != 0
            || (cur.ss_flags & libc::SS_DISABLE == 0 && cur.ss_size >= ALT_STACK_SIZE)
        {
            // The thread has a large enough one already: keep it.
            return;
        }
        // None, or a small one (Rust's runtime gives its threads a few
        // KiB, for its stack-overflow message): use ours. Whoever made the
        // small one still frees it; it is just no longer the signal stack.
        *slot = map_alt_stack();
    });
}

/// Maps a guard page and an alternate stack and makes it this thread's.
fn map_alt_stack() -> Option<AltStack> {
    // SAFETY: sysconf and getauxval only read system values.
    let (page, min) = unsafe {
        (
            libc::sysconf(libc::_SC_PAGESIZE).max(4096) as usize,
            libc::getauxval(libc::AT_MINSIGSTKSZ) as usize,
        )
    };
    let size = ALT_STACK_SIZE
        .max(min.saturating_mul(4))
        .next_multiple_of(page);
    let len = size + page;
    // SAFETY: an anonymous private mapping; no address given.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return None;
    }
    // SAFETY: the first page of the mapping just made; `len > page`.
    let sp = unsafe {
        libc::mprotect(base, page, libc::PROT_NONE);
        base.cast::<u8>().add(page).cast::<c_void>()
    };
    let st = libc::stack_t {
        ss_sp: sp,
        ss_flags: 0,
        ss_size: size,
    };
    // SAFETY: `st` describes `size` writable bytes that stay mapped until
    // the `AltStack` is dropped, which disables the stack first.
    if unsafe { libc::sigaltstack(&st, std::ptr::null_mut()) } != 0 {
        // SAFETY: our mapping, never made a signal stack.
        unsafe { libc::munmap(base, len) };
        return None;
    }
    Some(AltStack { base, len, sp })
}

// ------------------------------------------------------------ signal path

/// The handler of the five fatal signals. Everything it calls is
/// async-signal-safe; see the module documentation.
extern "C" fn on_fatal(sig: c_int, info: *mut libc::siginfo_t, uctx: *mut c_void) {
    // SAFETY: `__errno_location` returns this thread's errno slot.
    let errno = unsafe { *libc::__errno_location() };
    // SAFETY: the kernel passes a valid siginfo (or null, checked).
    let code = unsafe { info.as_ref() }.map_or(0, |i| i.si_code);
    let kernel_fault = code > 0 && sig != libc::SIGABRT;
    let idx = SIGNALS.iter().position(|&s| s == sig).unwrap_or(0);
    // Ordering: Relaxed: written before the handler was installed (see
    // `install_handlers`).
    let prev = PREV_HANDLER[idx].load(Ordering::Relaxed);
    if prev == libc::SIG_IGN && !kernel_fault && sig != libc::SIGABRT {
        // A sent signal the application ignored: still ignored.
        return;
    }
    let tid = gettid();
    // Ordering: SeqCst: one total order with TARGET's swap and OWNER's
    // load in `retire` (see there).
    match OWNER.compare_exchange(0, tid, Ordering::SeqCst, Ordering::SeqCst) {
        Ok(_) => {
            arm_watchdog(sig);
            // SAFETY: we hold OWNER, which `last_record_and_drain` requires.
            unsafe { last_record_and_drain(sig, info, code, kernel_fault, tid) };
            // Ordering: Release pairs with the Acquire load in
            // `wait_for_owner`.
            DONE.store(true, Ordering::Release);
        }
        Err(owner) if owner == tid => {
            // A fault inside this handler (or an `abort` in a chained
            // handler), on this thread: no record, no chaining; the
            // process ends now, by the signal that started it all.
            // Ordering: Relaxed: stored by this same thread.
            let first = CRASH_SIG.load(Ordering::Relaxed);
            die_now(if first != 0 { first } else { sig });
        }
        Err(_) => wait_for_owner(),
    }
    // SAFETY: as above; the chained handler sees the errno of the fault.
    unsafe { *libc::__errno_location() = errno };
    chain(idx, prev, sig, info, uctx);
    finish(sig, kernel_fault, uctx);
}

/// Writes the last record and waits, bounded, for the flusher.
///
/// # Safety
/// The caller holds [`OWNER`] (it is the crash ring's only producer).
unsafe fn last_record_and_drain(
    sig: c_int,
    info: *mut libc::siginfo_t,
    code: c_int,
    kernel_fault: bool,
    tid: u64,
) {
    // Ordering: SeqCst, see `retire`.
    let t = TARGET.load(Ordering::SeqCst);
    // SAFETY: non-null targets stay allocated while OWNER is held (see
    // `retire`), and we hold it.
    let Some(t) = (unsafe { t.as_ref() }) else {
        return;
    };
    let sh = &*t.sh;
    // Ordering: Relaxed: a runtime shutting down refuses records anyway.
    if sh.state.load(Ordering::Relaxed) != RUNNING || sh.forked() {
        return;
    }
    let deadline = mono_ns() + DRAIN_BUDGET_MS * 1_000_000;
    let addr = if kernel_fault {
        // SAFETY: `info` is the kernel's siginfo for a fault signal, whose
        // `si_addr` is set; `kernel_fault` implies it is non-null.
        Some(unsafe { (*info).si_addr() } as u64)
    } else {
        None
    };
    // SAFETY: forwarded: we hold OWNER.
    unsafe { write_last_record(t, sig, code, addr, tid) };
    // SAFETY: pthread_self has no preconditions.
    let me = unsafe { libc::pthread_self() };
    if t.flusher == Some(me) {
        // The flusher itself crashed: nobody will drain.
        return;
    }
    wake(sh);
    // SAFETY: only the OWNER uses SNAPSHOT, and we hold OWNER.
    let snap = unsafe { &mut *SNAPSHOT.0.get() };
    // The crash ring first: waited for even if the ring list stays locked.
    snap[0] = (Arc::as_ptr(&t.ring), t.ring.readable().1);
    // The ring list gets a short try of its own (the faulting thread may
    // hold its lock), so the wait for the crash ring keeps its time.
    let n = 1 + snapshot_rings(sh, &mut snap[1..], deadline.min(mono_ns() + 20_000_000));
    let mut round = 0u32;
    loop {
        let drained = snap[..n].iter().all(|&(r, tail)| {
            // SAFETY: each pointer is kept alive by an Arc reference that
            // is never released (see `snapshot_rings`), or by `t.ring`.
            let r = unsafe { &*r };
            // Ordering: Acquire pairs with the flusher's Release store in
            // `Ring::release`, made after it handed the frames to the sinks.
            r.header().head.load(Ordering::Acquire) >= tail
        });
        // Ordering: Acquire pairs with the flusher's Release store.
        if drained || sh.exited.load(Ordering::Acquire) || mono_ns() >= deadline {
            return;
        }
        sleep_ms(1);
        round += 1;
        if round % 16 == 0 {
            wake(sh);
        }
    }
}

/// Writes the FATAL record into the crash ring.
///
/// # Safety
/// The caller holds [`OWNER`].
unsafe fn write_last_record(t: &Target, sig: c_int, code: c_int, addr: Option<u64>, tid: u64) {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as u64;
    let all = [
        Field::i64("signal", i64::from(sig)),
        Field::str("signal_name", signal_name(sig)),
        Field::i64("code", i64::from(code)),
        Field::u64("thread_id", tid),
        Field::u64("pid", pid),
        Field::u64("fault_addr", addr.unwrap_or(0)),
    ];
    let fields = if addr.is_some() { &all[..] } else { &all[..5] };
    let msg = b"fatal signal";
    let Ok(flen) = record::fields_len(fields, 0) else {
        return;
    };
    let body = record::record_len(false, msg.len(), flen) as u64;
    let len = frame_len(body);
    if len > t.ring.capacity() / 2 {
        return;
    }
    // SAFETY: only the OWNER touches the crash ring's producer state, and
    // the caller holds it.
    let (cur, seq) = unsafe { (&mut *t.cur.get(), &mut *t.seq.get()) };
    let Some(idx) = t.ring.reserve(cur, len) else {
        return;
    };
    let head = Head {
        ts_ns: crate::os::now_ns(),
        seq: *seq,
        logger_id: INTERNAL_LOGGER,
        level: Level::FATAL.number(),
        ctx: None,
    };
    *seq += 1;
    // SAFETY: `reserve` just gave `len` = `frame_len(body)` bytes at
    // `idx`, and `body` was sized for this head, message and fields.
    unsafe {
        crate::producer::commit_record(
            &t.ring,
            cur,
            idx,
            body,
            &head,
            &crate::producer::Plain { msg, fields },
        )
    };
    // Ordering: Relaxed: a statistic, as in `Producer::push`.
    t.ring
        .header()
        .prod
        .committed
        .store(*seq, Ordering::Relaxed);
}

/// Copies up to `out.len()` rings and their producer cursors from the
/// ring list, trying its lock without ever waiting on it. Returns how many.
/// Each ring's `Arc` count is raised and never lowered, so the ring stays
/// mapped however long the handler looks at it (dropping it here could
/// free memory, which a signal handler must not).
fn snapshot_rings(sh: &Shared, out: &mut [(*const Ring, u64)], deadline: u64) -> usize {
    loop {
        let guard = match sh.rings.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                // Held by another thread (or by the interrupted code).
                if mono_ns() >= deadline {
                    return 0;
                }
                sleep_ms(1);
                continue;
            }
        };
        let mut n = 0;
        for (slot, r) in out.iter_mut().zip(guard.iter()) {
            *slot = (Arc::into_raw(Arc::clone(r)), r.readable().1);
            n += 1;
        }
        return n;
    }
}

/// Wakes the flusher: an atomic swap and, if it sleeps, a futex wake.
fn wake(sh: &Shared) {
    if let Some(t) = sh.flusher.get() {
        t.unpark();
    }
}

/// A second faulting thread waits (bounded) until the owner has written
/// its record and drained.
fn wait_for_owner() {
    let deadline = mono_ns() + OTHERS_WAIT_MS * 1_000_000;
    // Ordering: Acquire pairs with the Release store in `on_fatal`.
    while !DONE.load(Ordering::Acquire) && mono_ns() < deadline {
        sleep_ms(1);
    }
}

/// Calls the handler installed before ringlog's, if it was a function.
fn chain(idx: usize, prev: usize, sig: c_int, info: *mut libc::siginfo_t, uctx: *mut c_void) {
    let ours = on_fatal as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) as usize;
    if prev == libc::SIG_DFL || prev == libc::SIG_IGN || prev == libc::SIG_ERR || prev == ours {
        return;
    }
    // Ordering: Relaxed, as PREV_HANDLER in `on_fatal`.
    let flags = PREV_FLAGS[idx].load(Ordering::Relaxed);
    if flags & libc::SA_SIGINFO != 0 {
        type Action = extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void);
        // SAFETY: `prev` was installed with SA_SIGINFO, so it is an
        // `sa_sigaction` function with this signature.
        let f: Action = unsafe { std::mem::transmute::<usize, _>(prev) };
        f(sig, info, uctx);
    } else {
        // SAFETY: `prev` was installed without SA_SIGINFO, so it is an
        // `sa_handler` function.
        let f: extern "C" fn(c_int) = unsafe { std::mem::transmute::<usize, _>(prev) };
        f(sig);
    }
}

/// Restores the default action and arranges for the process to end by
/// `sig` once the handler returns.
fn finish(sig: c_int, kernel_fault: bool, uctx: *mut c_void) {
    set_default(sig);
    if !kernel_fault {
        // A sent signal: send it again. It is blocked while the handler
        // runs, so it stays pending and is delivered when we return.
        raise_here(sig);
    }
    // (A kernel fault faults again when the instruction re-executes.)
    // SAFETY: `uctx` is the kernel's ucontext for this handler (or null);
    // the mask restored on return must not block `sig`.
    if let Some(uc) = unsafe { uctx.cast::<libc::ucontext_t>().as_mut() } {
        // SAFETY: `uc_sigmask` is a valid sigset_t.
        unsafe { libc::sigdelset(&mut uc.uc_sigmask, sig) };
    }
}

/// Ends the process by `sig` now: default action, unblocked, raised.
fn die_now(sig: c_int) {
    set_default(sig);
    // SAFETY: a sigset on the stack, filled by sigemptyset/sigaddset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        raise_here(sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
    // Not reached: the signal's default action ended the process. Should
    // it not have, SIGKILL does.
    // SAFETY: kill and getpid have no preconditions.
    unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
}

/// Sets the watchdog: SIGALRM (unblocked on this thread) in `WATCHDOG_SECS`
/// ends the process by `sig`.
fn arm_watchdog(sig: c_int) {
    // Ordering: Relaxed: read by the watchdog handler, which runs on a
    // signal raised after this store (the alarm below orders it).
    CRASH_SIG.store(sig, Ordering::Relaxed);
    // A little early, for a clock read a moment before `alarm`'s start.
    let at = mono_ns() + u64::from(WATCHDOG_SECS) * 1_000_000_000 - 50_000_000;
    // Ordering: Relaxed, as CRASH_SIG.
    WATCHDOG_AT.store(at, Ordering::Relaxed);
    // SAFETY: a zeroed sigaction is valid; the fields are set below; the
    // sigset calls work on it; alarm has no preconditions.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_watchdog as extern "C" fn(c_int) as usize;
        sa.sa_flags = libc::SA_ONSTACK;
        libc::sigfillset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGALRM, &sa, std::ptr::null_mut());
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGALRM);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::alarm(WATCHDOG_SECS);
    }
}

/// The watchdog's SIGALRM handler: the crash handler ran out of time.
extern "C" fn on_watchdog(_: c_int) {
    // Ordering: Relaxed, see `arm_watchdog`.
    if mono_ns() < WATCHDOG_AT.load(Ordering::Relaxed) {
        // Not our alarm (an application timer that also raises SIGALRM).
        return;
    }
    // Ordering: Relaxed, see `arm_watchdog`.
    let sig = CRASH_SIG.load(Ordering::Relaxed);
    die_now(if sig == 0 { libc::SIGABRT } else { sig });
}

fn set_default(sig: c_int) {
    // SAFETY: a zeroed sigaction with SIG_DFL (0) is the default action.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(sig, &sa, std::ptr::null_mut());
    }
}

/// Sends `sig` to the calling thread (`tgkill`: no lock, unlike some
/// `raise` implementations for other threads).
fn raise_here(sig: c_int) {
    // SAFETY: plain system calls with valid arguments.
    unsafe {
        libc::syscall(
            libc::SYS_tgkill,
            libc::getpid(),
            libc::gettid(),
            sig as libc::c_long,
        );
    }
}

fn gettid() -> u64 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as u64 }
}

/// `CLOCK_MONOTONIC` in ns.
fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

fn sleep_ms(ms: u64) {
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: (ms * 1_000_000) as libc::c_long,
    };
    // SAFETY: `ts` is valid; no remainder is asked for.
    unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
}

/// The name of one of the handled signals.
fn signal_name(sig: c_int) -> &'static str {
    match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names() {
        for (s, n) in SIGNALS
            .iter()
            .zip(["SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT"])
        {
            assert_eq!(signal_name(*s), n);
        }
        assert_eq!(signal_name(libc::SIGTERM), "?");
    }

    #[test]
    fn the_alternate_stack_is_mapped_with_a_guard_page_and_freed() {
        let s = map_alt_stack().expect("mapped");
        // SAFETY: a valid out-pointer.
        let mut cur: libc::stack_t = unsafe { std::mem::zeroed() };
        // SAFETY: reads this thread's alternate stack.
        assert_eq!(unsafe { libc::sigaltstack(std::ptr::null(), &mut cur) }, 0);
        assert_eq!(cur.ss_sp, s.sp);
        assert!(cur.ss_size >= ALT_STACK_SIZE);
        drop(s);
        // SAFETY: as above.
        assert_eq!(unsafe { libc::sigaltstack(std::ptr::null(), &mut cur) }, 0);
        assert!(cur.ss_flags & libc::SS_DISABLE != 0);
    }
}
