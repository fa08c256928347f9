package ringlog

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"testing"
)

func TestThousandsOfGoroutinesLogAtOnceAndEveryRecordIsWrittenOnce(t *testing.T) {
	const goroutines, each = 2000, 25
	s := startFile(t, `"full_policy": "block", "block_timeout_ms": 10000`)
	base := slog.New(NewHandler(&HandlerOptions{Name: "conc"}))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every goroutine also makes its own handlers, concurrently.
			l := base.With("g", g)
			if g%2 == 0 {
				l = l.WithGroup("req").With("id", strconv.Itoa(g))
			}
			<-start
			for i := range each {
				l.Info("tick", "i", i, "s", "goroutine "+strconv.Itoa(g))
			}
		}()
	}
	close(start)
	wg.Wait()
	seen := make(map[[2]int]int)
	for _, r := range s.records() {
		g, _ := r["g"].(json.Number).Int64()
		iv, ok := get(r, "i")
		if !ok {
			iv, _ = get(r, "req", "i")
		}
		i, _ := iv.(json.Number).Int64()
		seen[[2]int{int(g), int(i)}]++
	}
	for g := range goroutines {
		for i := range each {
			if n := seen[[2]int{g, i}]; n != 1 {
				t.Fatalf("goroutine %d record %d written %d times", g, i, n)
			}
		}
	}
	st, err := Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Logged != goroutines*each || st.DroppedFull != 0 {
		t.Errorf("stats: logged %d, dropped %d", st.Logged, st.DroppedFull)
	}
	t.Logf("%d records from %d goroutines through %d rings (OS threads)", st.Logged, goroutines, st.RingsActive)
}

func TestHandlersAreSafeToShareWhileLevelsAndRuntimeChange(t *testing.T) {
	startFile(t, "")
	var lv slog.LevelVar
	l := slog.New(NewHandler(&HandlerOptions{Level: &lv}))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					l.With("a", 1).WithGroup("g").Info("x", "b", 2)
				}
			}
		}()
	}
	for i := range 50 {
		lv.Set(slog.Level(i%3*4 - 4))
		if err := Reconfigure(`{"level": "debug"}`); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}
