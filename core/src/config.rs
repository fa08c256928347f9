//! The configuration document and its environment overrides.
//!
//! One JSON document configures a runtime. Every key is optional; the
//! defaults are in the table in `README.md` ("Configuration") and in the
//! `Default` impls below, which are the one source of truth. Unknown keys
//! and bad values are errors that name the key's path (`sinks.app.level`).
//!
//! Where the document comes from, in order:
//! 1. the text given to `ringlog_init` / [`Config::load`], if any;
//! 2. otherwise `RINGLOG_CONFIG`: inline JSON (starts with `{`) or a path;
//! 3. otherwise the defaults.
//!
//! Then the short overrides apply on top: `RINGLOG_LEVEL` sets the global
//! level, `RINGLOG_OUTPUT` (`stderr`, `stdout` or a file path) replaces all
//! sinks with one, and `RINGLOG_FORMAT` (`json`, `logfmt`, `console`) sets
//! every sink's encoder.

use crate::encode::console::ConsoleOptions;
use crate::encode::json::JsonOptions;
use crate::encode::logfmt::LogfmtOptions;
use crate::error::Error;
use crate::level::Level;
use crate::ring::{MAX_CAPACITY, MIN_CAPACITY};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A whole runtime configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Directory holding instance directories. Default: see
    /// [`crate::default_ring_dir`].
    pub ring_dir: Option<PathBuf>,
    /// Bytes of ring per producer thread: a power of two, 4 KiB..512 MiB.
    /// Default 1 MiB.
    pub ring_capacity: u64,
    /// How often the flusher wakes while records arrive and nobody wakes
    /// it, in ms. Default 5.
    pub flush_interval_ms: u64,
    /// How often the flusher wakes after it has found nothing for
    /// 100 ms; the first record logged after that wakes it at
    /// once. Default 250.
    pub idle_interval_ms: u64,
    /// What a producer does when its ring is full. Default
    /// [`FullPolicy::Default`].
    pub full_policy: FullPolicy,
    /// How long `block` waits for space before dropping, in ms. Default 100.
    pub block_timeout_ms: u64,
    /// Global minimum level. Default `info`.
    #[serde(deserialize_with = "de_level")]
    pub level: Level,
    /// Minimum levels by logger-name prefix (longest prefix wins; `a.b`
    /// matches `a.b` and `a.b.c`, not `a.bc`). Default none.
    #[serde(deserialize_with = "de_level_map")]
    pub levels: BTreeMap<String, Level>,
    /// Named sinks. Default: one `stderr` sink with the `json` encoder.
    pub sinks: BTreeMap<String, SinkConfig>,
    /// How long shutdown at process exit waits for the flusher, in ms.
    /// Default 5000.
    pub shutdown_timeout_ms: u64,
    /// At start, write out the records of dead instances under `ring_dir`
    /// (before any of this process's records). Default true.
    pub recover_on_start: bool,
    /// Install the fatal-signal handler (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
    /// SIGABRT) for this runtime when it starts: a last FATAL record and
    /// a bounded drain before the process dies by the same signal (see
    /// [`crate::crash`]). Default false.
    pub crash_handler: bool,
}

impl Default for Config {
    fn default() -> Self {
        let mut sinks = BTreeMap::new();
        sinks.insert("stderr".to_string(), SinkConfig::new(SinkKind::Stderr));
        Config {
            ring_dir: None,
            ring_capacity: 1 << 20,
            flush_interval_ms: 5,
            idle_interval_ms: 250,
            full_policy: FullPolicy::Default,
            block_timeout_ms: 100,
            level: Level::INFO,
            levels: BTreeMap::new(),
            sinks,
            shutdown_timeout_ms: 5000,
            recover_on_start: true,
            crash_handler: false,
        }
    }
}

/// What a producer does when its ring is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FullPolicy {
    /// Count the record as dropped and return at once.
    Drop,
    /// Wake the flusher and wait up to `block_timeout_ms`, then drop.
    Block,
    /// `block` for WARN and above, `drop` below WARN.
    #[default]
    Default,
}

/// One sink.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    /// `stderr`, `stdout` or `file`. Required.
    #[serde(rename = "type")]
    pub kind: SinkKind,
    /// File path (required for `file`, refused for the others).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// `json` (default), `logfmt` or `console`.
    #[serde(default)]
    pub encoder: EncoderKind,
    /// This sink's minimum level. Default `trace` (the global level decides).
    #[serde(default = "trace", deserialize_with = "de_level")]
    pub level: Level,
    /// `none` (default), `batch` (fdatasync after every batch) or
    /// `interval` (at most every `sync_interval_ms`).
    #[serde(default)]
    pub sync: SyncPolicy,
    /// Interval for `sync: interval`, in ms. Default 1000.
    #[serde(default = "one_second")]
    pub sync_interval_ms: u64,
    /// Encoded bytes this sink holds for retry while its writes fail
    /// (disk full); what does not fit is discarded and counted
    /// (`bytes_lost`, `records_lost`). Default 8 MiB; 0 holds nothing.
    #[serde(default = "eight_mib")]
    pub retry_buffer_bytes: u64,
    /// Options of the `json` encoder.
    #[serde(default)]
    pub json: JsonOptions,
    /// Options of the `logfmt` encoder.
    #[serde(default)]
    pub logfmt: LogfmtOptions,
    /// Options of the `console` encoder.
    #[serde(default)]
    pub console: ConsoleOptions,
}

fn trace() -> Level {
    Level::TRACE
}
fn one_second() -> u64 {
    1000
}
fn eight_mib() -> u64 {
    8 << 20
}

impl SinkConfig {
    /// A sink of `kind` with every other setting at its default.
    pub fn new(kind: SinkKind) -> Self {
        SinkConfig {
            kind,
            path: None,
            encoder: EncoderKind::Json,
            level: Level::TRACE,
            sync: SyncPolicy::None,
            sync_interval_ms: 1000,
            retry_buffer_bytes: eight_mib(),
            json: JsonOptions::default(),
            logfmt: LogfmtOptions::default(),
            console: ConsoleOptions::default(),
        }
    }
}

/// Where a sink writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkKind {
    /// Standard error.
    Stderr,
    /// Standard output.
    Stdout,
    /// A file opened with `O_APPEND`, created with mode 0640.
    File,
}

/// Which encoder a sink uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncoderKind {
    /// NDJSON.
    #[default]
    Json,
    /// logfmt.
    Logfmt,
    /// Human-readable console lines.
    Console,
}

/// When a sink syncs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPolicy {
    /// Never; the OS writes back when it likes.
    #[default]
    None,
    /// After every batch.
    Batch,
    /// At most every `sync_interval_ms`, and on `flush`.
    Interval,
}

fn de_level<'de, D: Deserializer<'de>>(d: D) -> Result<Level, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum L {
        N(u64),
        S(String),
    }
    match L::deserialize(d) {
        Ok(L::N(n)) => Level::from_number(u8::try_from(n).unwrap_or(0))
            .ok_or_else(|| serde::de::Error::custom(format!("level number {n} is outside 1..=24"))),
        Ok(L::S(s)) => Level::parse(&s).map_err(serde::de::Error::custom),
        Err(_) => Err(serde::de::Error::custom(
            "expected a level name (trace, debug, info, warn, error, fatal, off) or a number 1..24",
        )),
    }
}

fn de_level_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Level>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "de_level")] Level);
    let m = BTreeMap::<String, W>::deserialize(d)?;
    Ok(m.into_iter().map(|(k, W(l))| (k, l)).collect())
}

/// The changes `reconfigure` accepts at run time: levels only.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LevelChanges {
    /// New global level.
    #[serde(deserialize_with = "de_opt_level")]
    pub level: Option<Level>,
    /// New per-prefix levels (replaces the whole map when given).
    pub levels: Option<LevelMap>,
    /// New sink levels, by sink name.
    pub sinks: BTreeMap<String, SinkLevelChange>,
}

/// A per-prefix level map.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct LevelMap(#[serde(deserialize_with = "de_level_map")] pub BTreeMap<String, Level>);

/// A sink's new level.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkLevelChange {
    /// The sink's new minimum level.
    #[serde(deserialize_with = "de_level")]
    pub level: Level,
}

fn de_opt_level<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Level>, D::Error> {
    de_level(d).map(Some)
}

/// Parses JSON text into `T`, naming the path of the offending key.
///
/// The document must be one JSON object and nothing after it (serde would
/// otherwise also build a struct from an array, and stop reading at the end
/// of the first value).
fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    if !text.trim_start().starts_with('{') {
        return Err(Error::Config(
            "the configuration must be a JSON object ({...})".to_string(),
        ));
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    let v = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde_json appends " at line L column C"; keep it, it helps.
        if path.is_empty() || path == "." {
            Error::Config(inner.to_string())
        } else {
            Error::Config(format!("{path}: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| Error::Config(format!("text after the configuration object: {e}")))?;
    Ok(v)
}

impl Config {
    /// Parses a configuration document and checks its values.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key that is unknown or wrong.
    ///
    /// ```
    /// let c = ringlog::Config::parse(r#"{"level": "debug", "ring_capacity": 65536}"#).unwrap();
    /// assert_eq!(c.level, ringlog::Level::DEBUG);
    /// let e = ringlog::Config::parse(r#"{"levle": "debug"}"#).unwrap_err();
    /// assert!(e.to_string().contains("levle"));
    /// ```
    pub fn parse(text: &str) -> Result<Config, Error> {
        let c: Config = parse(text)?;
        c.validate()?;
        Ok(c)
    }

    /// Builds the configuration from `explicit` text (or `RINGLOG_CONFIG`, or
    /// the defaults), then applies `RINGLOG_LEVEL`, `RINGLOG_OUTPUT` and
    /// `RINGLOG_FORMAT`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key or variable that is wrong.
    pub fn load(explicit: Option<&str>) -> Result<Config, Error> {
        Self::load_with(explicit, |k| std::env::var(k).ok())
    }

    /// [`Config::load`] with a custom environment lookup (for tests).
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn load_with(
        explicit: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, Error> {
        let mut c = match explicit {
            Some(t) => Config::parse(t)?,
            None => match env("RINGLOG_CONFIG").filter(|s| !s.trim().is_empty()) {
                Some(v) if v.trim_start().starts_with('{') => {
                    Config::parse(&v).map_err(|e| Error::Config(format!("RINGLOG_CONFIG: {e}")))?
                }
                Some(path) => {
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        Error::Config(format!("RINGLOG_CONFIG: cannot read {path}: {e}"))
                    })?;
                    Config::parse(&text)
                        .map_err(|e| Error::Config(format!("RINGLOG_CONFIG ({path}): {e}")))?
                }
                None => Config::default(),
            },
        };
        if let Some(l) = env("RINGLOG_LEVEL").filter(|s| !s.is_empty()) {
            c.level = Level::parse(&l).map_err(|e| Error::Config(format!("RINGLOG_LEVEL: {e}")))?;
        }
        if let Some(o) = env("RINGLOG_OUTPUT").filter(|s| !s.is_empty()) {
            let sink = match o.as_str() {
                "stderr" => SinkConfig::new(SinkKind::Stderr),
                "stdout" => SinkConfig::new(SinkKind::Stdout),
                path => {
                    let mut s = SinkConfig::new(SinkKind::File);
                    s.path = Some(PathBuf::from(path));
                    s
                }
            };
            c.sinks.clear();
            c.sinks.insert("output".to_string(), sink);
        }
        if let Some(f) = env("RINGLOG_FORMAT").filter(|s| !s.is_empty()) {
            let enc = match f.as_str() {
                "json" => EncoderKind::Json,
                "logfmt" => EncoderKind::Logfmt,
                "console" => EncoderKind::Console,
                other => {
                    return Err(Error::Config(format!(
                        "RINGLOG_FORMAT: unknown format {other:?}: expected json, logfmt or console"
                    )))
                }
            };
            for s in c.sinks.values_mut() {
                s.encoder = enc;
            }
        }
        c.validate()?;
        Ok(c)
    }

    /// Checks the values serde cannot.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key.
    pub fn validate(&self) -> Result<(), Error> {
        let cap = self.ring_capacity;
        if !cap.is_power_of_two() || !(MIN_CAPACITY..=MAX_CAPACITY).contains(&cap) {
            return Err(Error::Config(format!(
                "ring_capacity: {cap} is not a power of two between {MIN_CAPACITY} and {MAX_CAPACITY}"
            )));
        }
        if self.flush_interval_ms == 0 || self.flush_interval_ms > 60_000 {
            return Err(Error::Config(
                "flush_interval_ms: must be between 1 and 60000".to_string(),
            ));
        }
        if self.sinks.is_empty() {
            return Err(Error::Config(
                "sinks: at least one sink is required".to_string(),
            ));
        }
        for (name, s) in &self.sinks {
            match (s.kind, &s.path) {
                (SinkKind::File, None) => {
                    return Err(Error::Config(format!(
                        "sinks.{name}.path: a file sink needs a path"
                    )))
                }
                (SinkKind::File, Some(p)) if p.as_os_str().is_empty() => {
                    return Err(Error::Config(format!("sinks.{name}.path: is empty")))
                }
                (SinkKind::Stderr | SinkKind::Stdout, Some(_)) => {
                    return Err(Error::Config(format!(
                        "sinks.{name}.path: only a file sink takes a path"
                    )))
                }
                _ => {}
            }
            if s.sync == SyncPolicy::Interval && s.sync_interval_ms == 0 {
                return Err(Error::Config(format!(
                    "sinks.{name}.sync_interval_ms: must be at least 1"
                )));
            }
            if s.encoder == EncoderKind::Console {
                crate::encode::console::ConsoleEncoder::new(s.console.clone(), false)
                    .map_err(|e| Error::Config(format!("sinks.{name}.console.{e}")))?;
            }
        }
        Ok(())
    }

    /// The minimum level for a logger name: the longest matching prefix in
    /// `levels`, else `level`.
    pub fn level_for(&self, name: &[u8]) -> Level {
        level_for(&self.level, &self.levels, name)
    }
}

pub(crate) fn level_for(global: &Level, levels: &BTreeMap<String, Level>, name: &[u8]) -> Level {
    let mut best: Option<(usize, Level)> = None;
    for (prefix, l) in levels {
        let p = prefix.as_bytes();
        let matches = name.starts_with(p) && (name.len() == p.len() || name[p.len()] == b'.');
        if matches && best.is_none_or(|(n, _)| p.len() > n) {
            best = Some((p.len(), *l));
        }
    }
    best.map(|(_, l)| l).unwrap_or(*global)
}

impl LevelChanges {
    /// Parses a run-time change document: `level`, `levels` and
    /// `sinks.<name>.level` only.
    ///
    /// # Errors
    /// [`Error::Config`] naming any other key.
    pub fn parse(text: &str) -> Result<LevelChanges, Error> {
        parse(text)
    }

    /// Adds `later`'s changes on top of these: a level or level map it
    /// gives replaces this one's, and its sink levels replace theirs sink
    /// by sink.
    pub fn then(&mut self, later: LevelChanges) {
        if later.level.is_some() {
            self.level = later.level;
        }
        if later.levels.is_some() {
            self.levels = later.levels;
        }
        self.sinks.extend(later.sinks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn defaults_are_one_stderr_json_sink_at_info() {
        let c = Config::load_with(None, env(&[])).unwrap();
        assert_eq!(c.level, Level::INFO);
        assert_eq!(c.sinks.len(), 1);
        assert_eq!(c.sinks["stderr"].kind, SinkKind::Stderr);
        assert_eq!(c.sinks["stderr"].encoder, EncoderKind::Json);
        assert_eq!(c.ring_capacity, 1 << 20);
    }

    #[test]
    fn unknown_keys_are_named_with_their_path() {
        let e = Config::parse(r#"{"sinks": {"a": {"type": "stderr", "levl": "info"}}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("sinks.a") && e.contains("levl"), "{e}");
    }

    #[test]
    fn bad_values_are_named_with_their_path() {
        for (doc, key) in [
            (r#"{"level": "loud"}"#, "level"),
            (r#"{"ring_capacity": 1000}"#, "ring_capacity"),
            (r#"{"full_policy": "sometimes"}"#, "full_policy"),
            (r#"{"sinks": {"f": {"type": "file"}}}"#, "sinks.f.path"),
            (
                r#"{"sinks": {"f": {"type": "stdout", "path": "/x"}}}"#,
                "sinks.f.path",
            ),
            (
                r#"{"sinks": {"a": {"type": "stderr", "level": 99}}}"#,
                "sinks.a.level",
            ),
            (r#"{"sinks": {"a": {"type": "pipe"}}}"#, "sinks.a.type"),
            (r#"{"flush_interval_ms": 0}"#, "flush_interval_ms"),
            (r#"{"levels": {"db": "nope"}}"#, "levels.db"),
        ] {
            let e = Config::parse(doc).unwrap_err().to_string();
            assert!(e.contains(key), "{doc} -> {e}");
        }
        let e = Config::parse("{not json").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        for doc in [
            "[]",
            "[null, 8192]",
            "null",
            r#"{"level": "info"} trailing"#,
            r#"{} }}"#,
        ] {
            assert!(Config::parse(doc).is_err(), "{doc} was accepted");
            assert!(LevelChanges::parse(doc).is_err(), "{doc} was accepted");
        }
    }

    #[test]
    fn env_overrides_apply_on_top() {
        let c = Config::load_with(
            None,
            env(&[
                ("RINGLOG_CONFIG", r#"{"level": "error"}"#),
                ("RINGLOG_LEVEL", "debug"),
                ("RINGLOG_OUTPUT", "/tmp/x.log"),
                ("RINGLOG_FORMAT", "logfmt"),
            ]),
        )
        .unwrap();
        assert_eq!(c.level, Level::DEBUG);
        let s = &c.sinks["output"];
        assert_eq!(s.kind, SinkKind::File);
        assert_eq!(s.encoder, EncoderKind::Logfmt);
        assert!(Config::load_with(None, env(&[("RINGLOG_FORMAT", "xml")])).is_err());
        assert!(Config::load_with(None, env(&[("RINGLOG_LEVEL", "x")]))
            .unwrap_err()
            .to_string()
            .contains("RINGLOG_LEVEL"));
        let e = Config::load_with(None, env(&[("RINGLOG_CONFIG", "/nonexistent/c.json")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("RINGLOG_CONFIG"), "{e}");
    }

    #[test]
    fn an_explicit_document_wins_over_ringlog_config() {
        let c = Config::load_with(
            Some(r#"{"level": "warn"}"#),
            env(&[("RINGLOG_CONFIG", r#"{"level": "error"}"#)]),
        )
        .unwrap();
        assert_eq!(c.level, Level::WARN);
    }

    #[test]
    fn the_longest_prefix_sets_a_loggers_level() {
        let c =
            Config::parse(r#"{"level": "info", "levels": {"db": "warn", "db.pool": 5}}"#).unwrap();
        assert_eq!(c.level_for(b"db"), Level::WARN);
        assert_eq!(c.level_for(b"db.query"), Level::WARN);
        assert_eq!(c.level_for(b"db.pool.conn"), Level::DEBUG);
        assert_eq!(c.level_for(b"dbx"), Level::INFO);
        assert_eq!(c.level_for(b"http"), Level::INFO);
    }

    #[test]
    fn run_time_changes_accept_levels_only() {
        let ch = LevelChanges::parse(r#"{"level": "debug", "sinks": {"a": {"level": "warn"}}}"#)
            .unwrap();
        assert_eq!(ch.level, Some(Level::DEBUG));
        assert_eq!(ch.sinks["a"].level, Level::WARN);
        let e = LevelChanges::parse(r#"{"ring_capacity": 4096}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("ring_capacity"), "{e}");
    }
}
