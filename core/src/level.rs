//! Severity levels: OpenTelemetry `SeverityNumber` values 1..=24.
//!
//! The six named levels sit at the start of each OpenTelemetry band
//! (trace=1, debug=5, info=9, warn=13, error=17, fatal=21). Any number in
//! 1..=24 is a valid level, so bindings can map their own custom levels
//! (Python's `logging` numbers, slog's levels between the named ones) in
//! order without losing information.

use std::fmt;

/// A severity, stored as an OpenTelemetry `SeverityNumber` (1..=24).
///
/// ```
/// use ringlog::Level;
/// assert_eq!(Level::INFO.number(), 9);
/// assert_eq!(Level::parse("warn").unwrap(), Level::WARN);
/// assert_eq!(Level::from_number(14).unwrap().name(), "warn2");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(u8);

impl Level {
    /// TRACE, severity 1.
    pub const TRACE: Level = Level(1);
    /// DEBUG, severity 5.
    pub const DEBUG: Level = Level(5);
    /// INFO, severity 9.
    pub const INFO: Level = Level(9);
    /// WARN, severity 13.
    pub const WARN: Level = Level(13);
    /// ERROR, severity 17.
    pub const ERROR: Level = Level(17);
    /// FATAL, severity 21.
    pub const FATAL: Level = Level(21);
    /// The highest severity number, 24 (FATAL4).
    pub const MAX: Level = Level(24);
    /// A threshold above every level: nothing is enabled.
    pub const OFF: Level = Level(25);

    /// The level with this OpenTelemetry severity number, if it is in 1..=24.
    pub const fn from_number(n: u8) -> Option<Level> {
        if n >= 1 && n <= 24 {
            Some(Level(n))
        } else {
            None
        }
    }

    /// Like [`Level::from_number`], but clamps out-of-range numbers into 1..=24.
    pub const fn clamped(n: i64) -> Level {
        if n < 1 {
            Level(1)
        } else if n > 24 {
            Level(24)
        } else {
            Level(n as u8)
        }
    }

    /// The OpenTelemetry severity number.
    pub const fn number(self) -> u8 {
        self.0
    }

    /// The OpenTelemetry short name: `info`, `info2`, … `fatal4`.
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 26] = [
            "unspecified",
            "trace",
            "trace2",
            "trace3",
            "trace4",
            "debug",
            "debug2",
            "debug3",
            "debug4",
            "info",
            "info2",
            "info3",
            "info4",
            "warn",
            "warn2",
            "warn3",
            "warn4",
            "error",
            "error2",
            "error3",
            "error4",
            "fatal",
            "fatal2",
            "fatal3",
            "fatal4",
            "off",
        ];
        NAMES[self.0.min(25) as usize]
    }

    /// The upper-case name of the band (`TRACE` … `FATAL`), for console output.
    pub fn band_name(self) -> &'static str {
        match self.0 {
            0..=4 => "TRACE",
            5..=8 => "DEBUG",
            9..=12 => "INFO",
            13..=16 => "WARN",
            17..=20 => "ERROR",
            _ => "FATAL",
        }
    }

    /// Parses a level name (`trace`, `debug`, `info`, `warn`/`warning`,
    /// `error`, `fatal`/`critical`, `info2` …, `off`), case-insensitively, or
    /// a severity number `1`..`24`.
    ///
    /// # Errors
    /// Returns a message naming the accepted spellings when `s` is none of them.
    pub fn parse(s: &str) -> Result<Level, String> {
        let t = s.trim().to_ascii_lowercase();
        if let Ok(n) = t.parse::<u8>() {
            return Level::from_number(n)
                .ok_or_else(|| format!("level number {n} is outside 1..=24"));
        }
        let base = match t.trim_end_matches(['2', '3', '4']) {
            "trace" => 1,
            "debug" => 5,
            "info" => 9,
            "warn" | "warning" => 13,
            "error" => 17,
            "fatal" | "critical" => 21,
            "off" if t == "off" => return Ok(Level::OFF),
            _ => {
                return Err(format!(
                    "unknown level {s:?}: expected trace, debug, info, warn, error, fatal, off or 1..24"
                ))
            }
        };
        let extra = match t.as_bytes().last() {
            Some(b'2') => 1,
            Some(b'3') => 2,
            Some(b'4') => 3,
            _ => 0,
        };
        Ok(Level(base + extra))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_parse() {
        for n in 1..=24u8 {
            let l = Level::from_number(n).unwrap();
            assert_eq!(Level::parse(l.name()).unwrap(), l);
        }
        assert_eq!(Level::parse("WARNING").unwrap(), Level::WARN);
        assert_eq!(Level::parse("critical").unwrap(), Level::FATAL);
        assert_eq!(Level::parse("off").unwrap(), Level::OFF);
        assert!(Level::parse("loud").is_err());
        assert!(Level::parse("0").is_err());
        assert!(Level::parse("25").is_err());
    }

    #[test]
    fn band_names_follow_the_otel_bands() {
        assert_eq!(Level::from_number(12).unwrap().band_name(), "INFO");
        assert_eq!(Level::from_number(13).unwrap().band_name(), "WARN");
        assert_eq!(Level::MAX.band_name(), "FATAL");
    }
}
