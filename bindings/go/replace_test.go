package ringlog

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReplaceAttrRewritesAndRemovesAttrsWithTheirGroups(t *testing.T) {
	s := startFile(t, "")
	var seen []string
	rep := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key != slog.TimeKey && a.Key != slog.LevelKey && a.Key != slog.MessageKey {
			seen = append(seen, strings.Join(append(slices.Clone(groups), a.Key), "."))
		}
		switch a.Key {
		case "password":
			return slog.String(a.Key, "***")
		case "drop":
			return slog.Attr{}
		case "upper":
			return slog.String("UPPER", strings.ToUpper(a.Value.String()))
		}
		return a
	}
	l := slog.New(NewHandler(&HandlerOptions{ReplaceAttr: rep}))
	l.With("password", "p1").WithGroup("req").With("drop", 1, "upper", "x").
		Info("m", "password", "p2", slog.Group("inner", "drop", 2, "password", "p3"), "lv", user{id: 1})
	r := s.last()
	want(t, r, "***", "password")
	want(t, r, "***", "req", "password")
	want(t, r, "***", "req", "inner", "password")
	want(t, r, "X", "req", "UPPER")
	absent(t, r, "req", "drop")
	absent(t, r, "req", "inner", "drop")
	// ReplaceAttr sees resolved values: the LogValuer's group, member by member.
	want(t, r, map[string]any{"id": 1, "kind": "user"}, "req", "lv")
	w := []string{"password", "req.drop", "req.upper", "req.password", "req.inner.drop", "req.inner.password", "req.lv.id", "req.lv.kind"}
	if !slices.Equal(seen, w) {
		t.Errorf("ReplaceAttr saw %q, want %q", seen, w)
	}
}

func TestReplaceAttrSeesTheBuiltInsAndCanChangeThem(t *testing.T) {
	s := startFile(t, "")
	fixed := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	var builtins []string
	rep := func(groups []string, a slog.Attr) slog.Attr {
		if groups == nil {
			builtins = append(builtins, a.Key)
		}
		switch a.Key {
		case slog.TimeKey:
			return slog.Time(a.Key, fixed)
		case slog.LevelKey:
			if a.Value.Any().(slog.Level) == slog.LevelInfo {
				return slog.Any(a.Key, slog.LevelError)
			}
			if a.Value.Any().(slog.Level) == slog.LevelWarn {
				return slog.String(a.Key, "NOTICE")
			}
		case slog.MessageKey:
			if a.Value.String() == "remove me" {
				return slog.Attr{}
			}
			return slog.String(a.Key, "<"+a.Value.String()+">")
		case slog.SourceKey:
			src := a.Value.Any().(*slog.Source)
			return slog.String(a.Key, "line "+strings.Repeat("x", min(src.Line, 1)))
		}
		return a
	}
	l := slog.New(NewHandler(&HandlerOptions{ReplaceAttr: rep, AddSource: true}))
	l.Info("hello")
	l.Warn("remove me")
	rs := s.records()
	want(t, rs[0], "2020-01-02T03:04:05.000000000Z", "ts")
	want(t, rs[0], "error", "level")
	want(t, rs[0], "<hello>", "msg")
	want(t, rs[0], "line x", "source")
	want(t, rs[1], "warn", "level")
	want(t, rs[1], "NOTICE", "level#2")
	want(t, rs[1], "", "msg")
	if w := []string{"time", "level", "source", "msg"}; !slices.Equal(builtins[:4], w) {
		t.Errorf("built-ins seen in the order %q, want %q", builtins[:4], w)
	}
}

func TestReplaceAttrIsNotCalledForAZeroTime(t *testing.T) {
	startFile(t, "")
	var keys []string
	h := NewHandler(&HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		keys = append(keys, a.Key)
		return a
	}})
	if err := h.Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(keys, slog.TimeKey) {
		t.Errorf("ReplaceAttr got %q", keys)
	}
}
