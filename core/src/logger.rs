//! Loggers: named handles with a level and, for children, bound fields.

use crate::context::TraceContext;
use crate::error::{Error, LogError};
use crate::level::Level;
use crate::producer;
use crate::record;
use crate::registry::LoggerDef;
use crate::runtime::Shared;
use crate::sync::{AtomicU8, Ordering};
use crate::value::{Field, FieldSource};
use std::sync::Arc;

/// A logger's effective minimum level, shared by every logger with the
/// same name (children included) so a run-time change reaches them all.
#[derive(Debug)]
pub(crate) struct LevelCell(AtomicU8);

impl LevelCell {
    pub(crate) fn new(l: Level) -> Self {
        LevelCell(AtomicU8::new(l.number()))
    }
    #[inline(always)]
    pub(crate) fn get(&self) -> u8 {
        // Ordering: Relaxed: a level change may take effect a moment late;
        // nothing else is published through this value.
        self.0.load(Ordering::Relaxed)
    }
    pub(crate) fn set(&self, l: Level) {
        // Ordering: Relaxed, as in `get`.
        self.0.store(l.number(), Ordering::Relaxed)
    }
}

/// What a logger handle points at.
#[derive(Debug)]
pub(crate) struct LoggerInner {
    pub id: u64,
    pub def: Arc<LoggerDef>,
    pub level: Arc<LevelCell>,
    pub rt: Arc<Shared>,
    /// Children retire their definition when the last handle goes.
    pub child: bool,
}

impl Drop for LoggerInner {
    fn drop(&mut self) {
        // In a fork child the registry is the parent's (its locks may have
        // been held at the fork): leave it alone.
        if self.child && !self.rt.forked() {
            self.rt.registry.retire(self.id);
        }
    }
}

/// A handle for logging records under one name.
///
/// Cheap to clone. Records go to the runtime the logger came from.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use ringlog::{Config, Field, Level, Runtime};
/// let mut cfg = Config::default();
/// cfg.ring_dir = Some(dir.path().to_path_buf());
/// let (sink, out) = ringlog::sink::memory::MemorySink::new();
/// let rt = Runtime::builder(cfg).replace_sinks().sink("mem", Box::new(sink)).start().unwrap();
/// let log = rt.logger("payments");
/// let req = log.child(&[Field::str("request_id", "r-1")]).unwrap();
/// req.info("charge ok", &[Field::f64("amount", 12.5)]).unwrap();
/// rt.shutdown(std::time::Duration::from_secs(5)).unwrap();
/// let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
/// assert!(text.contains(r#""request_id":"r-1""#) && text.contains(r#""amount":12.5"#));
/// ```
#[derive(Clone, Debug)]
pub struct Logger {
    pub(crate) inner: Arc<LoggerInner>,
}

impl Logger {
    /// The logger's name.
    pub fn name(&self) -> &[u8] {
        &self.inner.def.name
    }

    /// True when a record at `level` would be logged: one relaxed load.
    #[inline(always)]
    pub fn enabled(&self, level: Level) -> bool {
        level.number() >= self.inner.level.get()
    }

    /// Logs a record: the full form.
    ///
    /// `ts_ns` is the timestamp in ns since the Unix epoch, or 0 for now.
    /// `ctx` is the trace context, or `None` for the thread's current one.
    /// A record below the logger's level is skipped and `Ok` is returned.
    ///
    /// # Errors
    /// [`LogError`] when the record was dropped or refused; every case is
    /// counted in [`crate::Stats`].
    #[inline]
    pub fn log_with<F: FieldSource>(
        &self,
        level: Level,
        ts_ns: u64,
        ctx: Option<&TraceContext>,
        msg: &[u8],
        fields: &[F],
    ) -> Result<(), LogError> {
        if !self.enabled(level) {
            return Ok(());
        }
        producer::log(&self.inner, level, ts_ns, ctx, msg, fields)
    }

    /// Logs a record at `level` with the current time and trace context.
    ///
    /// # Errors
    /// As [`Logger::log_with`].
    #[inline]
    pub fn log(&self, level: Level, msg: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
        self.log_with(level, 0, None, msg.as_bytes(), fields)
    }

    /// Logs at TRACE. # Errors: as [`Logger::log_with`].
    #[allow(clippy::missing_errors_doc)]
    pub fn trace(&self, msg: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
        self.log(Level::TRACE, msg, fields)
    }
    /// Logs at DEBUG. # Errors: as [`Logger::log_with`].
    #[allow(clippy::missing_errors_doc)]
    pub fn debug(&self, msg: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
        self.log(Level::DEBUG, msg, fields)
    }
    /// Logs at INFO. # Errors: as [`Logger::log_with`].
    #[allow(clippy::missing_errors_doc)]
    pub fn info(&self, msg: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
        self.log(Level::INFO, msg, fields)
    }
    /// Logs at WARN. # Errors: as [`Logger::log_with`].
    #[allow(clippy::missing_errors_doc)]
    pub fn warn(&self, msg: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
        self.log(Level::WARN, msg, fields)
    }
    /// Logs at ERROR. # Errors: as [`Logger::log_with`].
    #[allow(clippy::missing_errors_doc)]
    pub fn error(&self, msg: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
        self.log(Level::ERROR, msg, fields)
    }
    /// Logs at FATAL. # Errors: as [`Logger::log_with`].
    #[allow(clippy::missing_errors_doc)]
    pub fn fatal(&self, msg: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
        self.log(Level::FATAL, msg, fields)
    }

    /// Counts a record that a binding refused before it reached
    /// [`Logger::log_with`] (a NULL message, a bad level), so that every
    /// refused record shows in [`crate::Stats::rejected_invalid`].
    #[cold]
    pub fn count_rejected(&self) {
        crate::stats::Counters::bump(&self.inner.rt.counters.rejected_invalid);
    }

    /// A child logger with `fields` bound: they are copied once, now, and
    /// written with every record the child logs, before the record's own
    /// fields. The child shares the parent's name and level.
    ///
    /// # Errors
    /// [`Error::Config`] when a field cannot be read.
    pub fn child<F: FieldSource>(&self, fields: &[F]) -> Result<Logger, Error> {
        if self.inner.rt.forked() {
            // The inherited runtime belongs to the parent: defining a logger
            // would append to the parent's metadata file.
            return Err(Error::Shutdown);
        }
        let own = record::encode_fields(fields).map_err(|e| Error::Config(e.to_string()))?;
        let parent = &self.inner.def;
        let count = parent.bound_count as usize + fields.len();
        if count > u16::MAX as usize {
            return Err(Error::Config("more than 65535 bound fields".into()));
        }
        let mut bound = Vec::with_capacity(parent.bound.len() + own.len());
        bound.extend_from_slice(&parent.bound);
        bound.extend_from_slice(&own);
        let rt = &self.inner.rt;
        let (id, def) = rt.registry.define(LoggerDef {
            name: parent.name.clone(),
            bound: bound.into_boxed_slice(),
            bound_count: count as u32,
            site: None,
        });
        Ok(Logger {
            inner: Arc::new(LoggerInner {
                id,
                def,
                level: self.inner.level.clone(),
                rt: rt.clone(),
                child: true,
            }),
        })
    }
}
