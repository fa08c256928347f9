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
    cached: [u8; 19],
}

impl TimeFormatter {
    /// A formatter for `format`.
    pub fn new(format: TimeFormat) -> Self {
        TimeFormatter {
            format,
            cached_sec: u64::MAX,
            cached: [0; 19],
        }
    }

    /// The format this formatter writes.
    pub fn format(&self) -> TimeFormat {
        self.format
    }

    /// Appends `ts_ns` (ns since the Unix epoch, UTC) to `out`, unquoted.
    pub fn write(&mut self, ts_ns: u64, out: &mut Vec<u8>) {
        let sec = ts_ns / NS_PER_S;
        let frac = (ts_ns % NS_PER_S) as u32;
        let digits = match self.format {
            TimeFormat::Rfc3339Ns => 9,
            TimeFormat::Rfc3339Us => 6,
            TimeFormat::Rfc3339Ms => 3,
            TimeFormat::UnixS => {
                super::push_u64(out, sec);
                out.push(b'.');
                out.extend_from_slice(&nine_digits(frac));
                return;
            }
            TimeFormat::UnixMs => return super::push_u64(out, ts_ns / 1_000_000),
            TimeFormat::UnixNs => return super::push_u64(out, ts_ns),
        };
        if sec != self.cached_sec {
            self.cached = date_time(sec);
            self.cached_sec = sec;
        }
        out.extend_from_slice(&self.cached);
        out.push(b'.');
        out.extend_from_slice(&nine_digits(frac)[..digits]);
        out.push(b'Z');
    }
}

/// `n` (< 10⁹) as exactly nine decimal digits.
#[inline]
fn nine_digits(n: u32) -> [u8; 9] {
    let mut d = [b'0'; 9];
    let (hi, lo) = (n / 10_000, n % 10_000);
    d[0] = b'0' + (hi / 10_000) as u8;
    two(&mut d[1..3], hi / 100 % 100);
    two(&mut d[3..5], hi % 100);
    two(&mut d[5..7], lo / 100);
    two(&mut d[7..9], lo % 100);
    d
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
