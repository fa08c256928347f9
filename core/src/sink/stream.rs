//! Standard error and standard output.

use super::Sink;
use crate::os;
use std::io;

/// Writes whole batches to a file descriptor the process already has open
/// (fd 1 or 2). The descriptor is borrowed, never closed.
#[derive(Debug)]
pub struct StreamSink {
    fd: libc::c_int,
    tty: bool,
}

impl StreamSink {
    /// Standard error.
    pub fn stderr() -> Self {
        StreamSink {
            fd: 2,
            tty: os::is_tty(2),
        }
    }
    /// Standard output.
    pub fn stdout() -> Self {
        StreamSink {
            fd: 1,
            tty: os::is_tty(1),
        }
    }
}

/// Writes all of `buf` to `fd`, retrying on EINTR and short writes, and
/// waiting with `poll` when a non-blocking descriptor says EAGAIN.
///
/// # Errors
/// The first error other than EINTR and EAGAIN.
pub(crate) fn write_all_fd(fd: libc::c_int, buf: &[u8]) -> io::Result<()> {
    write_fd(fd, buf).1
}

/// [`write_all_fd`] that also says how many bytes went out before an
/// error (all of them on success), so the caller can retry the rest.
pub(crate) fn write_fd(fd: libc::c_int, buf: &[u8]) -> (usize, io::Result<()>) {
    let mut done = 0;
    while done < buf.len() {
        let rest = &buf[done..];
        // SAFETY: `rest` is a valid slice of `rest.len()` bytes; fd is an
        // open descriptor.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => {
                    let mut p = libc::pollfd {
                        fd,
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd.
                    unsafe { libc::poll(&mut p, 1, 100) };
                    continue;
                }
                _ => return (done, Err(e)),
            }
        }
        if n == 0 {
            return (
                done,
                Err(io::Error::new(io::ErrorKind::WriteZero, "write returned 0")),
            );
        }
        done += n as usize;
    }
    (done, Ok(()))
}

impl Sink for StreamSink {
    fn write_batch(&mut self, buf: &[u8]) -> io::Result<()> {
        write_all_fd(self.fd, buf)
    }
    fn write_partial(&mut self, buf: &[u8]) -> (usize, io::Result<()>) {
        write_fd(self.fd, buf)
    }
    fn is_terminal(&self) -> bool {
        self.tty
    }
}
