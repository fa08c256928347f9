package ringlog

import (
	"log/slog"
	"testing"
)

func TestWithAttrsAndWithGroupChainsNestLaterAttrs(t *testing.T) {
	s := startFile(t, "")
	base := slog.New(NewHandler(nil))
	l := base.With("svc", "api").
		WithGroup("req").With("id", "r-1").
		WithGroup("db").With("table", "users")
	l.Info("one", "rows", 3)
	l.Info("two")
	base.WithGroup("a").WithGroup("b").Info("three", "k", "v")
	base.With("x", 1).With("y", 2).Info("four", "z", 3)
	rs := s.records()

	want(t, rs[0], "api", "svc")
	want(t, rs[0], "r-1", "req", "id")
	want(t, rs[0], "users", "req", "db", "table")
	want(t, rs[0], 3, "req", "db", "rows")

	// The record has no attrs, but the groups hold WithAttrs attrs.
	want(t, rs[1], map[string]any{"id": "r-1", "db": map[string]any{"table": "users"}}, "req")

	want(t, rs[2], map[string]any{"b": map[string]any{"k": "v"}}, "a")

	want(t, rs[3], 1, "x")
	want(t, rs[3], 2, "y")
	want(t, rs[3], 3, "z")
}

func TestEmptyGroupsAndEmptyAttrsAreElided(t *testing.T) {
	s := startFile(t, "")
	l := slog.New(NewHandler(nil))
	l.WithGroup("g").WithGroup("h").Info("no attrs")
	l.WithGroup("g").With("a", 1).WithGroup("h").Info("outer only")
	l.Info("empty group attr", slog.Group("e"), slog.Group("f", slog.Group("nested-empty")), "k", "v")
	l.Info("empty attr", slog.Attr{}, "k", "v")
	l.With(slog.Attr{}).Info("empty WithAttrs")
	l.Info("empty key, value kept", slog.String("", "v"))
	l.Info("nil value kept", slog.Any("n", nil))
	rs := s.records()

	absent(t, rs[0], "g")
	if ks := userKeys(rs[0]); len(ks) != 0 {
		t.Errorf("no attrs: fields %v", ks)
	}
	want(t, rs[1], map[string]any{"a": 1}, "g")
	absent(t, rs[2], "e")
	absent(t, rs[2], "f")
	want(t, rs[2], "v", "k")
	if ks := userKeys(rs[3]); len(ks) != 1 {
		t.Errorf("empty attr: fields %v, want only k", ks)
	}
	if ks := userKeys(rs[4]); len(ks) != 0 {
		t.Errorf("empty WithAttrs: fields %v", ks)
	}
	want(t, rs[5], "v", "")
	want(t, rs[6], nil, "n")
}

func TestAGroupWithAnEmptyKeyIsInlined(t *testing.T) {
	s := startFile(t, "")
	slog.New(NewHandler(nil)).WithGroup("g").Info("inline",
		slog.Group("", slog.Int("a", 1), slog.Group("", slog.Int("b", 2))), slog.Int("c", 3))
	want(t, s.last(), map[string]any{"a": 1, "b": 2, "c": 3}, "g")
}

func TestWithAttrsResolvesLogValuersWhenCalled(t *testing.T) {
	s := startFile(t, "")
	n := 0
	lv := counter{&n}
	l := slog.New(NewHandler(nil)).With("c", lv)
	l.Info("a")
	l.Info("b")
	rs := s.records()
	want(t, rs[0], 1, "c")
	want(t, rs[1], 1, "c")
	if n != 1 {
		t.Errorf("LogValue called %d times, want once (at With)", n)
	}
}

type counter struct{ n *int }

func (c counter) LogValue() slog.Value {
	*c.n++
	return slog.IntValue(*c.n)
}

func TestGroupsDeeperThanRinglogAllowsAreWrittenAsText(t *testing.T) {
	s := startFile(t, "")
	g := slog.Int("leaf", 1)
	for i := 0; i < 40; i++ {
		g = slog.Group("g", g)
	}
	var deep any = 1
	for i := 0; i < 40; i++ {
		deep = []any{deep}
	}
	if err := NewHandler(nil).Handle(t.Context(), record("deep", g, slog.Any("json", deep))); err != nil {
		t.Fatal(err)
	}
	r := s.last()
	v, _ := get(r, "g")
	depth := 0
	for {
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		v = m["g"]
		depth++
	}
	if _, ok := v.(string); !ok || depth < 20 {
		t.Errorf("after %d levels found %v, want text", depth, v)
	}
}
