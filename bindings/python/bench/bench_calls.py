"""Nanoseconds per call of the direct logging path.

Measures three calls on a `ringlog.Logger` writing JSON to a file sink on
`os.devnull`:

- `log.info("x")`: a record with a message only;
- `log.info("request handled", user=..., status=..., latency_ms=...)`: a
  record with three fields;
- `log.debug("x", a=1)`: a call below the level (INFO), which returns
  before converting anything.

Each case runs `--calls` calls (default 200,000) in batches of `--batch`;
the ring is flushed between batches, outside the timed part, so no record
is dropped for a full ring. Every case is repeated `--repeat` times and the
best and median ns/call are printed, with the runtime's drop counters.

    python bench/bench_calls.py [--calls N] [--batch N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

import ringlog


def run_case(fn, calls: int, batch: int) -> float:
    """ns per call of `fn(n)`, which makes n calls; flushed between batches."""
    spent = 0
    done = 0
    while done < calls:
        n = min(batch, calls - done)
        t0 = time.perf_counter_ns()
        fn(n)
        spent += time.perf_counter_ns() - t0
        done += n
        ringlog.flush(10.0)
    return spent / calls


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    ring_dir = tempfile.mkdtemp(prefix="ringlog-bench-")
    try:
        ringlog.configure(
            {
                "level": "info",
                "ring_dir": ring_dir,
                "ring_capacity": 1 << 24,
                "sinks": {"null": {"type": "file", "path": os.devnull}},
            },
            inherit=False,
        )
        log = ringlog.get_logger("bench")

        def info_msg(n: int) -> None:
            info = log.info
            for _ in range(n):
                info("x")

        def info_fields(n: int) -> None:
            info = log.info
            for _ in range(n):
                info("request handled", user="alice", status=200, latency_ms=12.5)

        def debug_filtered(n: int) -> None:
            debug = log.debug
            for _ in range(n):
                debug("x", a=1)

        def empty_loop(n: int) -> None:
            for _ in range(n):
                pass

        cases = [
            ('log.info("x")', info_msg),
            ('log.info("request handled", user=, status=, latency_ms=)', info_fields),
            ('log.debug("x", a=1)  [below level]', debug_filtered),
            ("empty loop (for reference)", empty_loop),
        ]
        # Warm up: starts the runtime and the thread's ring.
        for _, fn in cases:
            fn(10_000)
        ringlog.flush(10.0)

        print(
            f"ringlog {ringlog.VERSION}, Python {sys.version.split()[0]}, "
            f"{args.calls} calls x {args.repeat} runs (ns/call, loop included)"
        )
        for name, fn in cases:
            runs = [run_case(fn, args.calls, args.batch) for _ in range(args.repeat)]
            print(f"  {name:<58} best {min(runs):7.1f}   median {statistics.median(runs):7.1f}")
        ringlog.flush(10.0)
        s = ringlog.stats()
        print(
            f"  logged {s['logged']}, written {s['written']}, "
            f"dropped_full {s['dropped_full']}, rejected_too_large {s['rejected_too_large']}"
        )
        ringlog.shutdown()
    finally:
        shutil.rmtree(ring_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
