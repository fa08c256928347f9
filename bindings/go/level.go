package ringlog

import "log/slog"

// Severity maps a slog level to the OpenTelemetry severity number ringlog
// records carry: level + 9, clamped to 1..24. So slog.LevelDebug (-4) is
// 5 (debug), LevelInfo (0) is 9 (info), LevelWarn (4) is 13 (warn) and
// LevelError (8) is 17 (error); the levels in between keep their order
// (slog.LevelInfo+2 is 11, written "info3"), -8 and below are 1 (trace),
// and 12 is 21 (fatal). This is the mapping OpenTelemetry's own slog
// bridge uses.
func Severity(l slog.Level) uint8 {
	s := int64(l) + 9
	switch {
	case s < 1:
		return 1
	case s > 24:
		return 24
	}
	return uint8(s)
}

// Level is the inverse of Severity for 1..24: the slog level whose
// severity is sev.
func Level(sev uint8) slog.Level {
	return slog.Level(int(sev) - 9)
}
