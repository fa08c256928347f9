//! Trace context carried by a `contextvars.ContextVar`.
//!
//! The core keeps a current trace context per OS thread, which is wrong for
//! asyncio, where many tasks share a thread. The binding keeps it in a
//! context variable instead (it follows tasks and stays separate between
//! threads) and passes it to the core explicitly with every record.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use ringlog::TraceContext;
use std::sync::atomic::{AtomicBool, Ordering};

/// A parsed W3C trace context, as stored in the context variable.
#[pyclass(frozen, module = "ringlog._ringlog", name = "TraceContext")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct PyTraceContext {
    pub ctx: TraceContext,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn parse_hex<const N: usize>(s: &str, what: &str) -> PyResult<[u8; N]> {
    let s = s.trim().to_ascii_lowercase();
    let bad = || PyValueError::new_err(format!("{what} must be {} hex digits", 2 * N));
    if s.len() != 2 * N {
        return Err(bad());
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

#[pymethods]
impl PyTraceContext {
    /// Builds a context from a `traceparent` header value or from ids.
    #[new]
    #[pyo3(signature = (traceparent=None, *, trace_id=None, span_id=None, trace_flags=1))]
    fn new(
        traceparent: Option<&str>,
        trace_id: Option<&str>,
        span_id: Option<&str>,
        trace_flags: u8,
    ) -> PyResult<Self> {
        let ctx = match (traceparent, trace_id, span_id) {
            (Some(tp), None, None) => TraceContext::parse_traceparent(tp.trim().as_bytes())
                .map_err(PyValueError::new_err)?,
            (None, Some(t), Some(s)) => TraceContext::new(
                parse_hex::<16>(t, "trace_id")?,
                parse_hex::<8>(s, "span_id")?,
                trace_flags,
            )
            .ok_or_else(|| PyValueError::new_err("trace_id or span_id is all zeros"))?,
            _ => {
                return Err(PyValueError::new_err(
                    "give either traceparent, or both trace_id and span_id",
                ))
            }
        };
        USED.store(true, Ordering::Relaxed);
        Ok(PyTraceContext { ctx })
    }

    /// The trace id as 32 lowercase hex digits.
    #[getter]
    fn trace_id(&self) -> String {
        hex(&self.ctx.trace_id)
    }

    /// The span id as 16 lowercase hex digits.
    #[getter]
    fn span_id(&self) -> String {
        hex(&self.ctx.span_id)
    }

    /// The trace flags byte.
    #[getter]
    fn trace_flags(&self) -> u8 {
        self.ctx.flags
    }

    /// The `traceparent` header value.
    #[getter]
    fn traceparent(&self) -> String {
        let mut buf = [0u8; 55];
        self.ctx.write_traceparent(&mut buf).to_owned()
    }

    fn __repr__(&self) -> String {
        format!("TraceContext({:?})", self.traceparent())
    }
}

/// Set once any trace context was made: until then a log call skips the
/// context-variable lookup.
// Ordering: Relaxed: a context made on another thread is set in a context
// variable through the interpreter, which already orders the two threads.
static USED: AtomicBool = AtomicBool::new(false);

static VAR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The context variable holding the current [`PyTraceContext`].
pub(crate) fn var(py: Python<'_>) -> PyResult<&Py<PyAny>> {
    VAR.get_or_try_init(py, || {
        Ok(py
            .import("contextvars")?
            .getattr("ContextVar")?
            .call1(("ringlog_trace_context",))?
            .unbind())
    })
}

/// The current trace context of this task or thread, if any.
#[inline]
pub(crate) fn current(py: Python<'_>) -> Option<TraceContext> {
    // Ordering: Relaxed, see `USED`.
    if !USED.load(Ordering::Relaxed) {
        return None;
    }
    current_slow(py)
}

#[cold]
fn current_slow(py: Python<'_>) -> Option<TraceContext> {
    let v = var(py)
        .ok()?
        .bind(py)
        .call_method1("get", (py.None(),))
        .ok()?;
    let c = v.cast::<PyTraceContext>().ok()?;
    Some(c.get().ctx)
}
