#!/usr/bin/env python3
"""Checks that files are ringlog JSON lines output.

    check_jsonl.py [--min-lines N] [--expect-msg MSG]... FILE...

Every line of every FILE must be exactly one JSON object (duplicate keys,
NaN and Infinity are errors) with string "ts", "level", "logger" and "msg"
and integer "thread", "ring" and "seq"; per ring, "seq" must increase by
one from 0 in output order (each file separately, as one runtime's output).
There must be at least N lines in all (default 1) and, for each
--expect-msg, a record with that message. Exits 1 with a message on any
mismatch.
"""

import argparse
import json
import sys


class DuplicateKey(ValueError):
    pass


def strict_object(pairs):
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise DuplicateKey(f"duplicate key {k!r}")
            seen.add(k)
    return obj


def reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


DECODER = json.JSONDecoder(object_pairs_hook=strict_object, parse_constant=reject_constant)


def check_file(path, msgs, errors):
    lines = 0
    next_seq = {}
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        errors.append(f"{path}: does not end with a newline")
    for lineno, raw in enumerate(data.splitlines(), 1):
        lines += 1
        where = f"{path}:{lineno}"
        try:
            rec = DECODER.decode(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            errors.append(f"{where}: not one valid JSON object: {e}: {raw[:200]!r}")
            continue
        if type(rec) is not dict:
            errors.append(f"{where}: not an object")
            continue
        for k in ("ts", "level", "logger", "msg"):
            if type(rec.get(k)) is not str:
                errors.append(f"{where}: {k!r} missing or not a string")
        for k in ("thread", "ring", "seq"):
            if type(rec.get(k)) is not int:
                errors.append(f"{where}: {k!r} missing or not an integer")
        ring, seq = rec.get("ring"), rec.get("seq")
        if type(ring) is int and type(seq) is int:
            want = next_seq.get(ring, 0)
            if seq != want:
                errors.append(f"{where}: ring {ring} seq {seq}, expected {want}")
            next_seq[ring] = seq + 1
        if isinstance(rec.get("msg"), str):
            msgs.add(rec["msg"])
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--min-lines", type=int, default=1)
    ap.add_argument("--expect-msg", action="append", default=[])
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    errors, msgs, total = [], set(), 0
    for path in args.files:
        try:
            total += check_file(path, msgs, errors)
        except OSError as e:
            errors.append(f"cannot read {path}: {e}")
    if total < args.min_lines:
        errors.append(f"{total} lines in all, expected at least {args.min_lines}")
    for m in args.expect_msg:
        if m not in msgs:
            errors.append(f"no record with msg {m!r}")
    if errors:
        print(f"check_jsonl: FAIL: {' '.join(args.files)}", file=sys.stderr)
        for e in errors[:30]:
            print(f"  {e}", file=sys.stderr)
        return 1
    print(f"check_jsonl: OK: {total} JSON lines in {len(args.files)} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
