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

/// How long one write waits in all for a non-blocking descriptor whose
/// reader does not keep up.
const STALL_LIMIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Writes all of `buf` to `fd`, retrying on EINTR and short writes, and
/// waiting with `poll` when a non-blocking descriptor says EAGAIN, up to
/// [`STALL_LIMIT`] in all: a reader that stays stalled longer makes it an
/// error the caller retries later with backoff, so the flusher never
/// hangs on it.
///
/// # Errors
/// The first error other than EINTR and EAGAIN; EAGAIN itself after the
/// stall limit.
pub(crate) fn write_all_fd(fd: libc::c_int, buf: &[u8]) -> io::Result<()> {
    write_fd(fd, buf).1
}

/// [`write_all_fd`] that also says how many bytes went out before an
/// error (all of them on success), so the caller can retry the rest.
pub(crate) fn write_fd(fd: libc::c_int, buf: &[u8]) -> (usize, io::Result<()>) {
    let mut done = 0;
    let mut stalled = std::time::Duration::ZERO;
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
                    if stalled >= STALL_LIMIT {
                        return (done, Err(e));
                    }
                    let t0 = std::time::Instant::now();
                    let mut p = libc::pollfd {
                        fd,
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd.
                    unsafe { libc::poll(&mut p, 1, 100) };
                    stalled += t0.elapsed();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stalled_non_blocking_reader_makes_the_write_give_up_instead_of_hanging() {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
        assert_eq!(rc, 0);
        let buf = vec![b'x'; 1 << 20];
        // Nobody reads: the pipe fills, then EAGAIN until the stall limit.
        let (done, r) = write_fd(fds[1], &buf);
        let e = r.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EAGAIN));
        assert!(done > 0 && done < buf.len(), "{done}");
        // SAFETY: closing the two descriptors made above.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }
}
