package ringlog

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// sitesOf returns how many call sites h's current C logger registered,
// and whether it stopped looking for new shapes.
func sitesOf(t *testing.T, h *Handler) (int, bool) {
	t.Helper()
	st := h.bind.cur.Load()
	if st == nil {
		t.Fatal("the handler has not bound its logger")
	}
	n := 0
	if l := st.h.sites.list.Load(); l != nil {
		n = len(*l)
	}
	return n, st.h.sites.done.Load()
}

// sitesAndRecords fails the test unless h's logger registered nSites
// sites and nRecs records were written; it returns the records.
func sitesAndRecords(t *testing.T, s *started, h *Handler, nSites, nRecs int) []map[string]any {
	t.Helper()
	if n, _ := sitesOf(t, h); n != nSites {
		t.Fatalf("sites = %d, want %d", n, nSites)
	}
	rs := s.records()
	if len(rs) != nRecs {
		t.Fatalf("%d records, want %d", len(rs), nRecs)
	}
	return rs
}

// withoutStamp is a record without what differs between two records of
// the same content.
func withoutStamp(m map[string]any) string {
	c := map[string]any{}
	for k, v := range m {
		if k != "seq" && k != "ts" {
			c[k] = v
		}
	}
	return jsonText(c)
}

func TestASiteRecordReadsLikeTheKeyedRecordOfTheSameAttrs(t *testing.T) {
	s := startFile(t, "")
	h := NewHandler(nil)
	l := slog.New(h).With("service", "api")
	ctx, err := ContextWithTraceparent(context.Background(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 12, 6, 1, 2, 3, 456789, time.UTC)
	logOne := func() {
		r := slog.NewRecord(when, slog.LevelWarn+1, "line\nbreak \u2028 \"quoted\"", 0)
		r.AddAttrs(
			slog.String("user", "al\xffice\n\x1b[31m"),
			slog.String("empty", ""),
			slog.Int64("i64", math.MinInt64),
			slog.Uint64("u64", math.MaxUint64),
			slog.Float64("nan", math.NaN()),
			slog.Float64("inf", math.Inf(-1)),
			slog.Bool("ok", true),
			slog.Duration("took", 1500*time.Millisecond),
		)
		if err := l.Handler().Handle(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// A logger with bound attrs (as here) registers a shape's site on its
	// childSightings-th record; the records before are keyed, the rest go
	// through the site.
	child := l.Handler().(*Handler)
	total := childSightings + 2
	for i := 0; i < total; i++ {
		logOne()
		if n, _ := sitesOf(t, child); (n == 1) != (i+1 >= childSightings) {
			t.Fatalf("after %d records: %d sites", i+1, n)
		}
	}
	rs := s.records()
	if len(rs) != total {
		t.Fatalf("%d records, want %d", len(rs), total)
	}
	for i := 1; i < total; i++ {
		if a, b := withoutStamp(rs[0]), withoutStamp(rs[i]); a != b {
			t.Errorf("record %d differs:\n keyed %s\n  site %s", i, a, b)
		}
	}
	r := rs[total-1]
	want(t, r, "2026-12-06T01:02:03.000456789Z", "ts")
	want(t, r, "warn2", "level")
	want(t, r, "api", "service")
	want(t, r, "al\ufffdice\n\x1b[31m", "user")
	want(t, r, 1500000000, "took")
	want(t, r, "4bf92f3577b34da6a3ce929d0e0e4736", "trace_id")
	want(t, r, "00f067aa0ba902b7", "span_id")
}

func TestARootLoggerRegistersAShapesSiteOnItsSecondRecord(t *testing.T) {
	s := startFile(t, "")
	h := NewHandler(nil)
	l := slog.New(h)
	l.Info("request handled", "user", "alice", "status", 200)
	if n, _ := sitesOf(t, h); n != 0 {
		t.Fatalf("%d sites after one record", n)
	}
	for i := 0; i < 3; i++ {
		l.Info("request handled", "user", "alice", "status", 200+i)
		if n, _ := sitesOf(t, h); n != 1 {
			t.Fatalf("%d sites after %d records", n, i+2)
		}
	}
	rs := s.records()
	if len(rs) != 4 {
		t.Fatalf("%d records, want 4", len(rs))
	}
	want(t, rs[3], 202, "status")
	want(t, rs[3], "alice", "user")
}

func TestARecordWithNoAttrsGoesThroughItsSite(t *testing.T) {
	s := startFile(t, "")
	h := NewHandler(nil)
	l := slog.New(h)
	for i := 0; i < 3; i++ {
		l.Info("no attrs")
	}
	rs := sitesAndRecords(t, s, h, 1, 3)
	for _, r := range rs {
		if ks := userKeys(r); len(ks) != 0 || r["msg"] != "no attrs" {
			t.Errorf("record %s", jsonText(r))
		}
	}
}

// A long message makes the keyed record too large for a small ring: it is
// cut and marked, with an error. The site path must not write it whole.
func TestALongMessageStaysKeyedAndIsCutAsBefore(t *testing.T) {
	s := startFile(t, `"ring_capacity": 65536`)
	h := NewHandler(nil)
	msg := strings.Repeat("m", 40000)
	for i := 0; i < 3; i++ {
		r := record(msg, slog.Int("n", i))
		if err := h.Handle(context.Background(), r); err == nil {
			t.Fatalf("record %d: no error for a record too large", i)
		}
	}
	rs := sitesAndRecords(t, s, h, 0, 3)
	for i, r := range rs {
		want(t, r, true, "ringlog.truncated")
		want(t, r, i, "n")
		if m := r["msg"].(string); len(m) != cutLimit {
			t.Errorf("record %d: message of %d bytes, want %d", i, len(m), cutLimit)
		}
	}
}

func TestRecordsASiteCannotHoldTakeTheKeyedPath(t *testing.T) {
	s := startFile(t, "")
	h := NewHandler(nil)
	l := slog.New(h)
	long := strings.Repeat("x", siteTextMax+1)
	many := make([]any, 0, 2*(siteMax+1))
	for i := 0; i <= siteMax; i++ {
		many = append(many, fmt.Sprintf("k%d", i), i)
	}
	for i := 0; i < 3; i++ {
		l.Info("group", slog.Group("g", slog.Int("a", 1)))
		l.Info("time", slog.Time("at", time.Unix(0, 0).UTC()))
		l.Info("any", slog.Any("list", []int{1, 2}))
		l.Info("valuer", slog.Any("tok", token("secret")))
		l.Info("empty key", slog.String("", "v"))
		l.Info("long", slog.String("s", long))
		l.Info("many", many...)
	}
	rs := sitesAndRecords(t, s, h, 0, 21)
	byMsg := map[string]map[string]any{}
	for _, r := range rs {
		byMsg[r["msg"].(string)] = r
	}
	want(t, byMsg["group"], 1, "g", "a")
	want(t, byMsg["time"], "1970-01-01T00:00:00Z", "at")
	want(t, byMsg["any"], []int{1, 2}, "list")
	want(t, byMsg["valuer"], "redacted", "tok")
	want(t, byMsg["empty key"], "v", "")
	want(t, byMsg["long"], long, "s")
	want(t, byMsg["many"], siteMax, fmt.Sprintf("k%d", siteMax))
}

func TestALoggerStopsLookingForShapesAfterTooManyDifferentOnes(t *testing.T) {
	s := startFile(t, "")
	h := NewHandler(nil)
	l := slog.New(h)
	for i := 0; i <= maxShapes; i++ {
		l.Info(fmt.Sprintf("message %d", i), "i", i)
	}
	// Even a shape seen again now takes the keyed path.
	l.Info("message 0", "i", 0)
	l.Info("message 0", "i", 0)
	if n, done := sitesOf(t, h); n != 0 || !done {
		t.Fatalf("sites = %d, done = %v; want 0, true", n, done)
	}
	if rs := s.records(); len(rs) != maxShapes+3 {
		t.Fatalf("%d records, want %d", len(rs), maxShapes+3)
	}
}

func TestALoggerRegistersAtMostMaxSites(t *testing.T) {
	s := startFile(t, "")
	h := NewHandler(nil)
	l := slog.New(h)
	for round := 0; round < 3; round++ {
		for i := 0; i < maxSites+5; i++ {
			l.Info("shape", fmt.Sprintf("k%d", i), i)
		}
	}
	if n, done := sitesOf(t, h); n != maxSites || !done {
		t.Fatalf("sites = %d, done = %v; want %d, true", n, done, maxSites)
	}
	rs := s.records()
	if len(rs) != 3*(maxSites+5) {
		t.Fatalf("%d records, want %d", len(rs), 3*(maxSites+5))
	}
	for i, r := range rs {
		k := i % (maxSites + 5)
		want(t, r, k, fmt.Sprintf("k%d", k))
	}
}

func TestSitesFollowLevelsAndANewRuntime(t *testing.T) {
	s := startFile(t, "")
	h := NewHandler(nil)
	l := slog.New(h)
	for i := 0; i < 3; i++ {
		l.Info("shaped", "n", i)
	}
	if err := Reconfigure(`{"level": "warn"}`); err != nil {
		t.Fatal(err)
	}
	// Handle is called directly: slog.Logger would ask Enabled first.
	r := record("shaped", slog.Int("n", 9))
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if got := len(s.records()); got != 3 {
		t.Fatalf("%d records after the level went up, want 3", got)
	}
	// A new runtime: the handler binds a new C logger, with sites of its
	// own; the old ones are freed with the old logger.
	if err := Shutdown(); err != nil {
		t.Fatal(err)
	}
	s2 := startFile(t, "")
	for i := 0; i < 3; i++ {
		l.Info("shaped", "n", 10+i)
	}
	rs := sitesAndRecords(t, s2, h, 1, 3)
	want(t, rs[2], 12, "n")
}

func TestManyGoroutinesShareOneSite(t *testing.T) {
	s := startFile(t, "")
	h := NewHandler(nil)
	l := slog.New(h)
	const G, N = 16, 200
	var wg sync.WaitGroup
	for g := 0; g < G; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < N; i++ {
				l.LogAttrs(context.Background(), slog.LevelInfo, "request handled",
					slog.Int("g", g), slog.Int("i", i), slog.String("user", "alice"))
			}
		}(g)
	}
	wg.Wait()
	rs := sitesAndRecords(t, s, h, 1, G*N)
	seen := map[string]bool{}
	for _, r := range rs {
		seen[fmt.Sprint(r["g"], "/", r["i"])] = true
		want(t, r, "alice", "user")
	}
	if len(seen) != G*N {
		t.Fatalf("%d distinct records, want %d", len(seen), G*N)
	}
}

// shape.same agrees with == (which the table of sightings keys on) for
// shapes that differ in each part, including keys past a shorter count.
func TestShapeSameIsEquality(t *testing.T) {
	base := func() shape {
		var s shape
		s.msg, s.sev, s.n = "request handled", 9, 3
		s.kinds = [siteMax]uint8{1, 2, 4}
		s.keys = [siteMax]string{"user", "status", "latency_ms"}
		return s
	}
	variants := []func(*shape){
		func(*shape) {},
		func(s *shape) { s.msg = "request failed" },
		func(s *shape) { s.msg = strings.Clone(s.msg) }, // same text, other pointer
		func(s *shape) { s.sev = 13 },
		func(s *shape) { s.kinds[2] = 3 },
		func(s *shape) { s.keys[1] = "code" },
		func(s *shape) { s.keys[2] = strings.Clone(s.keys[2]) },
		func(s *shape) { s.n, s.kinds[2], s.keys[2] = 2, 0, "" },
		func(s *shape) { s.n, s.kinds[3], s.keys[3] = 4, 1, "id" },
		func(s *shape) { s.n, s.kinds, s.keys = 0, [siteMax]uint8{}, [siteMax]string{} },
	}
	for i, vi := range variants {
		for j, vj := range variants {
			a, b := base(), base()
			vi(&a)
			vj(&b)
			if got, want := a.same(&b), a == b; got != want {
				t.Errorf("variants %d and %d: same = %v, == is %v", i, j, got, want)
			}
		}
	}
}

// Records with the same message, level and attr count but other keys or
// kinds each get the site of their own shape, and one that matches a
// site's keys but not its kinds, or is too long for a site, stays keyed.
func TestRecordsSharingAMessageGetTheSiteOfTheirOwnShape(t *testing.T) {
	s := startFile(t, "")
	h := NewHandler(nil)
	l := slog.New(h)
	long := strings.Repeat("y", siteTextMax)
	const rounds = 4
	for i := 0; i < rounds; i++ {
		l.Info("m", "user", "alice", "status", 200+i)
		l.Info("m", "user", "bob", "code", 7)
		l.Info("m", "user", "carol", "status", "ok")
		l.Info("m", "user", "dave", "status", []int{i})
		l.Info("m", "user", long, "status", 1)
	}
	rs := sitesAndRecords(t, s, h, 3, 5*rounds)
	for i := 0; i < rounds; i++ {
		r := rs[5*i : 5*i+5]
		want(t, r[0], "alice", "user")
		want(t, r[0], 200+i, "status")
		want(t, r[1], "bob", "user")
		want(t, r[1], 7, "code")
		want(t, r[2], "carol", "user")
		want(t, r[2], "ok", "status")
		want(t, r[3], "dave", "user")
		want(t, r[3], []int{i}, "status")
		want(t, r[4], long, "user")
		want(t, r[4], 1, "status")
		for j, rec := range r {
			if ks := userKeys(rec); len(ks) != 2 {
				t.Errorf("round %d, record %d: keys %v", i, j, ks)
			}
		}
	}
}
