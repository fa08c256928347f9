//! A log file opened for appending.

use super::stream::write_all_fd;
use super::Sink;
use crate::os;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Appends batches to a file opened with `O_APPEND | O_CLOEXEC | O_NOFOLLOW`
/// and created with mode 0640. With `O_APPEND` each batch lands whole at
/// the end, even when several processes (or several ringlog copies in one
/// process) share the file.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    file: File,
    /// The file ended inside a line when opened (a writer died in the
    /// middle of a write): the first batch starts on a new line.
    torn: bool,
}

impl FileSink {
    /// Opens (creating if needed) `path` for appending.
    ///
    /// # Errors
    /// The open error; a symbolic link or a non-regular file (other than a
    /// character device such as `/dev/null`) is refused.
    pub fn open(path: &Path) -> io::Result<FileSink> {
        let file = os::open_file(
            path,
            libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT,
            0o640,
            true,
        )?;
        let torn = ends_inside_a_line(&file);
        Ok(FileSink {
            path: path.to_path_buf(),
            file,
            torn,
        })
    }

    /// The path this sink was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// True when `file` is a non-empty regular file whose last byte is not a
/// newline.
fn ends_inside_a_line(file: &File) -> bool {
    use std::os::unix::fs::FileExt;
    let Ok(md) = file.metadata() else {
        return false;
    };
    if !md.is_file() || md.len() == 0 {
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
        if self.torn && !buf.is_empty() {
            write_all_fd(self.file.as_raw_fd(), b"\n")?;
            self.torn = false;
        }
        write_all_fd(self.file.as_raw_fd(), buf)
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
    fn a_file_left_ending_inside_a_line_gets_a_newline_before_the_next_record() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("app.log");
        std::fs::write(&p, b"{\"whole\":1}\n{\"cut").unwrap();
        let mut s = FileSink::open(&p).unwrap();
        s.write_batch(b"{\"next\":2}\n").unwrap();
        s.write_batch(b"{\"more\":3}\n").unwrap();
        assert_eq!(
            std::fs::read(&p).unwrap(),
            b"{\"whole\":1}\n{\"cut\n{\"next\":2}\n{\"more\":3}\n"
        );
    }
}
