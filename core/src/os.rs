//! Thin, careful wrappers over the system calls that create files and
//! directories, read the clock, and name threads.
//!
//! Everything here opens with `O_CLOEXEC` and `O_NOFOLLOW`, so a descriptor
//! never leaks into a child program and a planted symbolic link is refused
//! rather than followed.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn cpath(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// Opens (creating if asked) a regular file with `O_NOFOLLOW | O_CLOEXEC`.
///
/// `flags` are extra `O_*` flags (access mode included); `mode` applies
/// when the file is created. A path that is not a regular file (a FIFO, a
/// device, a directory) is refused, except the character devices that
/// sinks may legitimately name (`/dev/null`, `/dev/full`, ttys) when
/// `allow_char_device` is set.
///
/// # Errors
/// The `open` error, or `InvalidInput` for a file of the wrong type.
pub(crate) fn open_file(
    path: &Path,
    flags: libc::c_int,
    mode: libc::mode_t,
    allow_char_device: bool,
) -> io::Result<File> {
    let c = cpath(path)?;
    // O_NONBLOCK keeps a FIFO planted at the path from blocking the open;
    // it is cleared again below for the file types we accept.
    let fl = flags | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK;
    // SAFETY: `c` is a valid NUL-terminated path; the flags and mode are
    // plain integers.
    let fd = unsafe { libc::open(c.as_ptr(), fl, mode as libc::c_uint) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by open and is owned by nobody else.
    let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let ft = file.metadata()?.file_type();
    use std::os::unix::fs::FileTypeExt;
    if !(ft.is_file() || (allow_char_device && ft.is_char_device())) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    // SAFETY: F_GETFL/F_SETFL on a descriptor we own.
    unsafe {
        let cur = libc::fcntl(fd, libc::F_GETFL);
        if cur >= 0 && flags & libc::O_NONBLOCK == 0 {
            libc::fcntl(fd, libc::F_SETFL, cur & !libc::O_NONBLOCK);
        }
    }
    Ok(file)
}

/// Creates `dir` with `mode` if it is missing, then checks that it is a real
/// directory (not a link), owned by this user, and not writable by others.
///
/// # Errors
/// The creation error, or `PermissionDenied` naming what is wrong.
pub(crate) fn ensure_private_dir(dir: &Path, mode: libc::mode_t) -> io::Result<()> {
    let c = cpath(dir)?;
    // SAFETY: valid C string.
    let rc = unsafe { libc::mkdir(c.as_ptr(), mode) };
    if rc != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EEXIST) {
            return Err(e);
        }
    }
    check_private_dir(dir)
}

/// Checks that `dir` is a real directory (not a link), owned by this user,
/// and not writable by others.
///
/// # Errors
/// The `lstat` error, or `PermissionDenied` naming what is wrong.
pub(crate) fn check_private_dir(dir: &Path) -> io::Result<()> {
    let md = std::fs::symlink_metadata(dir)?;
    use std::os::unix::fs::MetadataExt;
    if !md.file_type().is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is not a directory (a link or file is in its place)",
                dir.display()
            ),
        ));
    }
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    if md.uid() != uid {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is owned by uid {}, not by this user ({uid})",
                dir.display(),
                md.uid()
            ),
        ));
    }
    if md.mode() & 0o022 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is writable by group or others (mode {:o})",
                dir.display(),
                md.mode() & 0o777
            ),
        ));
    }
    Ok(())
}

/// Wall-clock time in ns since the Unix epoch (`CLOCK_REALTIME`).
#[inline(always)]
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; CLOCK_REALTIME always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000) + ts.tv_nsec as u64
}

/// The calling thread's OS thread id.
pub fn thread_id() -> u64 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as u64 }
}

/// Eight random bytes from the kernel (for instance-directory nonces).
pub(crate) fn random_u64() -> u64 {
    let mut v = 0u64;
    // SAFETY: writes at most 8 bytes into `v`.
    let n = unsafe { libc::getrandom((&mut v as *mut u64).cast(), 8, 0) };
    if n != 8 {
        // Fall back to the clock and the address of a stack value.
        v = now_ns() ^ ((&v as *const u64 as u64) << 16);
    }
    v
}

/// This process's start time in clock ticks since boot (field 22 of
/// `/proc/self/stat`), which with the pid names a process uniquely.
pub(crate) fn process_start_ticks() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // The command name (field 2) may hold spaces; fields resume after ')'.
    s.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(19))
        .and_then(|f| f.parse().ok())
        .unwrap_or(0)
}

/// True when `fd` refers to a terminal.
pub(crate) fn is_tty(fd: libc::c_int) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_planted_symlink_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("target");
        std::fs::write(&target, b"x").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = open_file(&link, libc::O_WRONLY | libc::O_APPEND, 0o600, false).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("fifo");
        let c = cpath(&p).unwrap();
        // SAFETY: valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(open_file(&p, libc::O_RDONLY, 0, false).is_err());
    }

    #[test]
    fn private_dirs_are_created_0700_and_loose_ones_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("rings");
        ensure_private_dir(&p, 0o700).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(ensure_private_dir(&p, 0o700).is_err());
    }

    #[test]
    fn process_start_ticks_is_read() {
        assert!(process_start_ticks() > 0);
    }
}
