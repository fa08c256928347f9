//! A lock that `fork()` can never leave held in a child process.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A lock that `fork()` can never leave held in the child.
///
/// The `pthread_atfork` prepare handler takes it, so no other thread holds
/// it at the moment of the fork, and both the parent and the child handler
/// release it with one store: no waiter queue, no hand-off to a thread
/// that does not exist in the child, nothing that is not
/// async-signal-safe. The owner is the locking thread's id, so a thread
/// that forks while holding it (from a signal handler, say) does not wait
/// for itself. Waiters yield, then sleep briefly: the lock guards start,
/// shutdown and look-ups of the global runtime, never the logging path.
pub(crate) struct ForkLock<T> {
    owner: AtomicU64,
    /// Set by the prepare handler when the forking thread already held the
    /// lock, so the fork handlers leave it as it was.
    reentered: AtomicU64,
    value: UnsafeCell<T>,
}

// SAFETY: `value` is only reached through a `ForkGuard`, which exists only
// while `owner` names the thread holding it (mutual exclusion).
unsafe impl<T: Send> Sync for ForkLock<T> {}

pub(crate) struct ForkGuard<'a, T>(&'a ForkLock<T>);

fn this_thread() -> u64 {
    // OS thread ids are never 0.
    crate::os::thread_id()
}

impl<T> ForkLock<T> {
    pub(crate) const fn new(v: T) -> Self {
        ForkLock {
            owner: AtomicU64::new(0),
            reentered: AtomicU64::new(0),
            value: UnsafeCell::new(v),
        }
    }

    fn try_take(&self, me: u64) -> bool {
        // Ordering: Acquire pairs with the Release store that unlocks, so
        // the previous holder's writes to `value` are visible.
        self.owner
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    pub(crate) fn lock(&self) -> ForkGuard<'_, T> {
        let me = this_thread();
        let mut spins = 0u32;
        while !self.try_take(me) {
            spins += 1;
            if spins < 64 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
        ForkGuard(self)
    }

    /// Releases the lock by a plain store (also used in a fork child,
    /// where the holder is the one thread that forked).
    fn release(&self) {
        // Ordering: Release publishes the holder's writes to `value`.
        self.owner.store(0, Ordering::Release);
    }

    /// `pthread_atfork` prepare: takes the lock and keeps it across the
    /// fork, unless this thread already holds it.
    pub(crate) fn hold_for_fork(&self) {
        // Ordering: Relaxed: only this thread compares `owner` with itself.
        if self.owner.load(Ordering::Relaxed) == this_thread() {
            self.reentered.store(1, Ordering::Relaxed);
            return;
        }
        std::mem::forget(self.lock());
    }

    /// `pthread_atfork` parent and child: releases what
    /// [`ForkLock::hold_for_fork`] took (one atomic store).
    pub(crate) fn release_after_fork(&self) {
        // Ordering: Relaxed: written by this same thread before the fork.
        if self.reentered.swap(0, Ordering::Relaxed) == 0 {
            self.release();
        }
    }
}

impl<T> std::ops::Deref for ForkGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock.
        unsafe { &*self.0.value.get() }
    }
}

impl<T> std::ops::DerefMut for ForkGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the lock, so no other reference exists.
        unsafe { &mut *self.0.value.get() }
    }
}

impl<T> Drop for ForkGuard<'_, T> {
    fn drop(&mut self) {
        self.0.release();
    }
}
