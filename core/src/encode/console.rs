//! The console encoder: a human-readable line per record, optionally coloured.
//!
//! ```text
//! 2025-11-22T01:44:50.123Z INFO  payments: charge ok user=alice amount=12.5 trace=4bf92f35
//! ```
//!
//! The line is the prefix (a template, see [`ConsoleOptions::prefix`]), the
//! message, the bound and record fields as logfmt-style ` key=value` pairs
//! (groups flattened to dotted keys, keys de-duplicated by the JSON rule, with
//! only `trace` reserved), the first 8 hex digits of the trace id as
//! ` trace=…` when the record has a trace context, and `\n`.
//!
//! Why it is built like this: a terminal obeys escape sequences, so untrusted
//! text must never put a raw ESC, newline or other control character on the
//! screen. The message and logger name go through [`escape::console_text`]
//! (control characters become `\n`, `\x1b`, …; quotes and backslashes stay
//! readable), and fields through the logfmt escapers. The only ESC bytes in
//! the output are the SGR colour sequences this encoder writes itself, and
//! only when colour is enabled: `auto` (the default) colours only when the
//! sink is a terminal.
//!
//! Colours: the level band (dim TRACE, blue DEBUG, green INFO, yellow WARN,
//! red ERROR, bold red FATAL) and the field keys (dim).

use super::escape;
use super::logfmt::{FlatFields, KeyStyle};
use super::time::{TimeFormat, TimeFormatter};
use super::{push_hex, push_u64, Encoder, KeySet, RecordMeta};
use crate::level::Level;
use crate::record::RecordView;
use serde::{Deserialize, Serialize};

/// When the console encoder writes colour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColorMode {
    /// Colour only when the sink is a terminal (the default).
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The default prefix template.
pub const DEFAULT_PREFIX: &str = "{time} {level} {logger}: ";

/// Configuration of the console encoder.
///
/// ```json
/// {"color": "never", "prefix": "[{level}] ", "time_format": "rfc3339_ms"}
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleOptions {
    /// When to colour (`auto`, `always`, `never`).
    pub color: ColorMode,
    /// The text before each message: a template with the placeholders
    /// `{time}`, `{level}` (the band name padded to 5, e.g. `INFO `),
    /// `{logger}` and `{thread}`; `{{` and `}}` stand for literal braces.
    /// `null` or `""` means no prefix. Default: [`DEFAULT_PREFIX`].
    pub prefix: Option<String>,
    /// How `{time}` is written (default `rfc3339_ms`).
    pub time_format: TimeFormat,
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        ConsoleOptions {
            color: ColorMode::Auto,
            prefix: Some(DEFAULT_PREFIX.to_string()),
            time_format: TimeFormat::Rfc3339Ms,
        }
    }
}

/// One piece of a parsed prefix template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Text(Vec<u8>),
    Time,
    Level,
    Logger,
    Thread,
}

/// Parses a prefix template.
fn parse_prefix(t: &str) -> Result<Vec<Segment>, String> {
    let mut segs = Vec::new();
    let mut text = String::new();
    let mut chars = t.chars();
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                let rest = chars.as_str();
                if let Some(r) = rest.strip_prefix('{') {
                    text.push('{');
                    chars = r.chars();
                    continue;
                }
                let Some(end) = rest.find('}') else {
                    return Err(format!(
                        "console option `prefix`: unclosed `{{` in {t:?} (write `{{{{` for a literal brace)"
                    ));
                };
                let seg = match &rest[..end] {
                    "time" => Segment::Time,
                    "level" => Segment::Level,
                    "logger" => Segment::Logger,
                    "thread" => Segment::Thread,
                    other => {
                        return Err(format!(
                            "console option `prefix`: unknown placeholder {{{other}}} in {t:?}; \
                             expected {{time}}, {{level}}, {{logger}} or {{thread}}"
                        ))
                    }
                };
                if !text.is_empty() {
                    segs.push(Segment::Text(std::mem::take(&mut text).into_bytes()));
                }
                segs.push(seg);
                chars = rest[end + 1..].chars();
            }
            '}' => {
                let rest = chars.as_str();
                let Some(r) = rest.strip_prefix('}') else {
                    return Err(format!(
                        "console option `prefix`: unmatched `}}` in {t:?} (write `}}}}` for a literal brace)"
                    ));
                };
                text.push('}');
                chars = r.chars();
            }
            c if c != '\t' && (c.is_control()) => {
                return Err(format!(
                    "console option `prefix`: control character {c:?} in {t:?}; \
                     the prefix must stay on one line"
                ));
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        segs.push(Segment::Text(text.into_bytes()));
    }
    Ok(segs)
}

const RESET: &[u8] = b"\x1b[0m";
const DIM: &[u8] = b"\x1b[2m";

/// The SGR sequence that colours a level's band.
fn level_color(l: Level) -> &'static [u8] {
    match l.band_name() {
        "TRACE" => DIM,
        "DEBUG" => b"\x1b[34m",
        "INFO" => b"\x1b[32m",
        "WARN" => b"\x1b[33m",
        "ERROR" => b"\x1b[31m",
        _ => b"\x1b[1;31m",
    }
}

/// Encodes records as human-readable lines; see the module docs.
#[derive(Debug)]
pub struct ConsoleEncoder {
    time: TimeFormatter,
    prefix: Vec<Segment>,
    color: bool,
    /// ` trace=` (styled when colouring), written before the short trace id.
    trace_key: Vec<u8>,
    /// Keys, bound fields and shapes of the `key=value` pairs.
    flat: FlatFields,
}

impl ConsoleEncoder {
    /// An encoder with these options, writing to a sink that is
    /// (`sink_is_tty`) or is not a terminal (which decides `color: auto`).
    ///
    /// # Errors
    /// A message naming the `prefix` option when the template has an unknown
    /// placeholder, an unmatched brace or a control character.
    pub fn new(opts: ConsoleOptions, sink_is_tty: bool) -> Result<ConsoleEncoder, String> {
        let prefix = match &opts.prefix {
            Some(t) => parse_prefix(t)?,
            None => Vec::new(),
        };
        let color = match opts.color {
            ColorMode::Auto => sink_is_tty,
            ColorMode::Always => true,
            ColorMode::Never => false,
        };
        let mut base = KeySet::new();
        base.claim(b"trace");
        let mut trace_key = b" ".to_vec();
        if color {
            trace_key.extend_from_slice(DIM);
        }
        trace_key.extend_from_slice(b"trace=");
        if color {
            trace_key.extend_from_slice(RESET);
        }
        Ok(ConsoleEncoder {
            time: TimeFormatter::new(opts.time_format),
            prefix,
            color,
            trace_key,
            flat: FlatFields::new(base),
        })
    }

    /// Whether this encoder writes colour.
    pub fn colored(&self) -> bool {
        self.color
    }

    fn key_style(color: bool) -> KeyStyle<'static> {
        color.then_some((DIM, RESET))
    }
}

impl Encoder for ConsoleEncoder {
    fn encode(&mut self, rec: &RecordView<'_>, meta: &RecordMeta<'_>, out: &mut Vec<u8>) {
        for seg in &self.prefix {
            match seg {
                Segment::Text(t) => out.extend_from_slice(t),
                Segment::Time => self.time.write(rec.ts_ns, out),
                Segment::Level => {
                    let name = rec.level.band_name();
                    if self.color {
                        out.extend_from_slice(level_color(rec.level));
                        out.extend_from_slice(name.as_bytes());
                        out.extend_from_slice(RESET);
                    } else {
                        out.extend_from_slice(name.as_bytes());
                    }
                    for _ in name.len()..5 {
                        out.push(b' ');
                    }
                }
                Segment::Logger => escape::console_text(out, meta.logger),
                Segment::Thread => push_u64(out, meta.thread_id),
            }
        }
        escape::console_text(out, rec.msg);
        let style = Self::key_style(self.color);
        self.flat.write(meta, rec.fields.clone(), out, style);
        if let Some(t) = &rec.trace {
            out.extend_from_slice(&self.trace_key);
            push_hex(out, &t.trace_id[..4]);
        }
        out.push(b'\n');
    }

    fn forget_logger(&mut self, logger_id: u64) {
        self.flat.forget(logger_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::test_support::{body, bound_bytes, ctx, meta, view};
    use crate::value::{Field, Value};

    const TS: u64 = 1_763_775_890_123_456_789;

    fn enc(json: &str, tty: bool) -> ConsoleEncoder {
        ConsoleEncoder::new(serde_json::from_str(json).unwrap(), tty).unwrap()
    }

    fn line(e: &mut ConsoleEncoder, level: u8, msg: &[u8], fields: &[Field<'_>]) -> String {
        let c = ctx();
        let b = body(TS, level, Some(&c), msg, fields);
        let mut out = Vec::new();
        e.encode(&view(&b), &meta(b"payments", 1, &[], 0), &mut out);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s.matches('\n').count(), 1, "{s:?}");
        assert!(s.ends_with('\n'));
        s
    }

    /// Removes the SGR sequences the encoder itself writes.
    fn strip_sgr(s: &str) -> String {
        let mut s = s.to_string();
        for code in [
            "\x1b[0m",
            "\x1b[2m",
            "\x1b[34m",
            "\x1b[32m",
            "\x1b[33m",
            "\x1b[31m",
            "\x1b[1;31m",
        ] {
            s = s.replace(code, "");
        }
        s
    }

    #[test]
    fn the_default_line_has_prefix_message_fields_and_short_trace() {
        let mut e = enc("{}", false);
        let s = line(
            &mut e,
            9,
            b"charge ok",
            &[Field::str("user", "alice"), Field::f64("amount", 12.5)],
        );
        assert_eq!(
            s,
            "2025-11-22T01:44:50.123Z INFO  payments: charge ok user=alice amount=12.5 trace=4bf92f35\n"
        );
    }

    #[test]
    fn auto_colours_only_a_terminal_and_never_disables_colour() {
        assert!(enc("{}", true).colored());
        assert!(!enc("{}", false).colored());
        assert!(enc(r#"{"color":"always"}"#, false).colored());
        assert!(!enc(r#"{"color":"never"}"#, true).colored());
        let s = line(
            &mut enc(r#"{"color":"never"}"#, true),
            17,
            b"boom",
            &[Field::i64("k", 1)],
        );
        assert!(!s.contains('\x1b'));
    }

    #[test]
    fn colour_marks_the_level_band_and_dims_keys() {
        let mut e = enc(r#"{"color":"always","prefix":"{level}|"}"#, false);
        let s = line(&mut e, 17, b"boom", &[Field::i64("k", 1)]);
        assert_eq!(
            s,
            "\x1b[31mERROR\x1b[0m|boom \x1b[2mk=\x1b[0m1 \x1b[2mtrace=\x1b[0m4bf92f35\n"
        );
        for (n, code) in [
            (1, "\x1b[2m"),
            (5, "\x1b[34m"),
            (9, "\x1b[32m"),
            (13, "\x1b[33m"),
            (21, "\x1b[1;31m"),
        ] {
            assert!(line(&mut e, n, b"m", &[]).starts_with(code), "level {n}");
        }
    }

    #[test]
    fn untrusted_text_never_emits_a_raw_escape_even_with_colour() {
        let mut e = enc(r#"{"color":"always"}"#, true);
        let s = line(
            &mut e,
            9,
            b"evil\x1b[2J\x1b]0;pwned\x07\nnext line\r\x9b",
            &[
                Field {
                    key: b"k\x1b[31m",
                    value: Value::Str(b"\x1b[5m\n"),
                },
                Field {
                    key: b"c1",
                    value: Value::Str("\u{9b}2J".as_bytes()),
                },
            ],
        );
        let plain = strip_sgr(&s);
        assert!(!plain.contains('\x1b'), "{plain:?}");
        assert!(
            !plain[..plain.len() - 1].chars().any(|c| c.is_control()),
            "{plain:?}"
        );
        assert!(
            plain.contains("evil\\x1b[2J\\x1b]0;pwned\\x07\\nnext line\\r\\x9b"),
            "{plain}"
        );
        assert!(plain.contains(" k_[31m=\"\\x1b[5m\\n\""), "{plain}");
        assert!(plain.contains(" c1=\"\\u009b2J\""), "{plain}");
    }

    #[test]
    fn the_logger_name_is_escaped_too() {
        let mut e = enc(r#"{"prefix":"{logger}: "}"#, false);
        let b = body(TS, 9, None, b"m", &[]);
        let mut out = Vec::new();
        e.encode(&view(&b), &meta(b"a\x1bb\nc", 1, &[], 0), &mut out);
        assert_eq!(out, b"a\\x1bb\\nc: m\n");
    }

    #[test]
    fn prefix_templates_support_every_placeholder_and_literal_braces() {
        let mut e = enc(
            r#"{"prefix":"{{{thread}}} {time} [{level}] {logger}\t","time_format":"unix_ms"}"#,
            false,
        );
        let b = body(TS, 13, None, b"m", &[]);
        let mut out = Vec::new();
        e.encode(&view(&b), &meta(b"db", 1, &[], 0), &mut out);
        assert_eq!(out, b"{123} 1763775890123 [WARN ] db\tm\n");
    }

    #[test]
    fn a_null_or_empty_prefix_means_none() {
        for j in [r#"{"prefix":null}"#, r#"{"prefix":""}"#] {
            let s = line(&mut enc(j, false), 9, b"msg", &[]);
            assert_eq!(s, "msg trace=4bf92f35\n");
        }
    }

    #[test]
    fn bad_prefix_templates_are_errors_naming_the_prefix_option() {
        for t in ["{nope}", "{time", "a}b", "x\ny", "{}"] {
            let o = ConsoleOptions {
                prefix: Some(t.into()),
                ..Default::default()
            };
            let err = ConsoleEncoder::new(o, false).unwrap_err();
            assert!(err.contains("`prefix`"), "{t}: {err}");
        }
        let o = ConsoleOptions {
            prefix: Some("{level} {lvl}".into()),
            ..Default::default()
        };
        assert!(ConsoleEncoder::new(o, false).unwrap_err().contains("{lvl}"));
        assert!(serde_json::from_str::<ConsoleOptions>(r#"{"colour":"never"}"#).is_err());
        assert!(serde_json::from_str::<ConsoleOptions>(r#"{"color":"sometimes"}"#).is_err());
    }

    #[test]
    fn fields_flatten_and_deduplicate_with_bound_fields() {
        let mut e = enc(r#"{"prefix":null}"#, false);
        let bound = bound_bytes(&[Field::str("svc", "api"), Field::str("trace", "x")]);
        let inner = [Field::i64("status", 200), Field::new("n", Value::Null)];
        let b = body(
            TS,
            9,
            None,
            b"m",
            &[
                Field::group("http", &inner),
                Field::str("svc", "two words"),
                Field::bytes("b", b"fo"),
                Field::f64("nan", f64::NAN),
                Field::bool("ok", true),
            ],
        );
        for _ in 0..2 {
            let mut out = Vec::new();
            e.encode(&view(&b), &meta(b"l", 5, &bound, 2), &mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "m svc=api trace#2=x http.status=200 http.n=null svc#2=\"two words\" \
                 b=\"Zm8=\" nan=NaN ok=true\n"
            );
        }
        e.forget_logger(5);
        assert_eq!(e.flat.cached_loggers(), 0);
    }

    #[test]
    fn cached_keys_write_the_same_bytes_as_a_fresh_encoder() {
        for o in [
            r#"{"color": "always"}"#,
            r#"{"color": "never", "prefix": "{thread} "}"#,
        ] {
            let all = crate::encode::test_support::cached_equals_fresh(|| enc(o, false), 3000);
            assert!(!all.is_empty());
        }
    }

    #[test]
    fn the_time_format_defaults_to_milliseconds_and_is_configurable() {
        let s = line(&mut enc(r#"{"prefix":"{time} "}"#, false), 9, b"m", &[]);
        assert!(s.starts_with("2025-11-22T01:44:50.123Z m"), "{s}");
        let s = line(
            &mut enc(r#"{"prefix":"{time} ","time_format":"rfc3339_ns"}"#, false),
            9,
            b"m",
            &[],
        );
        assert!(s.starts_with("2025-11-22T01:44:50.123456789Z m"), "{s}");
    }
}
