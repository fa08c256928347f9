//! The process instance: `<ring_dir>/<pid>-<start>-<nonce>/` with its lock
//! file and ring files.
//!
//! The lock file is held with `flock(LOCK_EX)` for the instance's life. The
//! kernel drops the lock when the process dies, however it dies, which is
//! how recovery tells a dead instance from a live one.

use crate::os;
use std::fs::File;
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

/// One runtime's directory and lock.
#[derive(Debug)]
pub(crate) struct Instance {
    /// The instance directory.
    pub dir: PathBuf,
    /// Held locked for the instance's lifetime.
    lock: ManuallyDrop<File>,
    /// Our slot in [`LOCK_FDS`], if one was free.
    slot: Option<usize>,
    /// The fork generation the instance was made in.
    generation: u64,
}

/// The lock descriptors of this process's instances, so that a fork child
/// can close its copies in the `pthread_atfork` child handler (which may
/// only make async-signal-safe calls: a fixed table of atomics and
/// `close`). -1 marks a free slot. A process with more live runtimes than
/// slots leaves the extra locks held in its children until they exit.
static LOCK_FDS: [AtomicI32; 64] = [const { AtomicI32::new(-1) }; 64];

/// Keeps a fork out of the moments when a lock descriptor is open but not
/// yet in [`LOCK_FDS`], or out of it but not yet closed.
pub(crate) static LOCK_TABLE: crate::forklock::ForkLock<()> = crate::forklock::ForkLock::new(());

/// Closes, in a fork child, the lock descriptors inherited from the parent.
pub(crate) fn close_inherited_locks() {
    for s in &LOCK_FDS {
        // Ordering: Relaxed: the child has one thread at this point.
        let fd = s.swap(-1, Ordering::Relaxed);
        if fd >= 0 {
            // The descriptor was the parent's lock, copied into this child
            // by fork; the inherited `Instance` never closes it again.
            // SAFETY: closing a descriptor this process owns, once.
            unsafe { libc::close(fd) };
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if crate::runtime::fork_generation() != self.generation {
            // In a fork child: the descriptor was closed right after the
            // fork (or, without a slot, stays as it was); its number may
            // belong to another file by now.
            return;
        }
        // Slot cleared and descriptor closed together, with no fork between.
        let _table = LOCK_TABLE.lock();
        if let Some(i) = self.slot {
            // Ordering: Relaxed: the slot's only other reader is a fork
            // child handler, which sees memory as of the fork.
            LOCK_FDS[i].store(-1, Ordering::Relaxed);
        }
        // SAFETY: dropped exactly once, here, in the process that opened it.
        unsafe { ManuallyDrop::drop(&mut self.lock) };
    }
}

/// The default ring directory: `/dev/shm/ringlog-<uid>` where `/dev/shm`
/// exists, else `$XDG_RUNTIME_DIR/ringlog`, else `<tmp>/ringlog-<uid>`.
pub fn default_ring_dir() -> PathBuf {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        return shm.join(format!("ringlog-{uid}"));
    }
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR") {
        return PathBuf::from(x).join("ringlog");
    }
    std::env::temp_dir().join(format!("ringlog-{uid}"))
}

/// Name prefix of an instance directory being made (ignored by recovery;
/// removed by it once old).
pub(crate) const NEW_PREFIX: &str = ".new-";
/// Name prefix of an instance directory being deleted (removed by
/// recovery).
pub(crate) const GONE_PREFIX: &str = ".gone-";

/// Deletes an instance directory: first renamed out of recovery's sight
/// in one step, then removed, so a deletion cut short never leaves a
/// half-deleted instance that looks recoverable.
pub(crate) fn remove_instance_dir(dir: &Path) -> io::Result<()> {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return std::fs::remove_dir_all(dir);
    };
    let gone = parent.join(format!("{GONE_PREFIX}{}", name.to_string_lossy()));
    match std::fs::rename(dir, &gone) {
        Ok(()) => std::fs::remove_dir_all(&gone),
        Err(_) => std::fs::remove_dir_all(dir),
    }
}

/// Path of ring `id`'s file in instance directory `dir`.
pub(crate) fn ring_path(dir: &Path, id: u32) -> PathBuf {
    dir.join(format!("ring-{id}"))
}

impl Instance {
    /// Creates a fresh instance directory under `ring_dir` and locks it.
    ///
    /// # Errors
    /// When the ring directory is unsafe (not ours, loose mode, a link) or
    /// anything cannot be created.
    pub(crate) fn create(ring_dir: &Path) -> io::Result<Instance> {
        if let Some(parent) = ring_dir.parent() {
            if !parent.as_os_str().is_empty() && !parent.exists() {
                std::fs::create_dir_all(parent)?;
            }
        }
        os::ensure_private_dir(ring_dir, 0o700)?;
        let name = format!(
            "{}-{}-{:016x}",
            std::process::id(),
            os::process_start_ticks(),
            os::random_u64()
        );
        // Made under a name recovery ignores, locked, and only then renamed
        // into place: recovery never sees an instance whose lock its owner
        // does not hold yet.
        let dir = ring_dir.join(&name);
        let tmp = ring_dir.join(format!("{NEW_PREFIX}{name}"));
        std::fs::DirBuilder::new().mode_private().create(&tmp)?;
        // Held from the open of the lock file until its descriptor is in the
        // table (and the fork handlers take it), so a fork can never copy a
        // lock descriptor the child handler does not know about.
        let table = LOCK_TABLE.lock();
        let locked = os::open_file(
            &tmp.join("lock"),
            libc::O_RDWR | libc::O_CREAT | libc::O_EXCL,
            0o600,
            false,
        )
        .and_then(|lock| {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
                return Err(io::Error::last_os_error());
            }
            std::fs::rename(&tmp, &dir)?;
            Ok(lock)
        });
        match locked {
            Ok(lock) => {
                let fd = lock.as_raw_fd();
                // Ordering: Relaxed: see `Drop for Instance`.
                let slot = LOCK_FDS.iter().position(|s| {
                    s.compare_exchange(-1, fd, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                });
                drop(table);
                Ok(Instance {
                    dir,
                    lock: ManuallyDrop::new(lock),
                    slot,
                    generation: crate::runtime::fork_generation(),
                })
            }
            Err(e) => {
                // Leave nothing half-made behind.
                let _ = std::fs::remove_dir_all(&tmp);
                Err(e)
            }
        }
    }

    /// Removes the directory and everything in it (a clean shutdown),
    /// then drops the lock.
    pub(crate) fn remove(self) -> io::Result<()> {
        remove_instance_dir(&self.dir)
    }
}

trait DirBuilderExt2 {
    fn mode_private(&mut self) -> &mut Self;
}
impl DirBuilderExt2 for std::fs::DirBuilder {
    fn mode_private(&mut self) -> &mut Self {
        use std::os::unix::fs::DirBuilderExt;
        self.mode(0o700)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn an_instance_is_private_locked_and_removable() {
        let d = tempfile::tempdir().unwrap();
        let rd = d.path().join("rings");
        let inst = Instance::create(&rd).unwrap();
        let mode = std::fs::metadata(&inst.dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        // A second lock attempt on the same file fails while we hold it.
        let f = std::fs::File::open(inst.dir.join("lock")).unwrap();
        // SAFETY: flock on a descriptor we own.
        let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        assert_ne!(rc, 0);
        let dir = inst.dir.clone();
        inst.remove().unwrap();
        assert!(!dir.exists());
    }

    #[test]
    fn a_ring_dir_owned_loosely_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let rd = d.path().join("rings");
        std::fs::create_dir(&rd).unwrap();
        std::fs::set_permissions(&rd, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(Instance::create(&rd).is_err());
    }
}
