//! Call sites: a message and typed keys registered once, so that each
//! record carries only its values.
//!
//! A logging statement that always has the same message and keys (most
//! do) can be registered as a [`Site`]. The site's definition (its
//! logger's name and bound fields, the level, the message and a key table)
//! goes through the registry like a child logger's, so it is in the
//! metadata file before any record can name it, and recovery can print
//! the records of a dead process. A record then holds the time, the
//! sequence number, the site id and the values: for the common three-field
//! record that is 64 ring bytes instead of 112, and the producer copies
//! no key, message or type code.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! use ringlog::{site::Kind, Config, Level, Runtime, Value};
//! let mut cfg = Config::default();
//! cfg.ring_dir = Some(dir.path().to_path_buf());
//! let (sink, out) = ringlog::sink::memory::MemorySink::new();
//! let rt = Runtime::builder(cfg).replace_sinks().sink("mem", Box::new(sink)).start().unwrap();
//! let log = rt.logger("api");
//! let handled = log
//!     .site(Level::INFO, "request handled", &[("user", Kind::Str), ("status", Kind::I64)])
//!     .unwrap();
//! handled.log(&[Value::Str(b"alice"), Value::I64(200)]).unwrap();
//! rt.shutdown(std::time::Duration::from_secs(5)).unwrap();
//! let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
//! assert!(text.contains(r#""msg":"request handled","user":"alice","status":200"#));
//! ```

use crate::context::TraceContext;
use crate::error::{Error, LogError};
use crate::level::Level;
use crate::logger::{Logger, LoggerInner};
use crate::producer;
use crate::record::{tag, varies, RecordError, FLAG_SITE};
use crate::registry::{LoggerDef, SiteDef};
use crate::value::Value;
use std::sync::Arc;

/// The type of a call site's value, fixed when the site is registered.
/// Groups are not allowed (a site's record is flat).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `null`: the record carries nothing for it.
    Null,
    /// UTF-8 text.
    Str,
    /// Signed 64-bit integer.
    I64,
    /// Unsigned 64-bit integer.
    U64,
    /// 64-bit float.
    F64,
    /// Boolean.
    Bool,
    /// Raw bytes.
    Bytes,
}

impl Kind {
    /// The record field tag of this kind.
    pub fn tag(self) -> u8 {
        match self {
            Kind::Null => tag::NULL,
            Kind::Str => tag::STR,
            Kind::I64 => tag::I64,
            Kind::U64 => tag::U64,
            Kind::F64 => tag::F64,
            Kind::Bool => tag::BOOL,
            Kind::Bytes => tag::BYTES,
        }
    }

    /// The kind with field tag `t` (the C ABI's type codes), or `None` for
    /// a group or an unknown code.
    pub fn from_tag(t: u32) -> Option<Kind> {
        Some(match u8::try_from(t).ok()? {
            tag::NULL => Kind::Null,
            tag::STR => Kind::Str,
            tag::I64 => Kind::I64,
            tag::U64 => Kind::U64,
            tag::F64 => Kind::F64,
            tag::BOOL => Kind::Bool,
            tag::BYTES => Kind::Bytes,
            _ => return None,
        })
    }
}

/// A call-site value as the record writer reads it.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// An 8-byte value (integers, a float's bits, a bool as 0 or 1; null
    /// as 0, of which nothing is written).
    Word(u64),
    /// Text or bytes.
    Bytes(&'a [u8]),
}

/// Why a call-site value cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgError {
    /// A pointer was NULL while its length was not zero.
    NullPointer,
    /// The value is not of the type its key was registered with.
    WrongType,
}

/// A call-site value in some caller's memory layout.
///
/// `arg` gives [`Arg::Bytes`] for text and bytes and [`Arg::Word`] for
/// every other kind; the other variant is refused as a wrong type.
///
/// # Safety
/// As for [`crate::FieldSource`]: the writer sizes the record from one
/// pass over the values and copies them in a second, so `arg` must give
/// the same answer (same variant and length) both times while a log call
/// runs.
pub unsafe trait ArgSource {
    /// True when `arg` reads every value of a fixed-size kind (integers,
    /// floats, bool, null) as [`Arg::Word`] and never refuses one: the C
    /// ABI's union, whose member the site's kind names. The size pass then
    /// visits only a site's text and bytes values. (Were it wrong, the
    /// writer still stores exactly the bytes it sized: a zero word for a
    /// fixed-size value it cannot read.)
    const WORDS_ALWAYS_READ: bool = false;

    /// The value read as field type `tag` (one of a site's kinds).
    fn arg(&self, tag: u8) -> Result<Arg<'_>, ArgError>;
}

// SAFETY: `Value` is plain borrowed data; `arg` reads it unchanged.
unsafe impl ArgSource for Value<'_> {
    #[inline(always)]
    fn arg(&self, t: u8) -> Result<Arg<'_>, ArgError> {
        Ok(match (t, *self) {
            (tag::STR, Value::Str(s)) | (tag::BYTES, Value::Bytes(s)) => Arg::Bytes(s),
            (tag::I64, Value::I64(v)) => Arg::Word(v as u64),
            (tag::U64, Value::U64(v)) => Arg::Word(v),
            (tag::F64, Value::F64(v)) => Arg::Word(v.to_bits()),
            (tag::BOOL, Value::Bool(v)) => Arg::Word(v as u64),
            (tag::NULL, Value::Null) => Arg::Word(0),
            _ => return Err(ArgError::WrongType),
        })
    }
}

/// The producer's view of a site: what the hot path needs, precomputed.
#[derive(Debug)]
pub(crate) struct SiteInner {
    /// Holds the site's definition id; retires it when the last handle
    /// goes, as a child logger does.
    pub logger: Arc<LoggerInner>,
    pub level: Level,
    /// The kind tag of each value, in order.
    pub tags: Box<[u8]>,
    /// Bytes of the fixed-size values (all but text and bytes).
    pub fixed: usize,
    /// The places of the text and bytes values, whose sizes vary.
    pub var: Box<[usize]>,
    /// Word 3 of the record body: level, flags (site), value count,
    /// message length 0. The trace-context flag is or-ed in per record.
    pub word3: u64,
}

/// A registered call site: a logger, a level, a message and typed keys.
/// Cheap to clone; usable from any thread.
#[derive(Clone, Debug)]
pub struct Site {
    pub(crate) inner: Arc<SiteInner>,
}

impl Site {
    /// True when the site's level is enabled on its logger: one relaxed
    /// load. [`Site::log`] checks it too.
    #[inline(always)]
    pub fn enabled(&self) -> bool {
        self.inner.level.number() >= self.inner.logger.level.get()
    }

    /// The site's level.
    pub fn level(&self) -> Level {
        self.inner.level
    }

    /// Number of values each record takes.
    pub fn len(&self) -> usize {
        self.inner.tags.len()
    }

    /// True when the site has no keys.
    pub fn is_empty(&self) -> bool {
        self.inner.tags.is_empty()
    }

    /// Counts a record refused before it reached [`Site::log`] (the C
    /// ABI's checks), in [`crate::Stats::rejected_invalid`].
    #[cold]
    pub fn count_rejected(&self) {
        crate::stats::Counters::bump(&self.inner.logger.rt.counters.rejected_invalid);
    }

    /// Logs a record with these values, one per key, in order, with the
    /// current time and the thread's trace context. Skipped (with `Ok`)
    /// below the logger's level.
    ///
    /// # Errors
    /// As [`Logger::log_with`]; [`RecordError::ArgCount`] and
    /// [`RecordError::ArgType`] for values that do not match the keys.
    #[inline]
    pub fn log(&self, values: &[Value<'_>]) -> Result<(), LogError> {
        self.log_args(values)
    }

    /// [`Site::log`] over values in any layout (the C ABI's).
    ///
    /// # Errors
    /// As [`Site::log`].
    #[inline]
    pub fn log_args<A: ArgSource>(&self, values: &[A]) -> Result<(), LogError> {
        self.log_args_with(None, values)
    }

    /// [`Site::log_args`] with a trace context: `ctx`, or the thread's
    /// current one when `None` (as [`Logger::log_with`] takes it).
    ///
    /// # Errors
    /// As [`Site::log`].
    #[inline]
    pub fn log_args_with<A: ArgSource>(
        &self,
        ctx: Option<&TraceContext>,
        values: &[A],
    ) -> Result<(), LogError> {
        self.log_args_at(0, ctx, values)
    }

    /// [`Site::log_args_with`] stamped `ts_ns` (ns since the Unix epoch;
    /// 0 means now), as [`Logger::log_with`] takes a time: for records
    /// made earlier elsewhere, such as a stdlib `LogRecord`.
    ///
    /// # Errors
    /// As [`Site::log`].
    #[inline]
    pub fn log_args_at<A: ArgSource>(
        &self,
        ts_ns: u64,
        ctx: Option<&TraceContext>,
        values: &[A],
    ) -> Result<(), LogError> {
        if !self.enabled() {
            return Ok(());
        }
        producer::log_site(&self.inner, ts_ns, ctx, values)
    }
}

/// Checks call-site values against the kinds and returns their byte length.
///
/// # Errors
/// The first value that cannot be read or does not fit.
#[inline(always)]
pub(crate) fn values_len<A: ArgSource>(
    site: &SiteInner,
    values: &[A],
) -> Result<usize, RecordError> {
    if values.len() != site.tags.len() {
        return Err(RecordError::ArgCount {
            expected: site.tags.len(),
            got: values.len(),
        });
    }
    let mut n = site.fixed;
    if A::WORDS_ALWAYS_READ {
        for &index in site.var.iter() {
            n += value_len(index, site.tags[index], &values[index])?;
        }
    } else {
        for (index, (&t, v)) in site.tags.iter().zip(values).enumerate() {
            n += value_len(index, t, v)?;
        }
    }
    Ok(n)
}

/// The bytes value `index`, of field type `t`, adds to a site record
/// beyond the site's fixed-size part: its length word and padded bytes
/// for text and bytes, nothing for the others (counted in `fixed`).
///
/// # Errors
/// The value cannot be read as `t`, or is too long.
#[inline(always)]
fn value_len<A: ArgSource>(index: usize, t: u8, v: &A) -> Result<usize, RecordError> {
    let var = varies(t);
    match v.arg(t) {
        Ok(Arg::Bytes(s)) if var => {
            if s.len() > u32::MAX as usize {
                return Err(RecordError::TooMany);
            }
            Ok(8 + s.len().div_ceil(8) * 8)
        }
        Ok(Arg::Word(_)) if !var => Ok(0),
        Ok(_) | Err(ArgError::WrongType) => Err(RecordError::ArgType { index }),
        Err(ArgError::NullPointer) => Err(RecordError::NullValue { index }),
    }
}

/// Appends one entry to a call-site key table: the value's type tag, a
/// zero byte, the key's length (u16) and the key. The caller keeps keys
/// under 65,536 bytes.
pub(crate) fn push_key(table: &mut Vec<u8>, t: u8, key: &[u8]) {
    debug_assert!(key.len() <= u16::MAX as usize);
    table.extend_from_slice(&[t, 0]);
    table.extend_from_slice(&(key.len() as u16).to_ne_bytes());
    table.extend_from_slice(key);
}

/// Bytes a value of field type `t` takes in the word encoding when its
/// size does not depend on the value; 0 for text and bytes (counted per
/// record) and null (nothing written).
fn fixed_size(t: u8) -> usize {
    match t {
        tag::BOOL | tag::I64 | tag::U64 | tag::F64 => 8,
        _ => 0,
    }
}

impl Logger {
    /// Registers a call site: records logged through it have this level,
    /// message and keys, and carry only their values.
    ///
    /// # Errors
    /// [`Error::Config`] for more than 65,535 keys or a key over 65,535
    /// bytes; [`Error::Shutdown`] in a fork child's inherited runtime.
    pub fn site(&self, level: Level, msg: &str, keys: &[(&str, Kind)]) -> Result<Site, Error> {
        let keys: Vec<(&[u8], Kind)> = keys.iter().map(|(k, t)| (k.as_bytes(), *t)).collect();
        self.site_bytes(level, msg.as_bytes(), &keys)
    }

    /// [`Logger::site`] with the message and keys as bytes (UTF-8
    /// expected; invalid bytes become U+FFFD when encoded).
    ///
    /// # Errors
    /// As [`Logger::site`].
    pub fn site_bytes(
        &self,
        level: Level,
        msg: &[u8],
        keys: &[(&[u8], Kind)],
    ) -> Result<Site, Error> {
        let rt = &self.inner.rt;
        if rt.forked() {
            // As for child loggers: the inherited registry is the parent's.
            return Err(Error::Shutdown);
        }
        if keys.len() > u16::MAX as usize {
            return Err(Error::Config("a call site takes at most 65535 keys".into()));
        }
        let mut table = Vec::new();
        let mut tags = Vec::with_capacity(keys.len());
        for (i, (k, kind)) in keys.iter().enumerate() {
            if k.len() > u16::MAX as usize {
                return Err(Error::Config(format!(
                    "call-site key {i} is longer than 65535 bytes"
                )));
            }
            let t = kind.tag();
            push_key(&mut table, t, k);
            tags.push(t);
        }
        let parent = &self.inner.def;
        let def = LoggerDef {
            name: parent.name.clone(),
            bound: parent.bound.clone(),
            bound_count: parent.bound_count,
            site: Some(SiteDef {
                level: level.number(),
                msg: msg.into(),
                keys: table.into_boxed_slice(),
                count: keys.len() as u16,
            }),
        };
        let (id, def) = rt.registry.define(def);
        let count = (keys.len() as u16).to_ne_bytes();
        let word3 = u64::from_ne_bytes([level.number(), FLAG_SITE, count[0], count[1], 0, 0, 0, 0]);
        Ok(Site {
            inner: Arc::new(SiteInner {
                logger: Arc::new(LoggerInner {
                    id,
                    def,
                    level: self.inner.level.clone(),
                    rt: rt.clone(),
                    child: true,
                }),
                level,
                fixed: tags.iter().map(|&t| fixed_size(t)).sum(),
                var: (tags.iter().enumerate())
                    .filter(|&(_, &t)| varies(t))
                    .map(|(i, _)| i)
                    .collect(),
                tags: tags.into_boxed_slice(),
                word3,
            }),
        })
    }
}
