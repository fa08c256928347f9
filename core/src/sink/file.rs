//! A log file opened for appending.

use super::stream::write_fd;
use super::{Rotation, Sink};
use crate::os;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a file sink waits before it tries again to reopen a path that
/// could not be opened after a rotation.
const REOPEN_RETRY: Duration = Duration::from_secs(1);

/// Appends batches to a file opened with `O_APPEND | O_CLOEXEC | O_NOFOLLOW`
/// and created with mode 0640. With `O_APPEND` each batch lands whole at
/// the end, even when several processes (or several ringlog copies in one
/// process) share the file.
///
/// It follows log rotation (see [`Sink::follow_rotation`]): when the path
/// names another file than the one open (renamed or deleted, as
/// logrotate's `create` mode does), the path is opened again with the same
/// rules; when the file shrank below what this sink wrote (logrotate's
/// `copytruncate`), that is reported and, thanks to `O_APPEND`, writing
/// goes on at the new end. Each check is one `lstat` of the path and one
/// `fstat` of the descriptor; character devices are not checked.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    file: File,
    /// The first batch has not been written yet: before it, check whether
    /// a writer that died in the middle of a write left a cut line.
    check_cut: bool,
    /// A regular file (devices are neither renamed nor truncated).
    rotatable: bool,
    /// Device and inode of the open file.
    id: (u64, u64),
    /// Where the file ended when last looked at, plus what this sink
    /// appended since: a smaller size means someone truncated it.
    end: u64,
    /// After a failed reopen, the next attempt waits until then.
    reopen_after: Option<Instant>,
}

impl FileSink {
    /// Opens (creating if needed) `path` for appending.
    ///
    /// # Errors
    /// The open error; a symbolic link or a non-regular file (other than a
    /// character device such as `/dev/null`) is refused.
    pub fn open(path: &Path) -> io::Result<FileSink> {
        // Made absolute now, so a later `chdir` of the host does not send
        // a reopen after rotation somewhere else.
        let path = &std::path::absolute(path)?;
        let file = os::open_file(
            path,
            libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT,
            0o640,
            true,
        )?;
        let md = file.metadata()?;
        Ok(FileSink {
            path: path.to_path_buf(),
            file,
            check_cut: true,
            rotatable: md.is_file(),
            id: (md.dev(), md.ino()),
            end: md.len(),
            reopen_after: None,
        })
    }

    /// Remembers a failed reopen (the next try waits) and passes the error on.
    fn reopen_failed(&mut self, e: io::Error) -> io::Error {
        self.reopen_after = Some(Instant::now() + REOPEN_RETRY);
        e
    }

    /// The path this sink was opened with, made absolute.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// How long a file must have gone unwritten before a missing final
/// newline is taken for a line cut by a writer that died, rather than a
/// write in progress in another process (which updates the time as it
/// starts, and lands whole before ours: `O_APPEND` writes do not mix).
const CUT_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// True when `file` is a non-empty regular file, not written for
/// [`CUT_AFTER`], whose last byte is not a newline.
fn ends_inside_a_line(file: &File) -> bool {
    use std::os::unix::fs::FileExt;
    let Ok(md) = file.metadata() else {
        return false;
    };
    if !md.is_file() || md.len() == 0 {
        return false;
    }
    let idle = md
        .modified()
        .ok()
        .and_then(|m| m.elapsed().ok())
        .is_some_and(|age| age >= CUT_AFTER);
    if !idle {
        return false;
    }
    let mut last = [0u8; 1];
    // The descriptor is write-only: read through a second, read-only
    // open of the same file (by descriptor, so no path race).
    let Ok(r) = File::open(format!("/proc/self/fd/{}", file.as_raw_fd())) else {
        return false;
    };
    matches!(r.read_at(&mut last, md.len() - 1), Ok(1)) && last[0] != b'\n'
}

impl Sink for FileSink {
    fn write_batch(&mut self, buf: &[u8]) -> io::Result<()> {
        self.write_partial(buf).1
    }
    fn write_partial(&mut self, buf: &[u8]) -> (usize, io::Result<()>) {
        let fd = self.file.as_raw_fd();
        if self.check_cut && !buf.is_empty() {
            self.check_cut = false;
            if ends_inside_a_line(&self.file) {
                let (n, r) = write_fd(fd, b"\n");
                self.end += n as u64;
                if let Err(e) = r {
                    // Not written: look again before the retry.
                    self.check_cut = true;
                    return (0, Err(e));
                }
            }
        }
        let (n, r) = write_fd(fd, buf);
        self.end += n as u64;
        (n, r)
    }
    fn follow_rotation(&mut self) -> io::Result<Rotation> {
        if !self.rotatable || self.reopen_after.is_some_and(|t| Instant::now() < t) {
            return Ok(Rotation::Unchanged);
        }
        // lstat: a symbolic link planted at the path is another file, and
        // the reopen below refuses it (O_NOFOLLOW).
        let moved = match std::fs::symlink_metadata(&self.path) {
            Ok(md) => (md.dev(), md.ino()) != self.id,
            Err(e) if e.kind() == io::ErrorKind::NotFound => true,
            Err(e) => return Err(self.reopen_failed(e)),
        };
        if moved {
            return match FileSink::open(&self.path) {
                Ok(new) => {
                    // Dropping the old sink closes the old descriptor.
                    *self = new;
                    Ok(Rotation::Reopened)
                }
                Err(e) => Err(self.reopen_failed(e)),
            };
        }
        let size = self.file.metadata()?.len();
        let cut = size < self.end;
        self.end = size;
        Ok(if cut {
            Rotation::Truncated
        } else {
            Rotation::Unchanged
        })
    }
    fn sync(&mut self) -> io::Result<()> {
        // SAFETY: a descriptor we own.
        let rc = unsafe { libc::fdatasync(self.file.as_raw_fd()) };
        if rc != 0 {
            let e = io::Error::last_os_error();
            // Character devices and pipes cannot sync; that is not a loss.
            if e.raw_os_error() == Some(libc::EINVAL) {
                return Ok(());
            }
            return Err(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn files_are_created_0640_and_appended_to() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("app.log");
        std::fs::write(&p, b"old\n").unwrap();
        std::fs::remove_file(&p).unwrap();
        let mut s = FileSink::open(&p).unwrap();
        s.write_batch(b"a\n").unwrap();
        s.write_batch(b"b\n").unwrap();
        s.sync().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"a\nb\n");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o022, 0o640 & !0o022);
        let mut again = FileSink::open(&p).unwrap();
        again.write_batch(b"c\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"a\nb\nc\n");
    }

    #[test]
    fn dev_null_is_accepted_and_a_symlink_is_not() {
        assert!(FileSink::open(Path::new("/dev/null")).is_ok());
        let d = tempfile::tempdir().unwrap();
        let link = d.path().join("l");
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        assert!(FileSink::open(&link).is_err());
    }

    #[test]
    fn a_renamed_or_deleted_file_is_reopened_at_its_path_and_a_truncated_one_is_reported() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("app.log");
        let mut s = FileSink::open(&p).unwrap();
        assert_eq!(s.follow_rotation().unwrap(), Rotation::Unchanged);
        s.write_batch(b"one\n").unwrap();
        assert_eq!(s.follow_rotation().unwrap(), Rotation::Unchanged);
        // logrotate `create`: rename, then a new file appears at the path.
        std::fs::rename(&p, d.path().join("app.log.1")).unwrap();
        s.write_batch(b"two\n").unwrap();
        assert_eq!(s.follow_rotation().unwrap(), Rotation::Reopened);
        s.write_batch(b"three\n").unwrap();
        assert_eq!(
            std::fs::read(d.path().join("app.log.1")).unwrap(),
            b"one\ntwo\n"
        );
        assert_eq!(std::fs::read(&p).unwrap(), b"three\n");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o022, 0o640 & !0o022);
        // Deleted: created again.
        std::fs::remove_file(&p).unwrap();
        assert_eq!(s.follow_rotation().unwrap(), Rotation::Reopened);
        s.write_batch(b"four\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"four\n");
        // copytruncate: the same file, cut to nothing; appending goes on
        // at its new end (no hole where the old bytes were).
        File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        assert_eq!(s.follow_rotation().unwrap(), Rotation::Truncated);
        assert_eq!(s.follow_rotation().unwrap(), Rotation::Unchanged);
        s.write_batch(b"five\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"five\n");
        // Another writer appending is not a truncation.
        File::options()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"other writer\n")
            .unwrap();
        assert_eq!(s.follow_rotation().unwrap(), Rotation::Unchanged);
    }

    #[test]
    fn a_symlink_planted_at_the_path_is_refused_and_writing_goes_on_in_the_open_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("app.log");
        let mut s = FileSink::open(&p).unwrap();
        std::fs::rename(&p, d.path().join("old")).unwrap();
        std::os::unix::fs::symlink(d.path().join("elsewhere"), &p).unwrap();
        assert!(s.follow_rotation().is_err());
        // The next try waits a while instead of failing on every batch.
        assert_eq!(s.follow_rotation().unwrap(), Rotation::Unchanged);
        s.write_batch(b"kept\n").unwrap();
        assert_eq!(std::fs::read(d.path().join("old")).unwrap(), b"kept\n");
        assert!(!d.path().join("elsewhere").exists());
    }

    #[test]
    fn devices_are_not_checked_for_rotation_and_dev_full_reports_enospc() {
        let mut s = FileSink::open(Path::new("/dev/full")).unwrap();
        assert_eq!(s.follow_rotation().unwrap(), Rotation::Unchanged);
        let (n, r) = s.write_partial(b"x\n");
        assert_eq!((n, r.unwrap_err().raw_os_error()), (0, Some(libc::ENOSPC)));
    }

    #[test]
    fn a_file_left_ending_inside_a_line_gets_a_newline_before_the_next_record() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("app.log");
        std::fs::write(&p, b"{\"whole\":1}\n{\"cut").unwrap();
        // Written just now, it could be another process's write in
        // progress; two seconds old, it is a cut line.
        let f = File::options().append(true).open(&p).unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(2);
        f.set_modified(old).unwrap();
        let mut s = FileSink::open(&p).unwrap();
        s.write_batch(b"{\"next\":2}\n").unwrap();
        s.write_batch(b"{\"more\":3}\n").unwrap();
        assert_eq!(
            std::fs::read(&p).unwrap(),
            b"{\"whole\":1}\n{\"cut\n{\"next\":2}\n{\"more\":3}\n"
        );
    }

    #[test]
    fn a_file_another_writer_just_wrote_gets_no_extra_newline() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("app.log");
        std::fs::write(&p, b"{\"partly\":").unwrap();
        let mut s = FileSink::open(&p).unwrap();
        s.write_batch(b"1}\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{\"partly\":1}\n");
    }
}
