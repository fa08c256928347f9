#!/usr/bin/env python3
"""Checks the output of abi_stress against its stats file.

    check_output.py OUT_FILE STATS_FILE

Every line must be exactly one JSON object (duplicate keys, NaN and
Infinity are errors). Every record must be one abi_stress wrote, with
the field types and values it gives them (see the comment at the top of
abi_stress.c). Per thread index, the counter field `i` must run 0..N-1 in
output order; per ring, `seq` must run 0..M-1 in output order. The stats
(logged, written, bytes_written, dropped_full == 0, ...) must agree with
the file. Any mismatch prints a message and exits with status 1.
"""

import array
import base64
import json
import multiprocessing
import os
import re
import sys

from check_jsonl import DECODER  # strict JSON: no duplicate keys, no NaN

MAX_REPORTED = 20

RECORD_KEYS = [
    "ts", "level", "logger", "msg",
    "t", "i", "s", "neg", "f", "ok", "raw", "none", "g",
    "thread", "ring", "seq",
]
GROUP_KEYS = ["t", "i2", "name", "in"]
TS_RE = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z\Z")


class CheckFailed(Exception):
    pass


def is_int(v):
    return type(v) is int  # bool is a subclass of int; it must not pass


def expected_raw(t, i):
    b = bytes([t & 0xFF, i & 0xFF, (i >> 8) & 0xFF, (i >> 16) & 0xFF, 0x00, 0xFF, 0x0A, 0x22])
    return base64.b64encode(b).decode("ascii")


RECORD_TYPES = (str, str, str, str, int, int, str, int, float, bool, str, type(None), dict,
                int, int, int)
GROUP_TYPES = (int, int, str, dict)
HEAD = ("info", "stress", "stress record")


def check_record(rec, threads):
    """Checks one record's own content. Returns (error or None, (t, i, thread, ring, seq))."""
    if type(rec) is not dict:
        return f"top-level value is {type(rec).__name__}, not an object", None
    if list(rec) != RECORD_KEYS:
        if rec.get("logger") == "ringlog":
            return f"ringlog reported a problem: {rec!r}", None
        return f"keys {list(rec)} != expected {RECORD_KEYS}", None
    vals = tuple(rec.values())
    if tuple(map(type, vals)) != RECORD_TYPES:
        got = {k: type(v).__name__ for k, v in rec.items()}
        return f"field types {got} != expected {[x.__name__ for x in RECORD_TYPES]}", None
    ts, level, logger, msg, t, i, s, neg, f, ok, raw, _none, g, tid, ring, seq = vals
    if not TS_RE.match(ts):
        return f"bad ts {ts!r}", None
    if (level, logger, msg) != HEAD:
        return f"level/logger/msg {(level, logger, msg)!r} != {HEAD!r}", None
    if not 0 <= t < threads or i < 0:
        return f"thread index t={t} not in 0..{threads - 1} or counter i={i} negative", None
    want = (f't{t}-r{i} "q"\n\u00e9', -(i * 7 + t) - 1, i + 0.25, i % 2 == 0, expected_raw(t, i))
    if (s, neg, f, ok, raw) != want:
        return f"(s, neg, f, ok, raw) = {(s, neg, f, ok, raw)!r}, expected {want!r}", None
    inner = g["in"] if "in" in g else None
    if (list(g) != GROUP_KEYS or tuple(map(type, g.values())) != GROUP_TYPES
            or (g["t"], g["i2"], g["name"]) != (t, 2 * i, "grp")
            or list(inner) != ["odd"] or type(inner["odd"]) is not bool
            or inner["odd"] != (i % 2 == 1)):
        return f"g={g!r} is not the expected group for t={t} i={i}", None
    return None, (t, i, tid, ring, seq)


def check_chunk(job):
    """Parses and checks the lines in bytes [start, end) of the file.

    Returns (line count, [(line index in chunk, error)], flat array of
    line index, t, i, thread, ring, seq per good line, in order)."""
    path, start, end, threads = job
    errors = []
    keys = array.array("q")
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    lines = data.split(b"\n")
    last = lines.pop()
    if last:  # the chunk (so the file) ends without a newline
        lines.append(last)
        errors.append((len(lines) - 1, "last line is not terminated by a newline"))
    for n, line in enumerate(lines):
        if len(errors) >= MAX_REPORTED:
            break
        try:
            rec = DECODER.decode(line.decode("utf-8"))
        except UnicodeDecodeError as e:
            errors.append((n, f"not UTF-8: {e}"))
            continue
        except ValueError as e:  # JSONDecodeError, DuplicateKey, constants
            errors.append((n, f"not exactly one valid JSON object: {e}: {line[:200]!r}"))
            continue
        err, k = check_record(rec, threads)
        if err:
            errors.append((n, err))
        else:
            keys.append(n)
            keys.extend(k)
    return len(lines), errors, keys


def chunks(path, size, threads, parts):
    """Splits the file into `parts` line-aligned byte ranges."""
    bounds = [0]
    with open(path, "rb") as fh:
        for p in range(1, parts):
            fh.seek(max(size * p // parts, bounds[-1]))
            fh.readline()
            pos = min(fh.tell(), size)
            if pos > bounds[-1]:
                bounds.append(pos)
    bounds.append(size)
    return [(path, a, b, threads) for a, b in zip(bounds, bounds[1:]) if b > a]


class Checker:
    """The order checks, which need the whole file in output order."""

    def __init__(self, threads, records):
        self.threads = threads
        self.records = records
        self.errors = []
        self.next_i = [0] * threads          # next expected counter per thread index
        self.os_thread = [None] * threads    # OS thread id seen per thread index
        self.ring_of = [None] * threads      # ring id seen per thread index
        self.next_seq = {}                   # ring id -> next expected seq
        self.ring_owner = {}                 # ring id -> thread index
        self.lines = 0
        self.records_seen = 0

    def error(self, lineno, text):
        self.errors.append(f"line {lineno}: {text}")
        if len(self.errors) >= MAX_REPORTED:
            raise CheckFailed()

    def add_chunk(self, nlines, errors, keys):
        base = self.lines
        self.lines += nlines
        for n, e in errors:
            self.error(base + n + 1, e)
        it = iter(keys)
        next_i, os_thread, ring_of = self.next_i, self.os_thread, self.ring_of
        next_seq, ring_owner = self.next_seq, self.ring_owner
        for n, t, i, tid, ring, seq in zip(it, it, it, it, it, it):
            lineno = base + n + 1
            self.records_seen += 1
            if i != next_i[t]:
                self.error(lineno, f"thread {t}: counter {i} out of order, expected {next_i[t]}")
            next_i[t] = i + 1
            if os_thread[t] != tid:
                if os_thread[t] is not None:
                    self.error(lineno, f"thread index {t} logged from OS threads {os_thread[t]} and {tid}")
                os_thread[t] = tid
            if ring_of[t] != ring:
                if ring_of[t] is not None:
                    self.error(lineno, f"thread index {t} logged into rings {ring_of[t]} and {ring}")
                ring_of[t] = ring
                owner = ring_owner.setdefault(ring, t)
                if owner != t:
                    self.error(lineno, f"ring {ring} carries records of thread indexes {owner} and {t}")
            exp_seq = next_seq.get(ring, 0)
            if seq != exp_seq:
                self.error(lineno, f"ring {ring}: seq {seq} out of order, expected {exp_seq}")
            next_seq[ring] = seq + 1

    def finish(self):
        for t in range(self.threads):
            if self.next_i[t] != self.records:
                self.errors.append(
                    f"thread {t}: counters 0..{self.next_i[t] - 1} seen, expected 0..{self.records - 1}")
        total = self.threads * self.records
        if self.records_seen != total:
            self.errors.append(f"{self.records_seen} records in the file, expected {total}")
        tids = [x for x in self.os_thread if x is not None]
        if len(set(tids)) != len(tids):
            self.errors.append(f"thread indexes share OS thread ids: {self.os_thread}")
        for ring, n in sorted(self.next_seq.items()):
            owner = self.ring_owner[ring]
            if n != self.next_i[owner]:
                self.errors.append(f"ring {ring}: {n} sequence numbers for {self.next_i[owner]} records")


def check_stats(stats, checker, file_size):
    errors = []
    total = checker.threads * checker.records
    lines = checker.lines
    for phase in ("after_flush", "after_shutdown"):
        s = stats.get(phase)
        if not isinstance(s, dict):
            errors.append(f"stats: {phase} missing")
            continue
        want = {
            "logged": total,
            "written": lines,
            "bytes_written": file_size,
            "dropped_full": 0,
            "rejected_too_large": 0,
            "rejected_invalid": 0,
            "rejected_shutdown": 0,
            "write_errors": 0,
            "sink_panics": 0,
            "recovered": 0,
        }
        for key, value in want.items():
            if s.get(key) != value:
                errors.append(f"stats {phase}.{key} = {s.get(key)!r}, expected {value}"
                              f" (the file has {lines} lines, {file_size} bytes)")
    return errors


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out_path, stats_path = argv[1], argv[2]
    try:
        with open(stats_path, encoding="utf-8") as f:
            stats = DECODER.decode(f.read())
        threads = stats["threads"]
        records = stats["records_per_thread"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"check_output: FAIL: cannot read stats file {stats_path}: {e}", file=sys.stderr)
        return 1

    checker = Checker(threads, records)
    try:
        size = os.path.getsize(out_path)
        workers = max(1, min(os.cpu_count() or 1, 8))
        jobs = chunks(out_path, size, threads, workers * 4)
        if workers == 1:
            results = map(check_chunk, jobs)
            for r in results:
                checker.add_chunk(*r)
        else:
            with multiprocessing.Pool(workers) as pool:
                for r in pool.imap(check_chunk, jobs):
                    checker.add_chunk(*r)
        checker.finish()
    except CheckFailed:
        checker.errors.append(f"(stopped after {MAX_REPORTED} errors)")
    except OSError as e:
        checker.errors.append(f"cannot read {out_path}: {e}")

    errors = checker.errors
    if not errors:
        errors = check_stats(stats, checker, os.path.getsize(out_path))
    if errors:
        print(f"check_output: FAIL: {out_path}", file=sys.stderr)
        for e in errors:
            print(f"  {e}", file=sys.stderr)
        return 1
    s = stats["after_flush"]
    print(f"check_output: OK: {checker.lines} lines, {threads} threads x {records} records,"
          f" {len(checker.next_seq)} rings, seq and counters complete and in order;"
          f" stats logged={s['logged']} written={s['written']} dropped_full={s['dropped_full']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
