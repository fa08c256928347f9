package ringlog

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// childEnv names the directory a child test process logs into; set only
// in the child.
const childEnv = "RINGLOG_GO_TEST_EXIT_DIR"

func TestRecordsLeftByOsExitAreRecoveredAtTheNextStart(t *testing.T) {
	if dir := os.Getenv(childEnv); dir != "" {
		exitWithoutShutdown(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecordsLeftByOsExitAreRecoveredAtTheNextStart$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Fatalf("child exited with %d (%v), want 3:\n%s", code, err, out)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "rings"))
	if len(entries) == 0 {
		t.Fatal("the child left no instance directory behind")
	}

	// The next start with the same ring directory writes them out.
	s := &started{tb: t, dir: dir, path: filepath.Join(dir, "out.log")}
	if err := Init(s.config("", "")); err != nil {
		t.Fatal(err)
	}
	defer Shutdown()
	// Every record exactly once, except in the documented window: a
	// process that dies between writing a batch and releasing its ring
	// space leaves records that are both written and recovered. The two
	// copies share ring and seq, and the recovered one is counted once.
	records := s.records()
	key := func(r map[string]any) string { return fmt.Sprint(r["ring"], "/", r["seq"]) }
	written := map[string]bool{}
	for _, r := range records {
		if r["logger"] == "exiting" && r["recovered"] != true {
			written[key(r)] = true
		}
	}
	seen := map[int64]int{}
	recovered, twice := 0, 0
	for _, r := range records {
		if r["logger"] != "exiting" {
			continue
		}
		if r["recovered"] == true {
			recovered++
			want(t, r, 7, "run")
			want(t, r, "v", "g", "k")
			if written[key(r)] {
				twice++
				continue
			}
		}
		iv, _ := get(r, "g", "i")
		i, _ := iv.(json.Number).Int64()
		seen[i]++
	}
	for i := range int64(300) {
		if seen[i] != 1 {
			t.Errorf("record %d written %d times", i, seen[i])
		}
	}
	if recovered == 0 {
		t.Error("no record came out marked recovered")
	}
	st, err := Stats()
	if err != nil || st.Recovered != uint64(recovered) || st.RecoveredInstances != 1 {
		t.Errorf("stats: recovered %d of %d, instances %d (%v)", st.Recovered, recovered, st.RecoveredInstances, err)
	}
	t.Logf("%d of 300 records recovered, %d of them also written before the exit", recovered, twice)
}

// exitWithoutShutdown is the child: it logs 300 records with a flusher
// that waits a minute between rounds, then leaves through os.Exit, which
// skips ringlog's atexit handler.
func exitWithoutShutdown(dir string) {
	s := &started{dir: dir, path: filepath.Join(dir, "out.log")}
	if err := Init(s.config(`"flush_interval_ms": 60000, "idle_interval_ms": 60000`, "")); err != nil {
		os.Stderr.WriteString(err.Error())
		os.Exit(1)
	}
	l := slog.New(NewHandler(&HandlerOptions{Name: "exiting"})).With("run", 7).WithGroup("g").With("k", "v")
	// One record flushed first, so the flusher sleeps its minute, not idle
	// (after 100 ms of empty cycles it would be, and the next record would
	// wake it); the pause lets any wake-up the flush leaves behind pass.
	slog.New(NewHandler(&HandlerOptions{Name: "warm-up"})).Info("warm-up")
	if err := Flush(10 * time.Second); err != nil {
		os.Stderr.WriteString(err.Error())
		os.Exit(1)
	}
	time.Sleep(200 * time.Millisecond)
	for i := range 300 {
		l.Info("before exit", "i", i)
	}
	os.Exit(3)
}
