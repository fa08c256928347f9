package ringlog

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"
)

type point struct {
	X, Y int
	Tag  string `json:"tag,omitempty"`
}

type celsius float64

func (c celsius) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`{"celsius":%g}`, float64(c))), nil
}

type marshalErr struct{ err error }

func (m marshalErr) Error() string                { return "plain " + m.err.Error() }
func (m marshalErr) MarshalJSON() ([]byte, error) { return []byte(`{"code":7}`), nil }

type user struct{ id int }

func (u user) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("id", u.id), slog.String("kind", "user"))
}

type token string

func (t token) LogValue() slog.Value { return slog.StringValue("redacted") }

// chain resolves to another LogValuer n times.
type chain int

func (c chain) LogValue() slog.Value {
	if c == 0 {
		return slog.IntValue(0)
	}
	return slog.AnyValue(c - 1)
}

func TestEveryKindIsWrittenFaithfully(t *testing.T) {
	s := startFile(t, "")
	when := time.Date(2026, 11, 22, 1, 2, 3, 4, time.FixedZone("X", 3600))
	slog.New(NewHandler(nil)).Info("kinds",
		slog.String("str", "text"),
		slog.String("empty", ""),
		slog.Int64("i64", math.MinInt64),
		slog.Int("int", -7),
		slog.Uint64("u64", math.MaxUint64),
		slog.Float64("f64", 12.5),
		slog.Float64("nan", math.NaN()),
		slog.Float64("inf", math.Inf(1)),
		slog.Float64("ninf", math.Inf(-1)),
		slog.Bool("t", true),
		slog.Bool("f", false),
		slog.Duration("dur", 1500*time.Millisecond),
		slog.Time("time", when),
		slog.Group("grp", slog.Int("a", 1), slog.Group("inner", slog.String("b", "c"))),
		slog.Any("lv", user{id: 42}),
		slog.Any("secret", token("hunter2")),
		slog.Any("chain", chain(3)),
	)
	r := s.last()
	want(t, r, "text", "str")
	want(t, r, "", "empty")
	want(t, r, math.MinInt64, "i64")
	want(t, r, -7, "int")
	want(t, r, uint64(math.MaxUint64), "u64")
	want(t, r, 12.5, "f64")
	want(t, r, "NaN", "nan")
	want(t, r, "Infinity", "inf")
	want(t, r, "-Infinity", "ninf")
	want(t, r, true, "t")
	want(t, r, false, "f")
	want(t, r, int64(1500*time.Millisecond), "dur")
	want(t, r, "2026-11-22T01:02:03.000000004+01:00", "time")
	want(t, r, map[string]any{"a": 1, "inner": map[string]any{"b": "c"}}, "grp")
	want(t, r, map[string]any{"id": 42, "kind": "user"}, "lv")
	want(t, r, "redacted", "secret")
	want(t, r, 0, "chain")
}

func TestAnyValuesGoThroughEncodingJSONElseFmt(t *testing.T) {
	s := startFile(t, "")
	big1, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	ch := make(chan int)
	slog.New(NewHandler(nil)).Info("any",
		slog.Any("nil", nil),
		slog.Any("bytes", []byte{0, 1, 2, 250}),
		slog.Any("err", errors.New("disk full")),
		slog.Any("wrapped", fmt.Errorf("open: %w", errors.New("denied"))),
		slog.Any("marshaler_err", marshalErr{errors.New("x")}),
		slog.Any("struct", point{X: 1, Y: -2, Tag: "p"}),
		slog.Any("ptr", &point{X: 3}),
		slog.Any("map", map[string]any{"b": []any{1, "two", 3.5, nil, true}, "a": map[string]int{}}),
		slog.Any("slice", []string{"x", "y"}),
		slog.Any("empty_slice", []int{}),
		slog.Any("nested", [][]int{{1}, {2, 3}}),
		slog.Any("marshaler", celsius(21.5)),
		slog.Any("big", big1),
		slog.Any("float32", float32(0.25)),
		slog.Any("lvl", slog.LevelWarn),
		slog.Any("escapes", map[string]string{"k\"ey\n<&>": "tab\there \u2028 \u00e9 \U0001F600"}),
		slog.Any("chan", ch),
		slog.Any("func", func() {}),
		slog.Any("source", &slog.Source{Function: "f", File: "a.go", Line: 3}),
	)
	r := s.last()
	want(t, r, nil, "nil")
	want(t, r, base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 250}), "bytes")
	want(t, r, "disk full", "err")
	want(t, r, "open: denied", "wrapped")
	want(t, r, map[string]any{"code": 7}, "marshaler_err")
	want(t, r, map[string]any{"X": 1, "Y": -2, "tag": "p"}, "struct")
	want(t, r, map[string]any{"X": 3, "Y": 0}, "ptr")
	want(t, r, map[string]any{"a": map[string]any{}, "b": []any{1, "two", 3.5, nil, true}}, "map")
	want(t, r, []any{"x", "y"}, "slice")
	want(t, r, []any{}, "empty_slice")
	want(t, r, []any{[]any{1}, []any{2, 3}}, "nested")
	want(t, r, map[string]any{"celsius": 21.5}, "marshaler")
	want(t, r, "123456789012345678901234567890", "big")
	want(t, r, 0.25, "float32")
	want(t, r, "WARN", "lvl")
	want(t, r, map[string]any{"k\"ey\n<&>": "tab\there \u2028 \u00e9 \U0001F600"}, "escapes")
	want(t, r, fmt.Sprintf("%+v", ch), "chan")
	if v, _ := get(r, "func"); v == nil || v.(string) == "" {
		t.Errorf("func = %v, want fmt's text", v)
	}
	want(t, r, map[string]any{"function": "f", "file": "a.go", "line": 3}, "source")
}

func TestObjectKeysKeepTheirOrder(t *testing.T) {
	s := startFile(t, "")
	type ordered struct{ Z, A, M int }
	slog.New(NewHandler(nil)).Info("order", "o", ordered{1, 2, 3}, slog.Group("g", "z", 1, "a", 2))
	if err := Flush(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	line := readLines(t, s.path)[0]
	for _, sub := range []string{`"o":{"Z":1,"A":2,"M":3}`, `"g":{"z":1,"a":2}`} {
		if !contains(line, sub) {
			t.Errorf("%s not in %s", sub, line)
		}
	}
}

// Keys and values up to copyMax bytes are copied into the frame's C text
// buffer while it has room, longer ones (and short ones past its end)
// pinned in place; a record with many of each, in groups and at the top,
// more than the buffer holds, comes out whole, on a fresh frame and on a
// reused one.
func TestCopiedAndPinnedStringsAroundTheLimit(t *testing.T) {
	s := startFile(t, "")
	l := slog.New(NewHandler(nil)).With(slog.String(strings.Repeat("w", copyMax+1), strings.Repeat("W", copyMax)))
	var attrs []slog.Attr
	var wantKV [][2]string
	add := func(k, v string) {
		attrs = append(attrs, slog.String(k, v))
		wantKV = append(wantKV, [2]string{k, v})
	}
	for n := copyMax - 3; n <= copyMax+3; n++ {
		for _, m := range []int{0, 1, copyMax - 1, copyMax, copyMax + 1, 3 * copyMax} {
			prefix := fmt.Sprintf("%d_%d_", n, m)
			add(prefix+strings.Repeat("k", n-len(prefix)), strings.Repeat(string(rune('a'+m%26)), m))
		}
	}
	// Enough short strings to fill the C text buffer, so later ones are
	// pinned.
	copied := 0
	for i := 0; copied <= 2*cText; i++ {
		k, v := fmt.Sprintf("short%04d", i), fmt.Sprintf("value %d %s", i, strings.Repeat("v", i%40))
		add(k, v)
		copied += len(k) + len(v)
	}
	bs := []byte(strings.Repeat("b", copyMax+1))
	for round := 0; round < 2; round++ {
		l.LogAttrs(context.Background(), slog.LevelInfo, "limits",
			append([]slog.Attr{
				slog.Group("g", slog.String("short", "s"), slog.String("long", strings.Repeat("L", 2*copyMax))),
				slog.Any("short_bytes", []byte("xy")),
				slog.Any("long_bytes", bs),
			}, attrs...)...)
	}
	recs := s.records()
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	for _, r := range recs {
		want(t, r, strings.Repeat("W", copyMax), strings.Repeat("w", copyMax+1))
		want(t, r, "s", "g", "short")
		want(t, r, strings.Repeat("L", 2*copyMax), "g", "long")
		want(t, r, base64.StdEncoding.EncodeToString([]byte("xy")), "short_bytes")
		want(t, r, base64.StdEncoding.EncodeToString(bs), "long_bytes")
		for _, kv := range wantKV {
			want(t, r, kv[1], kv[0])
		}
	}
}
