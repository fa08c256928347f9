//! Timestamp formatting for the encoders.
//!
//! Records carry a `u64` count of nanoseconds since the Unix epoch (UTC). The
//! encoders print it in one of the [`TimeFormat`]s. RFC 3339 is the default
//! because every log pipeline parses it; the Unix forms exist for pipelines
//! that want a number.
//!
//! Why hand-written: formatting runs once per record on the flusher thread,
//! which targets millions of records per second. A general date library would
//! allocate or go through `fmt`; here the date and time down to the second is
//! computed with a short integer algorithm (days → civil date, after Howard
//! Hinnant's public-domain derivation) and *cached*: consecutive records in
//! the same second (the common case) only print the fraction.
//!
//! A `u64` of nanoseconds reaches the year 2554, so the year always has four
//! digits and no negative dates exist.

use serde::{Deserialize, Serialize};

/// How an encoder prints a record's timestamp (always UTC).
///
/// Configured by its snake_case name, e.g. `"time_format": "unix_ms"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeFormat {
    /// `2026-11-22T01:44:50.123456789Z` (nanoseconds, 9 fraction digits).
    #[default]
    Rfc3339Ns,
    /// `2026-11-22T01:44:50.123456Z` (microseconds, 6 fraction digits).
    Rfc3339Us,
    /// `2026-11-22T01:44:50.123Z` (milliseconds, 3 fraction digits).
    Rfc3339Ms,
    /// Seconds since the epoch with 9 fraction digits: `1763775890.123456789`.
    UnixS,
    /// Whole milliseconds since the epoch: `1763775890123`.
    UnixMs,
    /// Whole nanoseconds since the epoch: `1763775890123456789`.
    UnixNs,
}

impl TimeFormat {
    /// True when the formatted time is a number (JSON writes it unquoted);
    /// false for the RFC 3339 text forms.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            TimeFormat::UnixS | TimeFormat::UnixMs | TimeFormat::UnixNs
        )
    }
}

const NS_PER_S: u64 = 1_000_000_000;

/// Formats timestamps in one [`TimeFormat`], caching the part down to the
/// second (`YYYY-MM-DDTHH:MM:SS`) of the last timestamp it formatted.
#[derive(Clone, Debug)]
pub struct TimeFormatter {
    format: TimeFormat,
    /// The second `cached` was computed for (`u64::MAX`: nothing cached; no
    /// `u64` of nanoseconds reaches that second).
    cached_sec: u64,
    /// `YYYY-MM-DDTHH:MM:SS.` for `cached_sec`, then room for the fraction
    /// and the `Z`, filled in per timestamp.
    cached: [u8; 32],
}

impl TimeFormatter {
    /// A formatter for `format`.
    pub fn new(format: TimeFormat) -> Self {
        TimeFormatter {
            format,
            cached_sec: u64::MAX,
            cached: [0; 32],
        }
    }

    /// The format this formatter writes.
    pub fn format(&self) -> TimeFormat {
        self.format
    }

    /// Appends `ts_ns` (ns since the Unix epoch, UTC) to `out`, unquoted.
    #[inline]
    pub fn write(&mut self, ts_ns: u64, out: &mut Vec<u8>) {
        let sec = ts_ns / NS_PER_S;
        let frac = (ts_ns % NS_PER_S) as u32;
        let digits = match self.format {
            TimeFormat::Rfc3339Ns => 9,
            TimeFormat::Rfc3339Us => 6,
            TimeFormat::Rfc3339Ms => 3,
            TimeFormat::UnixS => {
                super::push_u64(out, sec);
                let mut b = [b'.'; 10];
                b[1..].copy_from_slice(&nine_digits(frac));
                return super::put(out, &b);
            }
            TimeFormat::UnixMs => return super::push_u64(out, ts_ns / 1_000_000),
            TimeFormat::UnixNs => return super::push_u64(out, ts_ns),
        };
        if sec != self.cached_sec {
            self.cached[..19].copy_from_slice(&date_time(sec));
            self.cached[19] = b'.';
            self.cached_sec = sec;
        }
        let d = nine_digits(frac);
        out.reserve(self.cached.len());
        let len = out.len();
        // SAFETY: 32 bytes reserved after `len`; the copy and the digit and `Z` writes
        // (bytes ≤ 29) stay in them, and `set_len` keeps only the written `21 + digits`.
        unsafe {
            let dst = out.as_mut_ptr().add(len);
            std::ptr::copy_nonoverlapping(self.cached.as_ptr(), dst, 32);
            std::ptr::copy_nonoverlapping(d.as_ptr(), dst.add(20), 9);
            // Fewer digits: the `Z` overwrites the first digit not kept.
            *dst.add(20 + digits) = b'Z';
            out.set_len(len + 21 + digits);
        }
    }
}

/// `n` (< 10⁹) as exactly nine decimal digits.
#[inline]
fn nine_digits(n: u32) -> [u8; 9] {
    let mut d = [b'0'; 9];
    d[0] = b'0' + (n / 100_000_000) as u8;
    d[1..].copy_from_slice(&eight_digits(n % 100_000_000).to_le_bytes());
    d
}

/// `n` (< 10⁸) as exactly eight decimal digits, most significant first in
/// memory (little-endian), computed in parallel lanes of one word: split
/// into two 4-digit halves (32-bit lanes), each into two 2-digit quarters
/// (16-bit lanes), each into two digits (bytes). The divisions by 100 and
/// 10 are multiply-and-shift, exact for the lane values involved (< 10⁴
/// and < 10²), and no lane's product reaches into the next.
#[inline]
fn eight_digits(n: u32) -> u64 {
    let halves = u64::from(n / 10_000) | u64::from(n % 10_000) << 32;
    let hundreds = ((halves * 10_486) >> 20) & 0x0000_007F_0000_007F;
    let quarters = hundreds | (halves - hundreds * 100) << 16;
    let tens = ((quarters * 103) >> 10) & 0x000F_000F_000F_000F;
    let digits = tens | (quarters - tens * 10) << 8;
    digits + 0x3030_3030_3030_3030
}

#[inline]
fn two(d: &mut [u8], v: u32) {
    d[0] = b'0' + (v / 10) as u8;
    d[1] = b'0' + (v % 10) as u8;
}

/// `YYYY-MM-DDTHH:MM:SS` for a count of seconds since the epoch.
fn date_time(sec: u64) -> [u8; 19] {
    let days = sec / 86_400;
    let rem = (sec % 86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    let mut b = *b"0000-00-00T00:00:00";
    two(&mut b[0..2], y / 100);
    two(&mut b[2..4], y % 100);
    two(&mut b[5..7], m);
    two(&mut b[8..10], d);
    two(&mut b[11..13], rem / 3600);
    two(&mut b[14..16], rem / 60 % 60);
    two(&mut b[17..19], rem % 60);
    b
}

/// The proleptic Gregorian date `(year, month 1..=12, day 1..=31)` that is
/// `days` days after 1970-01-01.
///
/// The calendar is shifted to start on March 1st, so the leap day is the
/// last day of a "year"; then the 400-year era, the year of the era and the
/// day of that year follow by integer division, and the month by the
/// `(5·day + 2) / 153` trick (the months March..January alternate 31/30 days
/// in a 153-day five-month pattern).
pub(crate) fn civil_from_days(days: u64) -> (u32, u32, u32) {
    // 1970-01-01 is day 719_468 counted from 0000-03-01.
    let z = days + 719_468;
    let era = z / 146_097; // days in 400 years
    let doe = z % 146_097; // day of era, 0..=146_096
                           // Year of era, 0..=399: take out one day per 4 years, add one back per
                           // 100 years, take one out again for the last day of the era.
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from Mar 1st, 0..=365
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y as u32, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(f: TimeFormat, ts: u64) -> String {
        let mut out = Vec::new();
        TimeFormatter::new(f).write(ts, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// Days since the epoch the slow way: count whole years and months.
    fn days_naive(y: u32, m: u32, d: u32) -> u64 {
        let leap = |y: u32| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let mut n = 0u64;
        for yy in 1970..y {
            n += if leap(yy) { 366 } else { 365 };
        }
        let mdays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        for mm in 1..m {
            n += mdays[mm as usize - 1] + u64::from(mm == 2 && leap(y));
        }
        n + u64::from(d) - 1
    }

    #[test]
    fn the_epoch_is_1970_01_01() {
        assert_eq!(
            fmt(TimeFormat::Rfc3339Ns, 0),
            "1970-01-01T00:00:00.000000000Z"
        );
        assert_eq!(fmt(TimeFormat::UnixS, 0), "0.000000000");
        assert_eq!(fmt(TimeFormat::UnixMs, 0), "0");
    }

    #[test]
    fn known_timestamps_format_in_every_format() {
        let ts = 1_763_775_890_123_456_789;
        assert_eq!(
            fmt(TimeFormat::Rfc3339Ns, ts),
            "2025-11-22T01:44:50.123456789Z"
        );
        assert_eq!(
            fmt(TimeFormat::Rfc3339Us, ts),
            "2025-11-22T01:44:50.123456Z"
        );
        assert_eq!(fmt(TimeFormat::Rfc3339Ms, ts), "2025-11-22T01:44:50.123Z");
        assert_eq!(fmt(TimeFormat::UnixS, ts), "1763775890.123456789");
        assert_eq!(fmt(TimeFormat::UnixMs, ts), "1763775890123");
        assert_eq!(fmt(TimeFormat::UnixNs, ts), "1763775890123456789");
        assert_eq!(fmt(TimeFormat::UnixS, 1_000_000_007), "1.000000007");
    }

    #[test]
    fn leap_days_and_century_rules_are_right() {
        // 2000 is a leap year (divisible by 400), 2100 is not.
        let s = 951_782_400; // 2000-02-29T00:00:00Z
        assert_eq!(
            fmt(TimeFormat::Rfc3339Ms, s * NS_PER_S),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            fmt(TimeFormat::Rfc3339Ms, (s + 86_399) * NS_PER_S + 999_000_000),
            "2000-02-29T23:59:59.999Z"
        );
        let s = 4_107_542_400; // 2100-03-01T00:00:00Z
        assert_eq!(
            fmt(TimeFormat::Rfc3339Ms, s * NS_PER_S),
            "2100-03-01T00:00:00.000Z"
        );
        assert_eq!(
            fmt(TimeFormat::Rfc3339Ms, (s - 1) * NS_PER_S),
            "2100-02-28T23:59:59.000Z"
        );
        // 2024-02-29, an ordinary leap year.
        assert_eq!(
            fmt(TimeFormat::Rfc3339Ns, 1_709_164_800 * NS_PER_S + 5),
            "2024-02-29T00:00:00.000000005Z"
        );
    }

    #[test]
    fn the_far_future_end_of_u64_formats() {
        assert_eq!(
            fmt(TimeFormat::Rfc3339Ns, u64::MAX),
            "2554-07-21T23:34:33.709551615Z"
        );
        assert_eq!(fmt(TimeFormat::UnixS, u64::MAX), "18446744073.709551615");
        assert_eq!(fmt(TimeFormat::UnixNs, u64::MAX), "18446744073709551615");
    }

    #[test]
    fn civil_dates_match_a_naive_day_count_for_every_day_to_2600() {
        let leap = |y: u32| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let mdays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let mut days = 0u64;
        for y in 1970..2600u32 {
            for m in 1..=12u32 {
                let n = mdays[m as usize - 1] + u32::from(m == 2 && leap(y));
                for d in 1..=n {
                    assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
                    days += 1;
                }
            }
        }
        assert_eq!(days_naive(2100, 3, 1), 4_107_542_400 / 86_400);
    }

    #[test]
    fn the_cached_second_is_refreshed_when_the_second_changes() {
        let mut f = TimeFormatter::new(TimeFormat::Rfc3339Us);
        let mut out = Vec::new();
        for ts in [
            59 * NS_PER_S + 1_000,
            59 * NS_PER_S + 2_000,
            60 * NS_PER_S,
            59 * NS_PER_S,
        ] {
            f.write(ts, &mut out);
            out.push(b'|');
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1970-01-01T00:00:59.000001Z|1970-01-01T00:00:59.000002Z|\
             1970-01-01T00:01:00.000000Z|1970-01-01T00:00:59.000000Z|"
        );
    }

    #[test]
    fn digit_words_match_decimal_formatting() {
        let check = |n: u32| {
            assert_eq!(
                eight_digits(n).to_le_bytes(),
                format!("{n:08}").as_bytes(),
                "{n}"
            );
        };
        // Each 4-digit half is computed in its own lane: cover every value
        // of both lanes, and every value below 200000 outright.
        for i in 0..10_000 {
            check(i * 10_001);
            check(i * 10_000 + (9_999 - i));
        }
        (0..200_000).for_each(check);
        let mut x = 0x9E37_79B9u32;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            check(x % 100_000_000);
            let n = x % 1_000_000_000;
            assert_eq!(nine_digits(n), format!("{n:09}").as_bytes(), "{n}");
        }
        check(99_999_999);
        assert_eq!(&nine_digits(999_999_999), b"999999999");
    }

    #[test]
    fn formats_deserialize_from_snake_case_names() {
        let all: Vec<TimeFormat> = serde_json::from_str(
            r#"["rfc3339_ns","rfc3339_us","rfc3339_ms","unix_s","unix_ms","unix_ns"]"#,
        )
        .unwrap();
        assert_eq!(
            all,
            [
                TimeFormat::Rfc3339Ns,
                TimeFormat::Rfc3339Us,
                TimeFormat::Rfc3339Ms,
                TimeFormat::UnixS,
                TimeFormat::UnixMs,
                TimeFormat::UnixNs
            ]
        );
        assert_eq!(TimeFormat::default(), TimeFormat::Rfc3339Ns);
        assert!(serde_json::from_str::<TimeFormat>(r#""rfc3339""#).is_err());
        assert!(TimeFormat::UnixS.is_numeric() && !TimeFormat::Rfc3339Ms.is_numeric());
    }
}
