#!/usr/bin/env python3
"""Kill loop: SIGKILL a C producer at random points, recover, and check.

    kill_loop.py KILL_LOOP_BIN RINGLOG_BIN WORK_DIR [ITERATIONS]

Each iteration starts `kill_loop produce` on a fresh ring directory, lets
it log for a random time after its first successful return, kills it with
SIGKILL, and reads N, the number of `ringlog_log` calls that returned OK
(the producer stores it after each return). The records are then
recovered: on even iterations by the next start (`kill_loop start`), on
odd ones by `ringlog recover`. Checks:

- every record 0..N-1 is present exactly once across the dead process's
  own output and the recovered output, counting by (ring, seq): a record
  both written by the dead process and recovered (it was killed between a
  write and the release of the ring space) has the same (ring, seq) in
  both and is counted once; such copies are reported;
- no torn record: every recovered line is strict JSON and each record's
  `s` field matches its `i`; the dead process's own file may end in one
  cut line, which is left out;
- records after N appear only whole (at most the call in flight);
- recovered records carry `"recovered": true`, the logger name and the
  bound field, and the dead instance directory is gone afterwards.
"""
import json
import os
import random
import signal
import struct
import subprocess
import sys
import time


def reject_dupes(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate key in {keys}")
    return dict(pairs)


def load(path, allow_cut_tail):
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        return []
    if allow_cut_tail and data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
    out = []
    for n, line in enumerate(data.decode("utf-8").splitlines(), 1):
        try:
            out.append(json.loads(line, object_pairs_hook=reject_dupes))
        except ValueError as e:
            sys.exit(f"FAIL: {path}:{n}: not a whole JSON record ({e}): {line[:200]!r}")
    return out


def expected_s(k):
    return chr(ord("a") + k % 26) * (k % 61) + f"|{k}"


def one(it, kill_bin, ringlog_bin, work, rng):
    d = os.path.join(work, f"it{it}")
    os.makedirs(d)
    rings, out1, out2, side = (os.path.join(d, n) for n in ("rings", "dead.log", "next.log", "side"))
    p = subprocess.Popen([kill_bin, "produce", rings, out1, side])
    deadline = time.monotonic() + 20
    while True:
        try:
            if os.path.getsize(side) >= 8:
                break
        except FileNotFoundError:
            pass
        if p.poll() is not None:
            sys.exit(f"FAIL: producer exited early with {p.returncode}")
        if time.monotonic() > deadline:
            p.kill()
            sys.exit("FAIL: producer never logged")
        time.sleep(0.001)
    time.sleep(rng.uniform(0, 0.06))
    p.send_signal(signal.SIGKILL)
    p.wait()
    if p.returncode != -signal.SIGKILL:
        sys.exit(f"FAIL: producer ended with {p.returncode}, not SIGKILL")
    (n,) = struct.unpack("=Q", open(side, "rb").read(8))

    how = "start" if it % 2 == 0 else "recover"
    if how == "start":
        r = subprocess.run([kill_bin, "start", rings, out2], capture_output=True, text=True, timeout=60)
    else:
        r = subprocess.run([ringlog_bin, "recover", "--dir", rings, "--out", out2, "--quiet"],
                           capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        sys.exit(f"FAIL: {how}: exit {r.returncode}: {r.stderr}")
    if os.path.isdir(rings) and os.listdir(rings):
        sys.exit(f"FAIL: {how} left {os.listdir(rings)} in the ring directory")

    dead = [v for v in load(out1, True) if v.get("msg") == "rec"]
    rec_lines = load(out2, False)
    rec = [v for v in rec_lines if v.get("msg") == "rec"]
    written = {(v["ring"], v["seq"]) for v in dead}
    seen = {}
    twice = 0
    for v in rec:
        if v.get("recovered") is not True or v.get("logger") != "kill" or v.get("run") != "loop":
            sys.exit(f"FAIL: recovered record not marked or missing its logger/bound field: {v}")
    for from_rec, v in [(False, v) for v in dead] + [(True, v) for v in rec]:
        k = v["i"]
        if v["s"] != expected_s(k):
            sys.exit(f"FAIL: record {k} has s={v['s']!r}: torn or mixed up")
        if from_rec and (v["ring"], v["seq"]) in written:
            twice += 1
            continue
        seen[k] = seen.get(k, 0) + 1
    missing = [k for k in range(n) if seen.get(k, 0) == 0]
    doubled = [k for k, c in seen.items() if c > 1]
    extra = [k for k in seen if k >= n]
    if missing:
        sys.exit(f"FAIL: iteration {it} ({how}): {len(missing)} of {n} records missing, e.g. {missing[:10]}")
    if doubled:
        sys.exit(f"FAIL: iteration {it} ({how}): records present twice: {doubled[:10]}")
    if len(extra) > 1:
        sys.exit(f"FAIL: iteration {it}: {len(extra)} records after N={n}: {extra[:10]}")
    return n, len(rec), twice, len(extra)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    kill_bin, ringlog_bin, work = sys.argv[1:4]
    iters = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    seed = int(os.environ.get("KILL_LOOP_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    tot_n = tot_rec = tot_twice = tot_extra = 0
    t0 = time.monotonic()
    for it in range(iters):
        n, rec, twice, extra = one(it, kill_bin, ringlog_bin, work, rng)
        tot_n, tot_rec, tot_twice, tot_extra = tot_n + n, tot_rec + rec, tot_twice + twice, tot_extra + extra
    print(f"kill loop: {iters} kills (seed {seed}), {tot_n} acknowledged records all present once; "
          f"{tot_rec} came back through recovery, {tot_twice} were written and recovered "
          f"(killed mid-flush, same ring and seq), {tot_extra} whole records after N; "
          f"{time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    main()
