//! W3C trace context: given with a call, or set as the thread's current one.

use std::cell::Cell;
use std::fmt;

/// A W3C trace context: 16-byte trace id, 8-byte span id and the flags byte.
///
/// ```
/// use ringlog::TraceContext;
/// let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// let ctx = TraceContext::parse_traceparent(tp.as_bytes()).unwrap();
/// assert_eq!(ctx.flags, 1);
/// assert_eq!(ctx.span_id, [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TraceContext {
    /// The trace id; all zeros is invalid.
    pub trace_id: [u8; 16],
    /// The span id; all zeros is invalid.
    pub span_id: [u8; 8],
    /// The trace flags (bit 0: sampled).
    pub flags: u8,
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 55];
        let s = self.write_traceparent(&mut buf);
        f.write_str(s)
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn parse_hex(src: &[u8], dst: &mut [u8]) -> bool {
    if src.len() != dst.len() * 2 {
        return false;
    }
    for (i, d) in dst.iter_mut().enumerate() {
        match (hex_val(src[2 * i]), hex_val(src[2 * i + 1])) {
            (Some(h), Some(l)) => *d = (h << 4) | l,
            _ => return false,
        }
    }
    true
}

/// Writes `src` as lowercase hex into `dst` (which must be twice as long).
pub(crate) fn write_hex(src: &[u8], dst: &mut [u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in src.iter().enumerate() {
        dst[2 * i] = HEX[(b >> 4) as usize];
        dst[2 * i + 1] = HEX[(b & 15) as usize];
    }
}

impl TraceContext {
    /// Builds a context from ids; `None` when either id is all zeros.
    pub fn new(trace_id: [u8; 16], span_id: [u8; 8], flags: u8) -> Option<Self> {
        let ctx = TraceContext {
            trace_id,
            span_id,
            flags,
        };
        ctx.is_valid().then_some(ctx)
    }

    /// True when neither id is all zeros (the W3C validity rule).
    pub fn is_valid(&self) -> bool {
        self.trace_id != [0; 16] && self.span_id != [0; 8]
    }

    /// Parses a W3C `traceparent` header value (`00-<32 hex>-<16 hex>-<2 hex>`).
    ///
    /// Lowercase hex only, as the W3C spec requires. A future version (not
    /// `00`) may carry more fields after the flags, which are ignored.
    ///
    /// # Errors
    /// Returns a message saying which part is malformed.
    pub fn parse_traceparent(s: &[u8]) -> Result<Self, &'static str> {
        if s.len() < 55 {
            return Err("traceparent is shorter than 55 characters");
        }
        let mut version = [0u8; 1];
        if !parse_hex(&s[0..2], &mut version) || version[0] == 0xff {
            return Err("traceparent version is not two lowercase hex digits (or is ff)");
        }
        if version[0] == 0 && s.len() != 55 {
            return Err("traceparent version 00 must be exactly 55 characters");
        }
        if s[2] != b'-' || s[35] != b'-' || s[52] != b'-' || (s.len() > 55 && s[55] != b'-') {
            return Err("traceparent separators are not where they belong");
        }
        let mut ctx = TraceContext::default();
        if !parse_hex(&s[3..35], &mut ctx.trace_id) {
            return Err("trace-id is not 32 lowercase hex digits");
        }
        if !parse_hex(&s[36..52], &mut ctx.span_id) {
            return Err("parent-id is not 16 lowercase hex digits");
        }
        let mut flags = [0u8; 1];
        if !parse_hex(&s[53..55], &mut flags) {
            return Err("trace-flags is not two lowercase hex digits");
        }
        ctx.flags = flags[0];
        if !ctx.is_valid() {
            return Err("trace-id or parent-id is all zeros");
        }
        Ok(ctx)
    }

    /// Writes the `traceparent` form into `buf` and returns it as text.
    pub fn write_traceparent<'b>(&self, buf: &'b mut [u8; 55]) -> &'b str {
        buf[0] = b'0';
        buf[1] = b'0';
        buf[2] = b'-';
        write_hex(&self.trace_id, &mut buf[3..35]);
        buf[35] = b'-';
        write_hex(&self.span_id, &mut buf[36..52]);
        buf[52] = b'-';
        write_hex(&[self.flags], &mut buf[53..55]);
        // Only ASCII hex digits and dashes were written.
        std::str::from_utf8(&buf[..]).unwrap_or("")
    }
}

thread_local! {
    static CURRENT: Cell<Option<TraceContext>> = const { Cell::new(None) };
}

/// Sets the calling thread's current trace context; records logged on this
/// thread without an explicit context carry it until [`clear_current`].
pub fn set_current(ctx: Option<TraceContext>) {
    CURRENT.with(|c| c.set(ctx));
}

/// Clears the calling thread's current trace context.
pub fn clear_current() {
    set_current(None);
}

/// The calling thread's current trace context.
#[inline]
pub fn current() -> Option<TraceContext> {
    CURRENT.with(|c| c.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips() {
        let tp = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let ctx = TraceContext::parse_traceparent(tp).unwrap();
        let mut buf = [0u8; 55];
        assert_eq!(ctx.write_traceparent(&mut buf).as_bytes(), tp);
    }

    #[test]
    fn malformed_traceparents_are_rejected() {
        for bad in [
            &b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331"[..],
            b"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            b"00-00000000000000000000000000000000-b7ad6b7169203331-01",
            b"00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            b"ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            b"00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
        ] {
            assert!(TraceContext::parse_traceparent(bad).is_err(), "{bad:?}");
        }
        // A later version may carry more fields.
        assert!(TraceContext::parse_traceparent(
            b"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra"
        )
        .is_ok());
    }

    #[test]
    fn the_current_context_is_per_thread() {
        let ctx = TraceContext::new([1; 16], [2; 8], 1).unwrap();
        set_current(Some(ctx));
        std::thread::spawn(|| assert_eq!(current(), None))
            .join()
            .unwrap();
        assert_eq!(current(), Some(ctx));
        clear_current();
        assert_eq!(current(), None);
    }
}
