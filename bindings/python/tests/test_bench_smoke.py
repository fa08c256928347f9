"""bench/compare.py still runs: a quick run (20,000 records) of ringlog
direct, ringlog.Handler and stdlib logging with a JSON formatter, which
are always installed; the peer libraries are left to `make bench-python`."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

COMPARE = Path(__file__).resolve().parent.parent / "bench" / "compare.py"
LIBS = ["ringlog", "ringlog-handler", "stdlib-json"]
N = 20_000


def test_compare_quick_writes_n_lines_per_library(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            str(COMPARE),
            "--quick",
            "--skip-missing",
            "--libs", ",".join(LIBS),
            "--keep", str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in LIBS:
        data = (out / f"{name}.log").read_bytes()
        assert data.count(b"\n") == N, name
        assert data.endswith(b"\n"), name
    assert "| ringlog direct |" in proc.stdout
    assert "stdlib FileHandler + JSON formatter / ringlog direct = " in proc.stdout
    assert f"every file had exactly {N:,} lines" in proc.stdout


def test_compare_fails_loudly_on_an_unknown_library() -> None:
    proc = subprocess.run(
        [sys.executable, str(COMPARE), "--quick", "--libs", "nosuchlib"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "unknown libraries" in proc.stderr


def test_a_short_or_wrong_output_file_is_an_error(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("ringlog_bench_compare", COMPARE)
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    good = b'{"msg": "request handled", "user": "alice", "status": 200, "latency_ms": 12.5}\n'
    path = tmp_path / "x.log"
    path.write_bytes(good * 3)
    assert compare.check_output("stdlib-json", str(path), 3) == (3, 3 * len(good))
    with pytest.raises(compare.BenchError, match="has 3 lines, expected 4"):
        compare.check_output("stdlib-json", str(path), 4)
    path.write_bytes(good * 2 + good.replace(b"alice", b"bob"))
    with pytest.raises(compare.BenchError, match="last line"):
        compare.check_output("stdlib-json", str(path), 3)
