"""Shared fixtures: a runtime writing JSON lines to a file under tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

import pytest

import ringlog


def config_for(tmp: Path, **extra: Any) -> dict:
    cfg = {
        "ring_dir": str(tmp / "rings"),
        "sinks": {"out": {"type": "file", "path": str(tmp / "out.log")}},
        "level": "trace",
    }
    cfg.update(extra)
    return cfg


def read_records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict]]:
    """Configures ringlog into tmp_path; calling the result flushes and
    returns every record written so far, parsed."""
    for var in ("RINGLOG_CONFIG", "RINGLOG_LEVEL", "RINGLOG_OUTPUT", "RINGLOG_FORMAT"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "rings").mkdir(mode=0o700)
    ringlog.configure(config_for(tmp_path))

    def read() -> list[dict]:
        ringlog.flush(5)
        return read_records(tmp_path / "out.log")

    yield read
    ringlog.shutdown()


def run_script(tmp_path: Path, body: str, **kw: Any) -> subprocess.CompletedProcess:
    """Runs `body` in a fresh interpreter, configured into tmp_path through
    RINGLOG_CONFIG."""
    rings = tmp_path / "rings"
    rings.mkdir(mode=0o700, exist_ok=True)
    env = dict(os.environ)
    for var in ("RINGLOG_LEVEL", "RINGLOG_OUTPUT", "RINGLOG_FORMAT"):
        env.pop(var, None)
    env["RINGLOG_CONFIG"] = json.dumps(config_for(tmp_path))
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        **kw,
    )
