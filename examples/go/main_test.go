package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary act as the service: the test below runs
// it again with RINGLOG_EXAMPLE_MAIN=1, so the self-test runs in a process
// of its own, exactly as `go run . -self-test` would.
func TestMain(m *testing.M) {
	if os.Getenv("RINGLOG_EXAMPLE_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

func TestTheSelfTestServesLogsEveryRequestAndExitsZero(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.log")
	cfg, _ := json.Marshal(map[string]any{
		"ring_dir": filepath.Join(dir, "rings"),
		"level":    "debug",
		"sinks":    map[string]any{"out": map[string]any{"type": "file", "path": out}},
	})
	cmd := exec.Command(os.Args[0], "-self-test")
	cmd.Env = append(os.Environ(), "RINGLOG_EXAMPLE_MAIN=1", "RINGLOG_CONFIG="+string(cfg),
		"RINGLOG_LEVEL=", "RINGLOG_OUTPUT=", "RINGLOG_FORMAT=")
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("self-test: %v\n%s", err, stdout)
	}
	if !strings.Contains(string(stdout), "self-test: 6 requests, 6 as expected") {
		t.Errorf("stdout: %s", stdout)
	}

	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %v: %s", err, sc.Text())
		}
		recs = append(recs, m)
	}

	handled := map[string]map[string]any{}
	byRequest := map[string][]map[string]any{}
	for _, r := range recs {
		id, _ := r["request_id"].(string)
		byRequest[id] = append(byRequest[id], r)
		if r["msg"] == "request handled" {
			handled[id] = r
		}
	}
	wantStatus := map[string]float64{"self-test-1": 200, "self-test-2": 200, "self-test-3": 200,
		"self-test-4": 404, "self-test-5": 500, "self-test-6": 200}
	wantLevel := map[float64]string{200: "info", 404: "warn", 500: "error"}
	for id, status := range wantStatus {
		r := handled[id]
		if r == nil {
			t.Errorf("%s: no request handled record", id)
			continue
		}
		if r["status"] != status || r["level"] != wantLevel[status] || r["logger"] != "http" {
			t.Errorf("%s: %v", id, r)
		}
		if _, ok := r["latency_ms"].(float64); !ok {
			t.Errorf("%s: latency_ms %v", id, r["latency_ms"])
		}
	}

	// The traced request: all of its records carry the incoming context,
	// the inventory's (logged through slog.Default) included.
	traced := 0
	for _, r := range recs {
		if r["trace_id"] == nil {
			continue
		}
		traced++
		if r["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" || r["span_id"] != "00f067aa0ba902b7" || r["trace_flags"] != "01" {
			t.Errorf("trace context %v", r)
		}
		if r["logger"] == "http" && r["request_id"] != "self-test-2" {
			t.Errorf("a record of another request is traced: %v", r)
		}
	}
	if traced < 3 {
		t.Errorf("%d traced records, want the inventory lookup, item found and request handled", traced)
	}

	// The error path.
	var failed map[string]any
	for _, r := range byRequest["self-test-5"] {
		if r["msg"] == "request failed" {
			failed = r
		}
	}
	if failed == nil || failed["level"] != "error" ||
		failed["err"] != "charging order 42: payment gateway timed out" ||
		failed["order"].(map[string]any)["id"] != float64(42) {
		t.Errorf("error record: %v", failed)
	}

	// The malformed traceparent is reported, and the request still served.
	found := false
	for _, r := range byRequest["self-test-6"] {
		found = found || r["msg"] == "ignoring malformed traceparent"
	}
	if !found {
		t.Error("no record for the malformed traceparent")
	}
	if last := recs[len(recs)-1]; last["msg"] != "service stopped" {
		t.Errorf("last record %v, want service stopped (everything written by Shutdown)", last)
	}
}
