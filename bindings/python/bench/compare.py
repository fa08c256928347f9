"""ringlog next to stdlib logging, structlog, loguru and picologging.

Every library logs the same record N times (default 1,000,000): message
"request handled" with user="alice", status=200, latency_ms=12.5, at INFO,
as one JSON line per record to its own file in a temporary directory.
Each library runs in a fresh interpreter (this script started again with
--child), so no global logging state leaks from one to the next; the order
of the libraries rotates from round to round.

Measured in the child:

- caller ns/call: time of the loop of N calls / N (`perf_counter_ns`),
  including the first call, which is also shown apart (ringlog makes the
  thread's ring, 16 MiB here, on the thread's first record), with the
  ns/call of the N-1 calls after it;
- end-to-end records/s: N / time from the first call until the output is
  in the file: after `ringlog.flush()` returned (ringlog direct and
  ringlog.Handler), after the handler was closed (stdlib, picologging),
  after the file was closed (structlog), after `logger.complete()` and
  `logger.remove()` (loguru; with enqueue=True that waits for the worker).
  "In the file" means handed to the kernel (page cache), not synced;
- CPU ns/record: the process's user + system CPU time over the same span,
  all threads (ringlog's flusher thread does the encoding and writing);
- peak RSS: `getrusage(RUSAGE_SELF).ru_maxrss` at the end.

The parent then checks that each file has exactly N lines, parses the first
and the last line as JSON and checks the message and fields, and stops with
an error otherwise (ringlog also has to report 0 dropped and N written).

With --rounds R > 1 every library runs R times and the table shows, for
each library, the round with the lowest caller ns/call (all metrics of
that one round); the ratios to ringlog direct are then also printed for
each round on its own (both measured in the same round).

    python bench/compare.py [--n N] [--rounds R] [--libs a,b] [--quick]

With --paired A,B the two libraries run in one interpreter instead, each
on its own stdlib logger and file, their calls timed in alternating
batches of --batch calls (the order swapped from batch to batch); each
round prints both ns/call (after the first call) and B's over A's. The
machine's slow and fast moments then fall on both alike, which separate
runs of a few seconds each cannot promise on a shared machine.

    python bench/compare.py --paired ringlog-handler,stdlib-json [--rounds R] [--batch B]

`stdlib-nop`, a stdlib handler that does nothing, can be one of the pair:
what stdlib logging costs per call before any handler work.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Optional

MSG = "request handled"
FIELDS = {"user": "alice", "status": 200, "latency_ms": 12.5}

# name -> (label, module that must be importable, distribution for the version)
LIBS: dict[str, tuple[str, str, str]] = {
    "ringlog": ("ringlog direct", "ringlog", "ringlog"),
    "ringlog-handler": ("ringlog.Handler (stdlib logging)", "ringlog", "ringlog"),
    "stdlib-json": ("stdlib FileHandler + JSON formatter", "logging", ""),
    "stdlib-text": ("stdlib FileHandler + text format (reference, not JSON)", "logging", ""),
    "structlog": ("structlog JSONRenderer + WriteLogger", "structlog", "structlog"),
    "loguru": ("loguru serialize=True", "loguru", "loguru"),
    "loguru-enqueue": ("loguru serialize=True, enqueue=True", "loguru", "loguru"),
    "picologging": ("picologging FileHandler + JSON-looking format", "picologging", "picologging"),
}
BASELINE = "ringlog"
# The stdlib logger the stdlib-based set-ups use; a paired run (--paired)
# gives each of its two libraries its own.
_logger_name = "bench"
JSON_LIBS = set(LIBS) - {"stdlib-text"}
# For --paired only, as a reference: what the stdlib's logging costs per
# call before any handler work (it writes no file).
NO_OUTPUT = {"stdlib-nop": ("stdlib logging, a handler that does nothing", "logging", "")}


# ------------------------------------------------------------------ children
#
# Each setup function configures one library to write into `path` and
# returns (loop, finish, check): loop(n) makes the n timed calls, finish()
# makes sure everything is in the file, check() returns an error string or
# None (run after the timing).

def _ringlog_config(path: str, ring_dir: str) -> dict:
    # The same settings as the Rust and C++ comparisons (benches/README.md):
    # a 16 MiB ring and `block`, so a full ring makes the caller wait for
    # the flusher instead of dropping (nothing may be dropped here).
    return {
        "ring_dir": ring_dir,
        "ring_capacity": 16 << 20,
        "full_policy": "block",
        "block_timeout_ms": 60_000,
        "level": "info",
        "sinks": {"file": {"type": "file", "path": path, "encoder": "json"}},
    }


def _ringlog_check(n: int) -> Callable[[], Optional[str]]:
    def check() -> Optional[str]:
        import ringlog

        s = ringlog.stats()
        if s["dropped_full"] or s["written"] != n or s["write_errors"]:
            return (
                f"ringlog stats: logged {s['logged']}, written {s['written']}, "
                f"dropped_full {s['dropped_full']}, write_errors {s['write_errors']} "
                f"(expected {n} written, 0 dropped)"
            )
        return None

    return check


def setup_ringlog(path: str, ring_dir: str, n: int):
    import ringlog

    ringlog.configure(_ringlog_config(path, ring_dir), inherit=False)
    log = ringlog.get_logger("bench")

    def loop(n: int) -> None:
        info = log.info
        for _ in range(n):
            info("request handled", user="alice", status=200, latency_ms=12.5)

    def finish() -> None:
        ringlog.flush(60.0)

    return loop, finish, _ringlog_check(n)


def setup_ringlog_handler(path: str, ring_dir: str, n: int):
    import logging

    import ringlog

    ringlog.configure(_ringlog_config(path, ring_dir), inherit=False)
    logger = logging.getLogger(_logger_name)
    logger.addHandler(ringlog.Handler())
    logger.setLevel(logging.INFO)
    logger.propagate = False

    def loop(n: int) -> None:
        info = logger.info
        for _ in range(n):
            info("request handled", extra={"user": "alice", "status": 200, "latency_ms": 12.5})

    def finish() -> None:
        ringlog.flush(60.0)

    return loop, finish, _ringlog_check(n)


def _stdlib_logger(handler: Any) -> Any:
    import logging

    logger = logging.getLogger(_logger_name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def setup_stdlib_json(path: str, ring_dir: str, n: int):
    import logging
    from datetime import datetime, timezone

    # The attributes every LogRecord has; the others came from `extra=`.
    standard = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None))) | {
        "message",
        "asctime",
        "taskName",
    }

    class JsonFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            doc = {
                "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
                "level": record.levelname,
                "logger": record.name,
                "msg": record.getMessage(),
            }
            for key, value in record.__dict__.items():
                if key not in standard:
                    doc[key] = value
            return json.dumps(doc)

    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    logger = _stdlib_logger(handler)

    def loop(n: int) -> None:
        info = logger.info
        for _ in range(n):
            info("request handled", extra={"user": "alice", "status": 200, "latency_ms": 12.5})

    return loop, handler.close, lambda: None


def setup_stdlib_nop(path: str, ring_dir: str, n: int):
    import logging

    class Nop(logging.Handler):
        def handle(self, record: logging.LogRecord) -> bool:
            return True

    logger = _stdlib_logger(Nop())

    def loop(n: int) -> None:
        info = logger.info
        for _ in range(n):
            info("request handled", extra={"user": "alice", "status": 200, "latency_ms": 12.5})

    return loop, lambda: None, lambda: None


def setup_stdlib_text(path: str, ring_dir: str, n: int):
    import logging

    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s "
            "user=%(user)s status=%(status)s latency_ms=%(latency_ms)s"
        )
    )
    logger = _stdlib_logger(handler)

    def loop(n: int) -> None:
        info = logger.info
        for _ in range(n):
            info("request handled", extra={"user": "alice", "status": 200, "latency_ms": 12.5})

    return loop, handler.close, lambda: None


def setup_structlog(path: str, ring_dir: str, n: int):
    import logging

    import structlog

    out = open(path, "w", encoding="utf-8")
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=True,
    )
    # The logger name as a bound field, so the line has what the others have.
    log = structlog.get_logger("bench").bind(logger="bench")

    def loop(n: int) -> None:
        info = log.info
        for _ in range(n):
            info("request handled", user="alice", status=200, latency_ms=12.5)

    return loop, out.close, lambda: None


def _setup_loguru(path: str, enqueue: bool):
    from loguru import logger

    logger.remove()
    logger.add(path, serialize=True, enqueue=enqueue, level="INFO")

    def loop(n: int) -> None:
        info = logger.info
        for _ in range(n):
            info("request handled", user="alice", status=200, latency_ms=12.5)

    def finish() -> None:
        logger.complete()
        logger.remove()

    return loop, finish, lambda: None


def setup_loguru(path: str, ring_dir: str, n: int):
    return _setup_loguru(path, enqueue=False)


def setup_loguru_enqueue(path: str, ring_dir: str, n: int):
    return _setup_loguru(path, enqueue=True)


def setup_picologging(path: str, ring_dir: str, n: int):
    import picologging

    # picologging has no JSON formatter, and `extra=` does not reach its
    # records (microsoft/picologging#195), so the fields are %-arguments of
    # the message and the format string makes a JSON-looking line (nothing
    # is escaped). An explicit datefmt: picologging 0.9.3's default asctime
    # prints garbage bytes (microsoft/picologging#203).
    handler = picologging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(
        picologging.Formatter(
            '{"time": "%(asctime)s.%(msecs)03d", "level": "%(levelname)s", '
            '"logger": "%(name)s", %(message)s}',
            datefmt="%Y-%m-%dT%H:%M:%S",
        )
    )
    logger = picologging.getLogger("bench")
    logger.addHandler(handler)
    logger.setLevel(picologging.INFO)
    logger.propagate = False

    def loop(n: int) -> None:
        info = logger.info
        for _ in range(n):
            info(
                '"msg": "request handled", "user": "%s", "status": %d, "latency_ms": %r',
                "alice",
                200,
                12.5,
            )

    return loop, handler.close, lambda: None


SETUPS: dict[str, Callable[..., Any]] = {
    "ringlog": setup_ringlog,
    "ringlog-handler": setup_ringlog_handler,
    "stdlib-json": setup_stdlib_json,
    "stdlib-text": setup_stdlib_text,
    "stdlib-nop": setup_stdlib_nop,
    "structlog": setup_structlog,
    "loguru": setup_loguru,
    "loguru-enqueue": setup_loguru_enqueue,
    "picologging": setup_picologging,
}


def _cpu_ns() -> int:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return int((ru.ru_utime + ru.ru_stime) * 1e9)


def run_child(name: str, n: int, path: str, ring_dir: str) -> int:
    _, module, dist = LIBS[name]
    try:
        __import__(module)
    except ImportError as e:
        print(json.dumps({"missing": f"{module}: {e}"}))
        return 3
    version = ""
    if dist:
        from importlib.metadata import version as dist_version

        version = dist_version(dist)

    loop, finish, check = SETUPS[name](path, ring_dir, n)
    rss_start_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu0 = _cpu_ns()
    t0 = time.perf_counter_ns()
    loop(1)  # timed apart too: ringlog makes the thread's ring on its first record
    tf = time.perf_counter_ns()
    loop(n - 1)
    t1 = time.perf_counter_ns()
    finish()
    t2 = time.perf_counter_ns()
    cpu1 = _cpu_ns()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    err = check()
    if err:
        print(err, file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "name": name,
                "version": version,
                "caller_ns": (t1 - t0) / n,
                "first_us": (tf - t0) / 1e3,
                "rest_ns": (t1 - tf) / (n - 1) if n > 1 else 0.0,
                "e2e_s": (t2 - t0) / 1e9,
                "rate": n / ((t2 - t0) / 1e9),
                "cpu_ns": (cpu1 - cpu0) / n,
                "rss_start_mib": rss_start_kib / 1024,
                "rss_mib": rss_kib / 1024,
            }
        )
    )
    sys.stdout.flush()
    return 0


def run_child_paired(names: list[str], n: int, paths: list[str], ring_dir: str, batch: int) -> int:
    """Both libraries in one interpreter, their calls timed in alternating
    batches (the order swapped from batch to batch), so that the machine's
    slow and fast moments fall on both alike."""
    global _logger_name
    runs = []
    for i, (name, path) in enumerate(zip(names, paths)):
        module = {**LIBS, **NO_OUTPUT}[name][1]
        try:
            __import__(module)
        except ImportError as e:
            print(json.dumps({"missing": f"{module}: {e}"}))
            return 3
        _logger_name = f"bench-{i}"
        runs.append(SETUPS[name](path, ring_dir, n))
    for loop, _, _ in runs:
        loop(1)  # the first call apart (ringlog makes the thread's ring)
    spent = [0, 0]
    done = 1
    k = 0
    while done < n:
        m = min(batch, n - done)
        for j in (0, 1) if k % 2 == 0 else (1, 0):
            t0 = time.perf_counter_ns()
            runs[j][0](m)
            spent[j] += time.perf_counter_ns() - t0
        done += m
        k += 1
    for _, finish, check in runs:
        finish()
        err = check()
        if err:
            print(err, file=sys.stderr)
            return 1
    print(json.dumps({"ns": [t / max(n - 1, 1) for t in spent]}))
    sys.stdout.flush()
    return 0


# -------------------------------------------------------------------- parent


class BenchError(Exception):
    pass


def _fields_of(name: str, doc: dict) -> tuple[Any, ...]:
    """(message, user, status, latency_ms) as this library writes them."""
    if name.startswith("loguru"):
        rec = doc["record"]
        extra = rec["extra"]
        return rec["message"], extra["user"], extra["status"], extra["latency_ms"]
    msg_key = "event" if name == "structlog" else "msg"
    return doc[msg_key], doc["user"], doc["status"], doc["latency_ms"]


def check_output(name: str, path: str, n: int) -> tuple[int, int]:
    """Checks the line count (and the first and last records); returns
    (lines, bytes). Raises BenchError."""
    lines = 0
    size = 0
    first = b""
    last_chunk = b""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            if not first:
                first = chunk.split(b"\n", 1)[0]
            lines += chunk.count(b"\n")
            size += len(chunk)
            last_chunk = (last_chunk + chunk)[-65536:]
    if lines != n:
        raise BenchError(f"{name}: {path} has {lines} lines, expected {n}")
    if not last_chunk.endswith(b"\n"):
        raise BenchError(f"{name}: {path} does not end with a newline")
    last = last_chunk[:-1].rsplit(b"\n", 1)[-1]
    if name in JSON_LIBS:
        expect = (MSG, FIELDS["user"], FIELDS["status"], FIELDS["latency_ms"])
        for which, line in (("first", first), ("last", last)):
            try:
                got = _fields_of(name, json.loads(line))
            except (ValueError, KeyError, TypeError) as e:
                raise BenchError(f"{name}: {which} line is not the expected JSON ({e}): {line[:300]!r}")
            if got != expect:
                raise BenchError(f"{name}: {which} line has {got}, expected {expect}: {line[:300]!r}")
    else:
        for which, line in (("first", first), ("last", last)):
            if b"request handled" not in line or b"user=alice" not in line:
                raise BenchError(f"{name}: unexpected {which} line {line[:300]!r}")
    return lines, size


def _ring_parent_dir() -> Optional[str]:
    # ringlog's default ring directory lives on /dev/shm; use a fresh one
    # there (so no other process's leftover rings are recovered into the
    # output), or the temporary directory where there is no /dev/shm.
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def _child(what: str, args: list[str], timeout: float) -> Optional[dict]:
    """Runs this script as a child with `args` (plus a fresh ring
    directory, removed afterwards) and returns the JSON of its last output
    line; None when a library is not installed. `what` names it in errors."""
    ring_dir = tempfile.mkdtemp(prefix="ringlog-bench-rings-", dir=_ring_parent_dir())
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGLOG_")}
    try:
        proc = subprocess.run(
            [sys.executable, os.path.abspath(__file__), *args, "--ring-dir", ring_dir],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        shutil.rmtree(ring_dir, ignore_errors=True)
    if proc.returncode == 3:
        return None  # not installed
    if proc.returncode != 0:
        raise BenchError(
            f"{what}: child exited with {proc.returncode}\n"
            f"{proc.stderr.strip()}\n{proc.stdout.strip()}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fresh(path: str) -> str:
    if os.path.exists(path):
        os.unlink(path)  # the sinks append; each run starts from an empty file
    return path


def run_one(name: str, n: int, workdir: str, keep: bool, timeout: float) -> Optional[dict]:
    path = _fresh(os.path.join(workdir, f"{name}.log"))
    result = _child(name, ["--child", name, "--n", str(n), "--out", path], timeout)
    if result is None:
        return None
    lines, size = check_output(name, path, n)
    result["lines"] = lines
    result["bytes_per_line"] = size / lines
    if not keep:
        os.unlink(path)
    return result


def run_paired(names: list[str], n: int, batch: int, workdir: str, timeout: float) -> Optional[list[float]]:
    """One paired round (see `run_child_paired`): ns per call of each of
    the two libraries after the first call, their outputs checked."""
    paths = [_fresh(os.path.join(workdir, f"paired-{i}-{name}.log")) for i, name in enumerate(names)]
    args = ["--child-paired", ",".join(names), "--n", str(n), "--out", ",".join(paths), "--batch", str(batch)]
    result = _child(f"paired {names}", args, timeout)
    if result is None:
        return None
    for name, path in zip(names, paths):
        if name not in NO_OUTPUT:
            check_output(name, path, n)
            os.unlink(path)
    return result["ns"]


def main_paired(names: list[str], n: int, rounds: int, batch: int, timeout: float) -> int:
    print(
        f"Paired: {names[0]} and {names[1]} in one interpreter, {n:,} records each, "
        f"alternating batches of {batch:,}, {rounds} round(s); "
        "load average at start: %.2f %.2f %.2f" % os.getloadavg(),
        flush=True,
    )
    workdir = tempfile.mkdtemp(prefix="ringlog-compare-")
    ratios = []
    try:
        for rnd in range(rounds):
            ns = run_paired(names, n, batch, workdir, timeout)
            if ns is None:
                raise BenchError(f"{names}: a library is not installed")
            ratios.append(ns[1] / ns[0])
            print(
                f"  round {rnd + 1}: {names[0]} {ns[0]:,.0f} ns/call, {names[1]} {ns[1]:,.0f} ns/call, "
                f"{names[1]} / {names[0]} = {ratios[-1]:.2f}x; "
                + ("both outputs" if NO_OUTPUT.keys().isdisjoint(names) else "the other's output")
                + f" {n:,} lines ok",
                flush=True,
            )
    except BenchError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ordered = sorted(ratios)
    print(
        f"{names[1]} / {names[0]}: median {ordered[len(ordered) // 2]:.2f}x, "
        f"lowest {ordered[0]:.2f}x, highest {ordered[-1]:.2f}x over {rounds} round(s)"
    )
    return 0


def _ratio(x: float) -> str:
    return f"{x:.1f}x" if x < 10 else f"{x:.0f}x"


def _fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def _fmt_rate(x: float) -> str:
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:,.0f} k"


def print_table(best: dict[str, dict], order: list[str], n: int, rounds: int) -> None:
    base = best.get(BASELINE)
    head = [
        "library",
        "version",
        "caller ns/call",
        "lib / ringlog direct",
        "ns/call after the first",
        "first call µs",
        "end-to-end records/s",
        "ringlog direct / lib",
        "CPU ns/record",
        "peak RSS MiB (at start)",
        "bytes/line",
    ]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name in order:
        r = best.get(name)
        if r is None:
            continue
        cells = [
            LIBS[name][0],
            r["version"] or platform.python_version(),
            f"{r['caller_ns']:,.0f}",
            _ratio(r["caller_ns"] / base["caller_ns"]) if base else "",
            f"{r['rest_ns']:,.0f}",
            f"{r['first_us']:,.0f}",
            _fmt_rate(r["rate"]),
            _ratio(base["rate"] / r["rate"]) if base else "",
            _fmt_int(r["cpu_ns"]),
            f"{r['rss_mib']:.1f} ({r['rss_start_mib']:.1f})",
            f"{r['bytes_per_line']:.0f}",
        ]
        print("| " + " | ".join(cells) + " |")
    print()
    what = "best of %d rounds (lowest caller ns/call)" % rounds if rounds > 1 else "1 round"
    print(f"{n:,} records per library, {what}; every file had exactly {n:,} lines.")


def _same_round(per_round: list[dict[str, dict]], num: str, den: str) -> list[float]:
    """caller ns of `num` / caller ns of `den`, for each round that ran both."""
    return [r[num]["caller_ns"] / r[den]["caller_ns"] for r in per_round if num in r and den in r]


def print_ratios_and_targets(
    best: dict[str, dict], names: list[str], per_round: list[dict[str, dict]]
) -> None:
    base = best.get(BASELINE)
    if base is None:
        return
    several = len(per_round) > 1

    def rounds_note(num: str, den: str) -> str:
        if not several:
            return ""
        xs = _same_round(per_round, num, den)
        return "; in each round: " + ", ".join(_ratio(x) for x in xs)

    print()
    for name in names:
        r = best.get(name)
        if r is None or name == BASELINE:
            continue
        print(
            f"  {LIBS[name][0]} / ringlog direct = {_ratio(r['caller_ns'] / base['caller_ns'])} "
            f"(caller), {_ratio(base['rate'] / r['rate'])} (end-to-end)"
            + rounds_note(name, BASELINE).replace("; in each round", "; caller, in each round")
        )
    print("\nTargets" + (" (best of rounds; same-round ratios after ';')" if several else "") + ":")

    def target(text: str, met: bool) -> None:
        print(f"  [{'met' if met else 'MISSED'}] {text}")

    per_call = ""
    if several:
        per_call = "; in each round: " + ", ".join(
            f"{r[BASELINE]['caller_ns']:.0f}" for r in per_round if BASELINE in r
        )
    target(
        f"ringlog direct <= 300 ns/call: {base['caller_ns']:.0f} ns "
        f"({base['rest_ns']:.0f} after the first call){per_call}",
        base["caller_ns"] <= 300,
    )
    sj = best.get("stdlib-json")
    if sj:
        x = sj["caller_ns"] / base["caller_ns"]
        target(
            f"ringlog direct >= 30x faster than stdlib + JSON formatter: {x:.1f}x"
            + rounds_note("stdlib-json", BASELINE),
            x >= 30,
        )
    h = best.get("ringlog-handler")
    if h and sj:
        x = sj["caller_ns"] / h["caller_ns"]
        target(
            f"ringlog.Handler >= 3x faster than stdlib FileHandler + JSON formatter: {x:.1f}x"
            + rounds_note("stdlib-json", "ringlog-handler"),
            x >= 3,
        )
    st = best.get("stdlib-text")
    if h and st:
        x = st["caller_ns"] / h["caller_ns"]
        print(
            f"  (reference) ringlog.Handler vs stdlib FileHandler + text format: {x:.1f}x"
            + rounds_note("stdlib-text", "ringlog-handler")
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="records per library (default 1,000,000)")
    ap.add_argument(
        "--rounds", type=int, default=1, help="runs per library; the best (lowest caller ns) is shown"
    )
    ap.add_argument("--quick", action="store_true", help="smoke run: N=20,000, 1 round")
    ap.add_argument("--libs", default=",".join(LIBS), help="comma-separated, from: " + ", ".join(LIBS))
    ap.add_argument(
        "--skip-missing",
        action="store_true",
        help="leave out libraries that are not installed instead of failing",
    )
    ap.add_argument("--keep", metavar="DIR", help="write the output files into DIR and keep them")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per child run")
    ap.add_argument(
        "--paired",
        metavar="A,B",
        help="run two libraries in one interpreter, timed in alternating batches, "
        "and print B's time per call over A's for each round",
    )
    ap.add_argument("--batch", type=int, default=10_000, help="calls per batch with --paired")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-paired", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--ring-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        return run_child(args.child, args.n, args.out, args.ring_dir)
    if args.child_paired:
        return run_child_paired(
            args.child_paired.split(","), args.n, args.out.split(","), args.ring_dir, args.batch
        )

    if args.quick:
        args.n, args.rounds = 20_000, 1
    if args.n <= 0 or args.rounds <= 0:
        ap.error("--n and --rounds must be positive")
    if args.paired:
        pair = [s.strip() for s in args.paired.split(",")]
        known = {**LIBS, **NO_OUTPUT}
        if len(pair) != 2 or any(p not in known for p in pair) or pair[0] == pair[1]:
            ap.error(f"--paired takes two different libraries from: {', '.join(known)}")
        if args.batch <= 0:
            ap.error("--batch must be positive")
        return main_paired(pair, args.n, args.rounds, args.batch, args.timeout)
    names = [s.strip() for s in args.libs.split(",") if s.strip()]
    unknown = [s for s in names if s not in LIBS]
    if unknown:
        ap.error(f"unknown libraries {unknown}; choose from {', '.join(LIBS)}")

    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{os.cpu_count()} CPUs, {args.n:,} records per library, {args.rounds} round(s)",
        flush=True,
    )
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    workdir = args.keep or tempfile.mkdtemp(prefix="ringlog-compare-")
    os.makedirs(workdir, exist_ok=True)
    best: dict[str, dict] = {}
    per_round: list[dict[str, dict]] = []
    missing: list[str] = []
    try:
        for rnd in range(args.rounds):
            per_round.append({})
            k = rnd % len(names)
            for name in names[k:] + names[:k]:
                if name in missing:
                    continue
                r = run_one(name, args.n, workdir, bool(args.keep), args.timeout)
                if r is None:
                    if not args.skip_missing:
                        raise BenchError(
                            f"{name}: {LIBS[name][1]} is not installed "
                            "(use --skip-missing to leave it out)"
                        )
                    print(f"  {name}: not installed, left out", flush=True)
                    missing.append(name)
                    continue
                print(
                    f"  round {rnd + 1} {name:<16} caller {r['caller_ns']:8.0f} ns/call   "
                    f"end-to-end {_fmt_rate(r['rate']):>9}/s   peak RSS {r['rss_mib']:6.1f} MiB   "
                    f"{r['lines']:,} lines ok",
                    flush=True,
                )
                per_round[-1][name] = r
                if name not in best or r["caller_ns"] < best[name]["caller_ns"]:
                    best[name] = r
    except BenchError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    t0 = time.perf_counter_ns()
    for _ in range(args.n):
        pass
    empty = (time.perf_counter_ns() - t0) / args.n

    print()
    print_table(best, names, args.n, args.rounds)
    print(f"Empty loop for reference: {empty:.0f} ns/iteration (in the parent).")
    print("load average at the end: %.2f %.2f %.2f" % os.getloadavg())
    if args.n < 1_000_000:
        print(
            f"With N={args.n:,} the first call (ringlog: making the thread's ring) weighs on "
            "ns/call: a smoke run, not a measurement."
        )
    print_ratios_and_targets(best, names, per_round)
    return 0


if __name__ == "__main__":
    sys.exit(main())
