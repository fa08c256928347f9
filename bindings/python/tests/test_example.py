"""The example service (examples/python) in its self-test mode: its JSON
output must parse line by line and show each thing the example is for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "python"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"
# The requests service.py --self-test sends: request_id -> (path, status).
EXPECTED = {
    "selftest-health": ("/health", 200),
    "selftest-traced": ("/items/sku-2", 200),
    "selftest-missing": ("/items/sku-9", 404),
    "selftest-fail": ("/fail", 500),
}
N_REQUESTS = len(EXPECTED) + 1  # and one without X-Request-Id


def run_self_test(tmp_path: Path) -> tuple[subprocess.CompletedProcess, list[dict]]:
    rings = tmp_path / "rings"
    rings.mkdir(mode=0o700)
    out = tmp_path / "out.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGLOG_")}
    # A private ring directory, so no other process's records are recovered
    # into the output; the environment overrides send JSON to the file.
    env["RINGLOG_CONFIG"] = json.dumps({"ring_dir": str(rings)})
    env["RINGLOG_OUTPUT"] = str(out)
    env["RINGLOG_FORMAT"] = "json"
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE / "service.py"), "--self-test"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = out.read_text().splitlines() if out.exists() else []
    records = [json.loads(line) for line in lines]  # every line is JSON
    return proc, records


def test_example_service_self_test(tmp_path: Path) -> None:
    proc, records = run_self_test(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{N_REQUESTS} requests, 0 problems" in proc.stdout
    assert records, proc.stderr
    assert not any(r.get("recovered") for r in records)

    # One "request handled" record per request, with its id, status and latency.
    handled = [r for r in records if r["msg"] == "request handled"]
    assert len(handled) == N_REQUESTS, handled
    by_id = {r["request_id"]: r for r in handled}
    assert len(by_id) == N_REQUESTS, "request ids are not unique"
    for rid, (path, status) in EXPECTED.items():
        r = by_id[rid]
        assert r["logger"] == "http" and r["method"] == "GET"
        assert r["path"] == path and r["status"] == status
        assert isinstance(r["latency_ms"], (int, float)) and r["latency_ms"] >= 0
    (generated,) = set(by_id) - set(EXPECTED)
    assert generated and by_id[generated]["path"] == "/"
    assert by_id["selftest-health"]["level"] == "info"
    assert by_id["selftest-missing"]["level"] == "warn"
    assert by_id["selftest-fail"]["level"] == "error"

    # The traceparent request: all its records carry the trace context, the
    # stdlib ones from the inventory library included; no other record does.
    traced = [r for r in records if r.get("request_id") == "selftest-traced"]
    assert {r["logger"] for r in traced} == {"http", "inventory"}
    for r in traced:
        assert r["trace_id"] == TRACE_ID and r["span_id"] == SPAN_ID
        assert r["trace_flags"] == "01"
    untraced = [r for r in records if r.get("request_id") != "selftest-traced"]
    assert not any("trace_id" in r for r in untraced)

    # The error path: an ERROR record with an exception object.
    (err,) = [r for r in records if r["msg"] == "unhandled error"]
    assert err["level"] == "error" and err["request_id"] == "selftest-fail"
    exc = err["exception"]
    assert exc["type"] == "RuntimeError"
    assert "reservation backend unavailable" in exc["message"]
    assert "Traceback" in exc["traceback"] and "reserve" in exc["traceback"]

    # The "third-party" library's stdlib records arrived with their extra
    # fields (and the request id the service's logging filter adds).
    inventory = [r for r in records if r["logger"] == "inventory"]
    lookup = [r for r in inventory if r["msg"] == "stock lookup sku-2"]
    assert len(lookup) == 1
    assert lookup[0]["sku"] == "sku-2" and lookup[0]["warehouse"] == "ams-1"
    assert lookup[0]["quantity"] == 2 and lookup[0]["level"] == "info"
    (low,) = [r for r in inventory if r["msg"] == "low stock"]
    assert low["level"] == "warn" and low["sku"] == "sku-2"
    (missing,) = [r for r in inventory if r["msg"] == "item not found"]
    assert missing["sku"] == "sku-9" and missing["request_id"] == "selftest-missing"

    # The server started on a free port and stopped before the exit.
    (listening,) = [r for r in records if r["msg"] == "listening"]
    assert listening["host"] == "127.0.0.1" and listening["port"] > 0
    msgs = [r["msg"] for r in records]
    assert msgs.index("listening") < msgs.index("shutting down") < msgs.index("stopped")
