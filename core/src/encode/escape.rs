//! Escaping untrusted bytes for the text encoders.
//!
//! Every message, key and string value reaching an encoder is untrusted: it
//! may hold newlines (which would forge extra log lines), control characters
//! or ANSI escape sequences (which a terminal would obey), invalid UTF-8 or
//! U+2028/U+2029 (which some JSON consumers treat as line breaks). This module
//! is where all of that is made harmless, on the flusher's hot path.
//!
//! * [`json_str`] / [`json_escape`]: strict RFC 8259 strings. `"` and `\`
//!   are escaped; control characters below 0x20 become `\n \r \t \b \f` or
//!   `\u00XX`; DEL becomes `\u007f`; U+2028 and U+2029 become `\u2028` and
//!   `\u2029`; every maximal invalid UTF-8 subsequence becomes one U+FFFD,
//!   exactly as [`String::from_utf8_lossy`] does; everything else is copied.
//! * [`logfmt_value`]: a logfmt value, quoted only when it must be, never
//!   containing a raw control character.
//! * [`console_text`]: free text for a terminal (console messages and logger
//!   names), unquoted, never containing a raw control character.
//! * [`base64()`]: bytes values, standard alphabet, padded.
//!
//! Speed: most strings (keys, names, short values) need no escaping at all,
//! so JSON strings and logfmt values first measure their plain ASCII prefix
//! eight bytes at a time with a word-at-a-time test (short strings with two
//! overlapping loads) and copy a string that is plain throughout in one go.
//! Otherwise the escapers look bytes up in a 256-entry class table and copy
//! the runs of bytes that need no work in one piece. UTF-8 is validated with
//! [`std::str::from_utf8`] once per run of valid text, so each byte is
//! validated once.

use super::{half_at, put, put_quoted, word_at};
use base64::Engine;

/// Copied as is.
const PLAIN: u8 = 0;
/// Must be escaped (and, in logfmt, forces quoting).
const ESC: u8 = 1;
/// Lead or continuation byte of a multi-byte sequence: validate, check for the
/// few code points that are escaped, otherwise copy.
const HI: u8 = 2;
/// Copied as is, but a logfmt value holding it must be quoted (space, `=`).
const QUOTE: u8 = 3;

const fn class_table(kind: u8) -> [u8; 256] {
    let mut t = [PLAIN; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if i >= 0x80 {
            HI
        } else if i < 0x20 || i == 0x7f {
            ESC
        } else {
            PLAIN
        };
        i += 1;
    }
    match kind {
        // JSON
        0 => {
            t[b'"' as usize] = ESC;
            t[b'\\' as usize] = ESC;
        }
        // logfmt
        1 => {
            t[b'"' as usize] = ESC;
            t[b'\\' as usize] = ESC;
            t[b' ' as usize] = QUOTE;
            t[b'=' as usize] = QUOTE;
        }
        // console: only control characters
        _ => {}
    }
    t
}

static JSON_CLASS: [u8; 256] = class_table(0);
static LOGFMT_CLASS: [u8; 256] = class_table(1);
static CONSOLE_CLASS: [u8; 256] = class_table(2);

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` that may need work in a JSON string (a
/// control character, `"`, `\`, DEL or a non-ASCII byte). The lowest set
/// bit is exact: the subtractions below only borrow out of a byte that is
/// itself flagged, so a false positive can only sit above a true one.
#[inline(always)]
fn json_word_mask(w: u64) -> u64 {
    // A byte below 0x20 (valid when the high bit is tested separately).
    let lt = w.wrapping_sub(ONES * 0x20) & !w;
    let q = zero_bytes(w ^ (ONES * b'"' as u64));
    let bs = zero_bytes(w ^ (ONES * b'\\' as u64));
    let del = zero_bytes(w ^ (ONES * 0x7f));
    (lt | q | bs | del | w) & HIGHS
}

/// As [`json_word_mask`] for a bare logfmt value: also flags space and `=`
/// (a byte below 0x21 rather than 0x20).
#[inline(always)]
fn logfmt_word_mask(w: u64) -> u64 {
    let lt = w.wrapping_sub(ONES * 0x21) & !w;
    let q = zero_bytes(w ^ (ONES * b'"' as u64));
    let bs = zero_bytes(w ^ (ONES * b'\\' as u64));
    let eq = zero_bytes(w ^ (ONES * b'=' as u64));
    let del = zero_bytes(w ^ (ONES * 0x7f));
    (lt | q | bs | eq | del | w) & HIGHS
}

/// Flags (in the high bit) the zero bytes of `x`, exact up to the first.
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x
}

/// The length of the longest prefix of `s` whose bytes `mask` (a
/// [`json_word_mask`]-style word test) and `class` (the matching byte table)
/// both leave plain. Checks a word at a time, short inputs with overlapping
/// loads.
#[inline(always)]
fn plain_prefix(s: &[u8], mask: fn(u64) -> u64, class: &[u8; 256]) -> usize {
    let n = s.len();
    let first = |m: u64| (m.trailing_zeros() / 8) as usize;
    if n < 4 {
        return s
            .iter()
            .position(|&b| class[b as usize] != PLAIN)
            .unwrap_or(n);
    }
    if n < 8 {
        // Bytes 0..4 in the low half, n-4..n in the high half.
        let m = mask(u64::from(half_at(s, 0)) | u64::from(half_at(s, n - 4)) << 32);
        return match m {
            0 => n,
            _ if first(m) < 4 => first(m),
            _ => n + first(m) - 8,
        };
    }
    let mut i = 0;
    while i + 8 <= n {
        let m = mask(word_at(s, i));
        if m != 0 {
            return i + first(m);
        }
        i += 8;
    }
    if i < n {
        // The last eight bytes, overlapping plain ones already checked.
        let m = mask(word_at(s, n - 8));
        if m != 0 {
            return n - 8 + first(m);
        }
    }
    n
}

/// The length of the longest prefix of `s` that a JSON string holds as is.
#[inline]
fn json_plain_prefix(s: &[u8]) -> usize {
    plain_prefix(s, json_word_mask, &JSON_CLASS)
}

/// The JSON escape for an ASCII byte the JSON class table marks [`ESC`].
#[inline]
fn push_json_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => put(out, b"\\\""),
        b'\\' => put(out, b"\\\\"),
        b'\n' => put(out, b"\\n"),
        b'\r' => put(out, b"\\r"),
        b'\t' => put(out, b"\\t"),
        0x08 => put(out, b"\\b"),
        0x0c => put(out, b"\\f"),
        _ => put(
            out,
            &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ],
        ),
    }
}

const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

/// Appends `s` as a quoted JSON string.
#[inline]
pub fn json_str(out: &mut Vec<u8>, s: &[u8]) {
    let plain = json_plain_prefix(s);
    if plain == s.len() {
        put_quoted(out, s);
    } else {
        out.push(b'"');
        put(out, &s[..plain]);
        json_escape_from(out, s, plain);
        out.push(b'"');
    }
}

/// Appends the escaped contents of a JSON string (no quotes) for `s`.
pub fn json_escape(out: &mut Vec<u8>, s: &[u8]) {
    let plain = json_plain_prefix(s);
    put(out, &s[..plain]);
    if plain < s.len() {
        json_escape_from(out, s, plain);
    }
}

/// Appends the escaped contents for `s[from..]`, where `s[..from]` is plain
/// ASCII (already written) and `s[from]` needs work.
#[inline(never)]
fn json_escape_from(out: &mut Vec<u8>, s: &[u8], from: usize) {
    let n = s.len();
    let mut run = from; // start of the pending run of bytes to copy
    let mut i = from;
    let mut valid_to = 0; // s[..valid_to] is known to be valid UTF-8 from i on
    while i < n {
        while i + 8 <= n {
            let m = json_word_mask(word_at(s, i));
            if m != 0 {
                i += (m.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        while i < n && JSON_CLASS[s[i] as usize] == PLAIN {
            i += 1;
        }
        if i >= n {
            break;
        }
        let b = s[i];
        match JSON_CLASS[b as usize] {
            PLAIN => i += 1,
            ESC => {
                put(out, &s[run..i]);
                push_json_escape(out, b);
                i += 1;
                run = i;
            }
            _ => {
                if i >= valid_to {
                    match std::str::from_utf8(&s[i..]) {
                        Ok(_) => valid_to = n,
                        Err(e) => {
                            valid_to = i + e.valid_up_to();
                            if valid_to == i {
                                put(out, &s[run..i]);
                                put(out, REPLACEMENT);
                                i += e.error_len().unwrap_or(n - i);
                                run = i;
                                continue;
                            }
                        }
                    }
                }
                // A valid sequence; `b` is a lead byte here, so a 0xE2 lead
                // has its two continuation bytes in bounds.
                if b == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9) {
                    put(out, &s[run..i]);
                    put(
                        out,
                        if s[i + 2] == 0xA8 {
                            b"\\u2028"
                        } else {
                            b"\\u2029"
                        },
                    );
                    i += 3;
                    run = i;
                } else {
                    i += 1;
                }
            }
        }
    }
    put(out, &s[run..]);
}

/// Which text escaper [`text_escape`] implements.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TextMode {
    /// Inside a logfmt quoted value: also `\"` and `\\`.
    Logfmt,
    /// Free console text: only what a terminal could misread.
    Console,
}

/// The code point of the valid sequence at `s[0..]` when it is one a
/// terminal or viewer could misread: a C1 control (U+0080..U+009F, some
/// terminals obey them as escape sequences), a line or paragraph separator
/// (U+2028/U+2029) or a bidirectional override or isolate (U+200E, U+200F,
/// U+202A..U+202E, U+2066..U+2069, which reorder what is displayed).
#[inline]
fn special_code_point(s: &[u8]) -> Option<(u32, usize)> {
    match s[0] {
        0xC2 if s[1] <= 0x9F => Some((u32::from(s[1]), 2)),
        0xE2 => {
            let cp = 0x2000 + ((u32::from(s[1]) & 0x3F) << 6) + (u32::from(s[2]) & 0x3F);
            matches!(cp, 0x200E | 0x200F | 0x2028..=0x202E | 0x2066..=0x2069).then_some((cp, 3))
        }
        _ => None,
    }
}

/// Escapes `s` for logfmt or the console. Returns true when a logfmt value
/// holding `s` must be quoted (something was escaped, or a space or `=`).
///
/// Escapes: `\n`, `\r`, `\t`; other C0 controls and DEL as `\xHH`; each
/// byte of an invalid UTF-8 sequence as `\xHH` (so nothing is lost); the
/// code points of [`special_code_point`] as `\uXXXX`; in logfmt mode also
/// `\"` and `\\`. The output is always valid UTF-8 without any raw control
/// character, so it cannot end a line or start a terminal escape sequence.
fn text_escape(out: &mut Vec<u8>, s: &[u8], mode: TextMode) -> bool {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let class = if mode == TextMode::Logfmt {
        &LOGFMT_CLASS
    } else {
        &CONSOLE_CLASS
    };
    let n = s.len();
    let mut quote = false;
    let mut run = 0;
    let mut i = 0;
    let mut valid_to = 0;
    while i < n {
        while i < n && class[s[i] as usize] == PLAIN {
            i += 1;
        }
        if i >= n {
            break;
        }
        let b = s[i];
        match class[b as usize] {
            PLAIN => i += 1,
            QUOTE => {
                quote = true;
                i += 1;
            }
            ESC => {
                quote = true;
                put(out, &s[run..i]);
                match b {
                    b'\n' => put(out, b"\\n"),
                    b'\r' => put(out, b"\\r"),
                    b'\t' => put(out, b"\\t"),
                    b'"' => put(out, b"\\\""),
                    b'\\' => put(out, b"\\\\"),
                    _ => put(
                        out,
                        &[b'\\', b'x', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]],
                    ),
                }
                i += 1;
                run = i;
            }
            _ => {
                if i >= valid_to {
                    match std::str::from_utf8(&s[i..]) {
                        Ok(_) => valid_to = n,
                        Err(e) => {
                            valid_to = i + e.valid_up_to();
                            if valid_to == i {
                                quote = true;
                                put(out, &s[run..i]);
                                let bad = e.error_len().unwrap_or(n - i);
                                for &x in &s[i..i + bad] {
                                    put(
                                        out,
                                        &[
                                            b'\\',
                                            b'x',
                                            HEX[(x >> 4) as usize],
                                            HEX[(x & 15) as usize],
                                        ],
                                    );
                                }
                                i += bad;
                                run = i;
                                continue;
                            }
                        }
                    }
                }
                // A valid sequence; a lead byte has its continuation bytes.
                match special_code_point(&s[i..]) {
                    Some((cp, len)) => {
                        quote = true;
                        put(out, &s[run..i]);
                        put(out, b"\\u");
                        for shift in [12, 8, 4, 0] {
                            out.push(HEX[((cp >> shift) & 15) as usize]);
                        }
                        i += len;
                        run = i;
                    }
                    None => i += 1,
                }
            }
        }
    }
    put(out, &s[run..]);
    quote
}

/// Appends `s` as a logfmt value: bare when it is non-empty and holds no
/// space, `=`, `"`, `\`, control character, DEL, invalid UTF-8 or special
/// code point; otherwise in double quotes with those escaped (`\"`, `\\`,
/// `\n`, `\r`, `\t`, `\xHH`, `\uXXXX`, see the module docs).
///
/// The result is always one token without a raw control character.
pub fn logfmt_value(out: &mut Vec<u8>, s: &[u8]) {
    if !s.is_empty() && plain_prefix(s, logfmt_word_mask, &LOGFMT_CLASS) == s.len() {
        // Plain ASCII without space or `=`: bare, as is.
        put(out, s);
        return;
    }
    let start = out.len();
    out.push(b'"');
    if text_escape(out, s, TextMode::Logfmt) || s.is_empty() {
        out.push(b'"');
    } else {
        // Nothing was escaped, so the bytes after the quote are `s` itself.
        out.remove(start);
    }
}

/// Appends free text for a terminal (a console message or logger name),
/// unquoted: control characters, DEL, invalid UTF-8 and the special code
/// points are escaped as in logfmt, while `"`, `\`, spaces and `=` are kept,
/// for readability. No raw ESC or newline can come out.
pub fn console_text(out: &mut Vec<u8>, s: &[u8]) {
    text_escape(out, s, TextMode::Console);
}

/// Bytes kept in a logfmt key: printable ASCII except `=` and `"`.
static KEY_OK: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0x21;
    while i < 0x7f {
        t[i] = i != b'=' as usize && i != b'"' as usize;
        i += 1;
    }
    t
};

/// Appends `s` as a logfmt key: one token, never needing quotes.
///
/// Every byte that is not printable ASCII (0x21..=0x7E), and every `=` and
/// `"`, is replaced by `_`, one `_` per byte (so a two-byte UTF-8 character
/// becomes `__`). An empty key is written as `_`.
pub fn logfmt_key(out: &mut Vec<u8>, key: &[u8]) {
    if key.is_empty() {
        out.push(b'_');
        return;
    }
    if key.iter().all(|&b| KEY_OK[b as usize]) {
        put(out, key);
        return;
    }
    let mut run = 0;
    for (i, &b) in key.iter().enumerate() {
        if !KEY_OK[b as usize] {
            put(out, &key[run..i]);
            out.push(b'_');
            run = i + 1;
        }
    }
    put(out, &key[run..]);
}

/// Appends `s` with every maximal invalid UTF-8 subsequence replaced by
/// U+FFFD (as [`String::from_utf8_lossy`], without allocating): the form in
/// which a JSON key is compared for de-duplication.
pub fn push_lossy(out: &mut Vec<u8>, s: &[u8]) {
    if s.is_ascii() || std::str::from_utf8(s).is_ok() {
        put(out, s);
        return;
    }
    for chunk in s.utf8_chunks() {
        put(out, chunk.valid().as_bytes());
        if !chunk.invalid().is_empty() {
            put(out, REPLACEMENT);
        }
    }
}

/// Appends `bytes` as standard, padded base64 (RFC 4648 section 4).
pub fn base64(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    // `encoded_len` is None only for inputs over usize::MAX / 4 * 3 bytes,
    // which cannot be in memory alongside their encoding.
    let len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
    out.resize(start + len, 0);
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(bytes, &mut out[start..])
        .unwrap_or(0);
    out.truncate(start + written);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &[u8]) -> String {
        let mut v = Vec::new();
        json_str(&mut v, s);
        String::from_utf8(v).expect("JSON output is UTF-8")
    }
    fn logfmt(s: &[u8]) -> String {
        let mut v = Vec::new();
        logfmt_value(&mut v, s);
        String::from_utf8(v).expect("logfmt output is UTF-8")
    }
    fn console(s: &[u8]) -> String {
        let mut v = Vec::new();
        console_text(&mut v, s);
        String::from_utf8(v).expect("console output is UTF-8")
    }

    #[test]
    fn json_escapes_quotes_backslashes_and_control_characters() {
        assert_eq!(json(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(json(b"\n\r\t\x08\x0c"), r#""\n\r\t\b\f""#);
        assert_eq!(
            json(b"\x00\x01\x1b\x1f\x7f"),
            r#""\u0000\u0001\u001b\u001f\u007f""#
        );
        assert_eq!(json(b""), r#""""#);
        assert_eq!(
            json(b"plain text, long enough to use the word path"),
            "\"plain text, long enough to use the word path\""
        );
    }

    #[test]
    fn json_escapes_line_and_paragraph_separators() {
        assert_eq!(
            json("a\u{2028}b\u{2029}c".as_bytes()),
            r#""a\u2028b\u2029c""#
        );
        // Neighbours of U+2028 in the same block are copied.
        assert_eq!(json("\u{2027}\u{202a}".as_bytes()), "\"\u{2027}\u{202a}\"");
    }

    #[test]
    fn json_copies_valid_non_ascii_text() {
        let s = "héllo wörld ✓ 日本語 🎉";
        assert_eq!(json(s.as_bytes()), format!("\"{s}\""));
    }

    #[test]
    fn json_replaces_invalid_utf8_like_from_utf8_lossy() {
        let cases: &[&[u8]] = &[
            b"\xff",
            b"a\xffb",
            b"\xe2\x82",      // truncated 3-byte sequence: one U+FFFD
            b"\xe2\x82x\xe2", // maximal subparts
            b"\xf0\x9f\x8e",  // truncated 4-byte sequence at the end
            b"\xed\xa0\x80",  // surrogate: three replacements
            b"\xc0\xaf",      // overlong
            b"ok\xf4\x90\x80\x80ok\x80\x80",
            b"\x80\"\x80\n\xe2\x80\xa8\xe2\x80",
        ];
        for &c in cases {
            let want = serde_json::to_string(&String::from_utf8_lossy(c))
                .unwrap()
                .replace('\u{2028}', "\\u2028");
            assert_eq!(json(c), want, "{c:?}");
        }
    }

    #[test]
    fn json_output_parses_back_to_the_lossy_input_for_every_byte() {
        let mut all = Vec::new();
        for b in 0..=255u8 {
            all.push(b);
            all.extend_from_slice(b"xy");
        }
        all.extend_from_slice("\u{2028}\u{2029}é".as_bytes());
        for window in [1usize, 2, 3, 7, 8, 9, 64, all.len()] {
            for chunk in all.chunks(window) {
                let out = json(chunk);
                let back: String = serde_json::from_str(&out).unwrap();
                assert_eq!(back, String::from_utf8_lossy(chunk));
                assert!(!out.bytes().any(|b| b < 0x20 || b == 0x7f), "{out:?}");
            }
        }
    }

    /// JSON escaping the slow, obvious way: through `from_utf8_lossy`,
    /// character by character.
    fn json_reference(s: &[u8]) -> String {
        let mut o = String::from("\"");
        for c in String::from_utf8_lossy(s).chars() {
            match c {
                '"' => o.push_str("\\\""),
                '\\' => o.push_str("\\\\"),
                '\n' => o.push_str("\\n"),
                '\r' => o.push_str("\\r"),
                '\t' => o.push_str("\\t"),
                '\u{8}' => o.push_str("\\b"),
                '\u{c}' => o.push_str("\\f"),
                '\u{2028}' | '\u{2029}' => o.push_str(&format!("\\u{:04x}", c as u32)),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    o.push_str(&format!("\\u{:04x}", c as u32))
                }
                c => o.push(c),
            }
        }
        o.push('"');
        o
    }

    /// Pseudo-random inputs of every length up to 48 from bytes that need
    /// work (at every position, since the fast paths work on whole words)
    /// and bytes that do not.
    fn hostile_inputs() -> Vec<Vec<u8>> {
        const ALPHABET: &[u8] =
            b"aZ09 =\"\\\x00\x1f\x7f\n\xc3\xa9\xe2\x80\xa8\xa9\xff\xf0\x9f\x98\x80.#_";
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut v = Vec::new();
        for len in 0..=48 {
            for round in 0..300 {
                let s: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // Mostly plain bytes, so the special ones are sparse.
                        if round % 3 == 0 || seed % 8 == 0 {
                            ALPHABET[(seed >> 8) as usize % ALPHABET.len()]
                        } else {
                            b'a' + (seed >> 8) as u8 % 26
                        }
                    })
                    .collect();
                v.push(s);
            }
        }
        for len in 0..=48 {
            for special in [b'"', b'\\', 0x00, 0x1f, 0x7f, 0x80, 0xff, b' ', b'='] {
                for at in 0..len {
                    let mut s = vec![b'k'; len];
                    s[at] = special;
                    v.push(s);
                }
            }
        }
        v
    }

    #[test]
    fn json_fast_paths_match_the_reference_on_hostile_inputs() {
        for s in hostile_inputs() {
            assert_eq!(json(&s), json_reference(&s), "{s:?}");
            let mut v = b"x".to_vec();
            json_escape(&mut v, &s);
            let want = json_reference(&s);
            assert_eq!(&v[1..], &want.as_bytes()[1..want.len() - 1], "{s:?}");
        }
    }

    #[test]
    fn plain_prefixes_end_at_the_first_byte_needing_work() {
        for s in hostile_inputs() {
            let naive = |class: &[u8; 256]| {
                s.iter()
                    .position(|&b| class[b as usize] != PLAIN)
                    .unwrap_or(s.len())
            };
            assert_eq!(json_plain_prefix(&s), naive(&JSON_CLASS), "{s:?}");
            assert_eq!(
                plain_prefix(&s, logfmt_word_mask, &LOGFMT_CLASS),
                naive(&LOGFMT_CLASS),
                "{s:?}"
            );
        }
    }

    #[test]
    fn bare_logfmt_values_match_the_quoting_rule() {
        for s in hostile_inputs() {
            let mut want = b"\"".to_vec();
            if text_escape(&mut want, &s, TextMode::Logfmt) || s.is_empty() {
                want.push(b'"');
            } else {
                want.remove(0);
            }
            let mut got = b"x".to_vec();
            logfmt_value(&mut got, &s);
            assert_eq!(&got[1..], &want[..], "{s:?}");
        }
    }

    #[test]
    fn json_preserves_embedded_nul() {
        assert_eq!(json(b"a\0b"), r#""a\u0000b""#);
    }

    #[test]
    fn logfmt_values_are_bare_unless_they_need_quotes() {
        assert_eq!(logfmt(b"alice"), "alice");
        assert_eq!(logfmt(b"12.5"), "12.5");
        assert_eq!(logfmt("wörld".as_bytes()), "wörld");
        assert_eq!(logfmt(b""), r#""""#);
        assert_eq!(logfmt(b"charge ok"), r#""charge ok""#);
        assert_eq!(logfmt(b"a=b"), r#""a=b""#);
        assert_eq!(logfmt(b"say \"hi\""), r#""say \"hi\"""#);
        assert_eq!(logfmt(b"C:\\dir"), r#""C:\\dir""#);
    }

    #[test]
    fn logfmt_values_never_hold_raw_control_characters_or_escape() {
        assert_eq!(logfmt(b"a\nb"), r#""a\nb""#);
        assert_eq!(logfmt(b"\x1b[31mred\x1b[0m"), r#""\x1b[31mred\x1b[0m""#);
        assert_eq!(logfmt(b"nul\0\t\r\x7f"), r#""nul\x00\t\r\x7f""#);
        assert_eq!(logfmt(b"bad\xff\xe2\x82"), r#""bad\xff\xe2\x82""#);
        assert_eq!(logfmt("\u{9b}31m".as_bytes()), r#""\u009b31m""#);
        assert_eq!(
            logfmt("x\u{2028}\u{202e}y".as_bytes()),
            r#""x\u2028\u202ey""#
        );
        for b in 0..=255u8 {
            let out = logfmt(&[b, b'a', b]);
            assert!(!out.bytes().any(|c| c < 0x20 || c == 0x7f), "{out:?}");
        }
    }

    #[test]
    fn console_text_escapes_only_what_a_terminal_could_misread() {
        assert_eq!(
            console(b"charge ok: \"x\" = C:\\y"),
            "charge ok: \"x\" = C:\\y"
        );
        assert_eq!(console(b"line1\nline2\x1b[2J"), "line1\\nline2\\x1b[2J");
        assert_eq!(console("\u{85}".as_bytes()), "\\u0085");
        assert_eq!(console("é\u{a0}".as_bytes()), "é\u{a0}");
    }

    #[test]
    fn logfmt_keys_are_always_one_token() {
        let key = |k: &[u8]| {
            let mut v = Vec::new();
            logfmt_key(&mut v, k);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(key(b"user_id"), "user_id");
        assert_eq!(key(b"a b=c\"d\ne\x1b"), "a_b_c_d_e_");
        assert_eq!(key("é".as_bytes()), "__");
        assert_eq!(key(b""), "_");
    }

    #[test]
    fn lossy_keys_match_from_utf8_lossy() {
        for c in [&b"ok"[..], b"a\xffb\xe2\x82", b"\xed\xa0\x80"] {
            let mut v = Vec::new();
            push_lossy(&mut v, c);
            assert_eq!(v, String::from_utf8_lossy(c).as_bytes());
        }
    }

    #[test]
    fn bytes_are_standard_padded_base64() {
        let b64 = |b: &[u8]| {
            let mut v = b"x".to_vec();
            base64(&mut v, b);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(b64(b""), "x");
        assert_eq!(b64(b"f"), "xZg==");
        assert_eq!(b64(b"fo"), "xZm8=");
        assert_eq!(b64(b"foo"), "xZm9v");
        assert_eq!(b64(&[0xfb, 0xff]), "x+/8=");
    }
}
