#!/usr/bin/env python3
"""Drives fatal_signal.c: the opt-in fatal-signal handler.

    fatal_signal.py BINARY TMPDIR [CASE...]

For each case (default: all) BINARY runs in a fresh directory under TMPDIR
with a ring directory and a file sink, logs records 0..999 and dies. The
driver checks:

* the process ended by the expected signal (returncode == -signal), within
  a timeout (20 s), so nothing hung;
* then it runs BINARY in mode "recover" (a normal start with the same ring
  directory and file sink, which recovers the dead instance) and checks
  that the union of what the dead process wrote and what the recovery
  wrote holds every index 0..999 exactly once (a cut last line of the dead
  process's part is ignored), and exactly one "fatal signal" record from
  logger "ringlog" with the right fields;
* where the drain can work (the flusher is free), that the dead process's
  own output already holds everything: the handler's drain wrote it;
* "stuck": the flusher is blocked on a pipe nobody reads, so the drain must
  give up (bounded) and the last record and the rest come from recovery;
* "chain": the program's own handler, installed before ringlog's, ran
  (its marker file exists) and the process still died by SIGSEGV;
* "hang": the program's own handler never returns; the watchdog ends the
  process by SIGSEGV within its budget;
* "threads": two threads faulting at once do not hang.

Core dumps are turned off for the children (RLIMIT_CORE = 0); the exit
signal is the same either way. Exits 1 with a message on any mismatch.
"""

import json
import os
import resource
import signal
import subprocess
import sys
import time

RECORDS = 1000
TIMEOUT = 20

# case: (mode, signal, fault_addr expected, drain expected in the dead output)
CASES = {
    "raise": ("raise", signal.SIGSEGV, None, True),
    "abort": ("abort", signal.SIGABRT, None, True),
    "null": ("null", signal.SIGSEGV, 0, True),
    "chain": ("chain", signal.SIGSEGV, 0, True),
    "threads": ("threads", signal.SIGSEGV, 0, True),
    "overflow": ("overflow", signal.SIGSEGV, "any", True),
    "hang": ("hang", signal.SIGSEGV, 0, True),
    "stuck": ("stuck", signal.SIGSEGV, 0, False),
}


class Fail(Exception):
    pass


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def parse(text, where, allow_cut_last):
    """JSON records of `text`; a cut last line is skipped if allowed."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    for n, line in enumerate(lines):
        if line == "":
            # The recovering file sink starts a fresh line after a cut one.
            continue
        try:
            out.append(json.loads(line))
        except ValueError as e:
            last = n == len(lines) - 1 and not text.endswith("\n")
            if allow_cut_last and last:
                print(f"    ({where}: ignoring a cut last line of {len(line)} bytes)")
                continue
            raise Fail(f"{where}: line {n + 1} is not JSON ({e}): {line[:200]!r}")
    return out


def run_case(binary, tmp, name):
    mode, sig, want_addr, want_drain = CASES[name]
    d = os.path.join(tmp, name)
    os.mkdir(d)
    rings = os.path.join(d, "rings")
    out = os.path.join(d, "out.log")
    marker = os.path.join(d, "marker")
    args = [binary, mode, rings, out, marker]

    t0 = time.monotonic()
    stdout = subprocess.PIPE if mode == "stuck" else subprocess.DEVNULL
    # "stuck": the pipe is not read until the process has died.
    p = subprocess.Popen(args, stdout=stdout, stderr=subprocess.PIPE, preexec_fn=no_core)
    try:
        rc = p.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise Fail(f"{name}: still running after {TIMEOUT} s (the handler hung)")
    elapsed = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    if p.stdout:
        p.stdout.close()
    p.stderr.close()
    if rc != -sig:
        raise Fail(f"{name}: returncode {rc}, expected {-sig} ({sig.name}); stderr: {err.strip()}")
    print(f"    died by {sig.name} after {elapsed:.2f} s")
    if mode == "hang" and not 1.5 <= elapsed <= 10:
        raise Fail(f"{name}: the watchdog should end the process after about 3 s, took {elapsed:.2f} s")
    if mode == "stuck" and elapsed < 1.0:
        raise Fail(f"{name}: died after {elapsed:.2f} s; the drain should have waited its 1 s")

    if mode == "chain":
        try:
            with open(marker) as f:
                m = f.read()
        except FileNotFoundError:
            raise Fail(f"{name}: the previously installed handler did not run (no marker)")
        if m != "chained\n":
            raise Fail(f"{name}: marker holds {m!r}")
        print("    the previously installed handler ran")

    dead_size = os.path.getsize(out) if os.path.exists(out) else 0
    r = subprocess.run(
        [binary, "recover", rings, out],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=TIMEOUT,
        preexec_fn=no_core,
    )
    if r.returncode != 0:
        raise Fail(f"{name}: recovery run exited {r.returncode}: {r.stderr.decode(errors='replace')}")
    with open(out, "rb") as f:
        data = f.read()
    dead = parse(data[:dead_size].decode(errors="replace"), f"{name} dead output", True)
    rec = parse(data[dead_size:].decode(errors="replace"), f"{name} recovery output", False)

    def indices(recs):
        return [x["i"] for x in recs if x.get("logger") == "test" and x.get("msg") == "record"]

    def fatal(recs):
        return [x for x in recs if x.get("logger") == "ringlog" and x.get("msg") == "fatal signal"]

    di, ri = indices(dead), indices(rec)
    for x in rec:
        if x.get("logger") == "test" and x.get("recovered") is not True:
            raise Fail(f"{name}: a record of the recovery run is not marked recovered: {x}")
    union = sorted(di + ri)
    if union != list(range(RECORDS)):
        missing = sorted(set(range(RECORDS)) - set(union))
        dups = sorted({i for i in union if union.count(i) > 1})
        raise Fail(
            f"{name}: indices are not 0..{RECORDS - 1} exactly once: "
            f"{len(union)} in all, missing {missing[:10]}, duplicated {dups[:10]}"
        )
    fd, fr = fatal(dead), fatal(rec)
    if len(fd) + len(fr) != 1:
        raise Fail(f"{name}: expected one fatal signal record, found {len(fd)} + {len(fr)}")
    f = (fd + fr)[0]
    if f.get("level") != "fatal" or f.get("signal") != sig or f.get("signal_name") != sig.name:
        raise Fail(f"{name}: bad fatal record {f}")
    if not isinstance(f.get("thread_id"), int) or f["thread_id"] <= 0:
        raise Fail(f"{name}: fatal record without a thread_id: {f}")
    if not isinstance(f.get("code"), int) or not isinstance(f.get("pid"), int):
        raise Fail(f"{name}: fatal record without code or pid: {f}")
    if want_addr is None and "fault_addr" in f:
        raise Fail(f"{name}: a sent signal has no fault address: {f}")
    if want_addr == 0 and f.get("fault_addr") != 0:
        raise Fail(f"{name}: expected fault_addr 0 (NULL store): {f}")
    if want_addr == "any" and not isinstance(f.get("fault_addr"), int):
        raise Fail(f"{name}: expected a fault_addr: {f}")
    where = "the dead process (drained by the handler)" if fd else "the recovery run"
    print(
        f"    {len(di)} records written by the dead process, {len(ri)} recovered; "
        f"the fatal signal record came from {where}"
    )
    if want_drain and (len(di) != RECORDS or not fd):
        raise Fail(f"{name}: the handler's drain should have written everything before the process died")
    if not want_drain and (fd or not ri):
        raise Fail(f"{name}: the flusher was blocked, so the last record and the rest must come from recovery")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, tmp = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or list(CASES)
    failed = 0
    for name in names:
        print(f"== fatal signal: {name}")
        try:
            run_case(binary, tmp, name)
        except (Fail, subprocess.TimeoutExpired) as e:
            print(f"FAIL: {e}")
            failed += 1
    print(f"{len(names) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
