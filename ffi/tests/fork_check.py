#!/usr/bin/env python3
"""Checks fork_test's output: every (kind, i) exactly once, nothing else.

    fork_check.py OUT_FILE RING_DIR KIND=COUNT...
"""
import json
import os
import sys


def reject_dupes(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate key in {keys}")
    return dict(pairs)


def main():
    out, ring_dir, *expect = sys.argv[1:]
    want = {k: int(v) for k, v in (e.split("=") for e in expect)}
    seen = {}
    with open(out, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            v = json.loads(line, object_pairs_hook=reject_dupes)
            if v.get("msg") != "rec":
                continue
            key = (v["kind"], v["i"])
            seen[key] = seen.get(key, 0) + 1
    for kind, count in want.items():
        missing = [i for i in range(count) if (kind, i) not in seen]
        if missing:
            sys.exit(f"FAIL: {kind}: {len(missing)} of {count} records missing, e.g. {missing[:5]}")
    twice = [k for k, c in seen.items() if c > 1]
    if twice:
        sys.exit(f"FAIL: records written twice: {twice[:5]}")
    unknown = [k for k in seen if k[0] not in want or k[1] >= want[k[0]]]
    if unknown:
        sys.exit(f"FAIL: unexpected records: {unknown[:5]}")
    left = os.listdir(ring_dir) if os.path.isdir(ring_dir) else []
    if left:
        sys.exit(f"FAIL: instances left in the ring directory: {left}")
    print(f"fork check: {sum(want.values())} records, each exactly once; no instance left")


if __name__ == "__main__":
    main()
