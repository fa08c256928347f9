"""The direct path's call sites: a level method called again from the
same place in the code (same message and keyword-name objects, same value
kinds) logs through a core call site, writing only the values. The output
must not show which path a record took."""

from __future__ import annotations

import math
import sys

import ringlog


def content(r: dict) -> dict:
    return {k: v for k, v in r.items() if k not in ("ts", "seq")}


def test_a_repeated_call_goes_through_a_site_and_reads_the_same(records):
    log = ringlog.get_logger("sites")
    for user in ["al\u00efce \u2028\n"] * 4 + ["al\udcffice"]:
        log.info("request handled", user=user, status=200, latency_ms=12.5, ok=True, nan=math.nan)
    # Seen once, registered on the second call, used by the next two; a
    # str with a lone surrogate (not UTF-8) takes the keyed path.
    assert log._direct_sites() == (1, 2)
    out = records()
    assert len(out) == 5
    for r in out[1:4]:
        assert content(r) == content(out[0])
    r = out[3]
    assert r["user"] == "al\u00efce \u2028\n"
    assert (r["status"], r["latency_ms"], r["ok"], r["nan"]) == (200, 12.5, True, "NaN")
    assert content(out[4]) == {**content(r), "user": "al\ufffdice"}


def test_values_of_another_kind_take_the_keyed_path_whole(records):
    log = ringlog.get_logger("kinds")

    def call(v):
        log.warning("one place", v=v, n=1)

    for v in (1, 2, "text", 3.5, True, None, [1, "a"], {"k": 1}, 2**70, -(2**63), b"\x00\x01", 4):
        call(v)
    assert log._direct_sites()[0] == 1
    got = [r["v"] for r in records()]
    assert got[:5] == [1, 2, "text", 3.5, True]
    assert got[5] is None and got[6] == [1, "a"] and got[7] == {"k": 1}
    # Past 64 bits an int is written as its digits, as on the keyed path.
    assert got[8] == str(2**70) and got[9] == -(2**63)
    assert got[11] == 4


def test_each_call_place_level_and_logger_has_its_own_site(records):
    root = ringlog.get_logger("places")
    child = root.bind(req="r-1")
    for i in range(3):
        root.info("a", i=i)
        root.info("b", i=i)
        root.warning("a", i=i)
        child.info("a", i=i)
    assert root._direct_sites() == (3, 3) and child._direct_sites() == (1, 1)
    out = records()
    assert len(out) == 12
    assert [r["i"] for r in out if r.get("req") == "r-1"] == [0, 1, 2]
    assert [(r["msg"], r["level"]) for r in out[:4]] == [("a", "info"), ("b", "info"), ("a", "warn"), ("a", "info")]


def test_messages_made_per_call_register_no_site(records):
    log = ringlog.get_logger("formatted")
    for i in range(200):
        log.info(f"job {i} done", i=i)
    assert log._direct_sites() == (0, 0)
    assert [r["msg"] for r in records()] == [f"job {i} done" for i in range(200)]


def test_site_records_carry_the_trace_context(records):
    log = ringlog.get_logger("ctx")
    with ringlog.trace_context("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"):
        for i in range(3):
            log.info("traced", i=i)
    for i in range(3):
        log.info("traced", i=i)
    assert log._direct_sites() == (1, 4)
    ids = [r.get("trace_id") for r in records()]
    assert ids == ["4bf92f3577b34da6a3ce929d0e0e4736"] * 3 + [None] * 3


def test_sites_are_made_again_for_a_new_runtime(records, tmp_path):
    log = ringlog.get_logger("again")
    for i in range(3):
        log.info("r", i=i)
    assert [r["i"] for r in records()] == [0, 1, 2]
    ringlog.shutdown()
    (tmp_path / "rings2").mkdir(mode=0o700)
    out2 = tmp_path / "out2.log"
    ringlog.configure({"ring_dir": str(tmp_path / "rings2"), "sinks": {"o": {"type": "file", "path": str(out2)}}})
    for i in range(3, 6):
        log.info("r", i=i)
    ringlog.flush(5)
    import json

    assert [json.loads(line)["i"] for line in out2.read_text().splitlines()] == [3, 4, 5]
    assert log._direct_sites() == (1, 1)


def test_a_message_with_lone_surrogates_and_keys_from_a_mapping(records):
    log = ringlog.get_logger("odd")
    for i in range(3):
        log.info("bad \ud800 text", i=i)
    fields = {"a": 1, "b": "x"}
    for i in range(3):
        log.info("mapped", **fields)
    # A `**mapping` call makes a new keyword-name tuple each time: it never
    # matches a shape seen before, and takes the keyed path.
    assert log._direct_sites() == (1, 1)
    out = records()
    assert [r["msg"] for r in out[:3]] == ["bad \ufffd text"] * 3
    assert [(r["msg"], r["a"], r["b"]) for r in out[3:]] == [("mapped", 1, "x")] * 3


def test_a_logger_registers_at_most_32_sites(records):
    log = ringlog.get_logger("many")
    msgs = [f"message {i}" for i in range(40)]
    for m in msgs:
        # Twice in a row: seen, then registered while there is room.
        log.info(m, n=1)
        log.info(m, n=1)
    assert log._direct_sites() == (32, 0)
    for m in msgs:
        log.info(m, n=2)
    # The first 32 go through their sites, the other 8 are keyed.
    assert log._direct_sites() == (32, 32)
    out = records()
    assert len(out) == 120
    assert [r["msg"] for r in out] == [m for m in msgs for _ in (0, 1)] + msgs
    assert [r["n"] for r in out[80:]] == [2] * 40


def test_a_logger_whose_messages_are_all_new_stops_looking_for_shapes_for_a_while(records):
    log = ringlog.get_logger("churn")
    # Eight shapes fill the seen list; 64 more push one out each without
    # any being seen twice: the logger stops looking for 4096 records.
    for i in range(8 + 64):
        log.info(f"user {i}", i=i)
    for _ in range(3):
        log.info("constant", n=1)
    assert log._direct_sites() == (0, 0)
    for i in range(4096 - 3):
        log.info(f"again {i}", i=i)
    # The pause is over: a repeated call gets its site on its second record.
    for _ in range(3):
        log.info("constant", n=1)
    assert log._direct_sites() == (1, 1)
    out = records()
    assert len(out) == 72 + 3 + 4093 + 3
    assert [r["n"] for r in out if r["msg"] == "constant"] == [1] * 6


def test_an_evicted_shape_lets_go_of_its_message_at_once(records):
    # The level methods are raw entry points: a Python object they drop
    # must be released then, not queued until pyo3's own wrappers next run.
    log = ringlog.get_logger("evict")
    m = "".join(["made ", "once"])
    base = sys.getrefcount(m)
    log.info(m, k=1)
    assert sys.getrefcount(m) == base + 1  # seen once: the logger holds it
    for i in range(8):
        log.info(f"other {i}", k=1)
    assert sys.getrefcount(m) == base
    assert len(records()) == 9
