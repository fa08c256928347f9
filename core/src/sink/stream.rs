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
pub(crate) fn write_all_fd(fd: libc::c_int, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: `buf` is a valid slice; fd is an open descriptor.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
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
                _ => return Err(e),
            }
        }
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "write returned 0"));
        }
        buf = &buf[n as usize..];
    }
    Ok(())
}

impl Sink for StreamSink {
    fn write_batch(&mut self, buf: &[u8]) -> io::Result<()> {
        write_all_fd(self.fd, buf)
    }
    fn is_terminal(&self) -> bool {
        self.tty
    }
}
