"""Every value type, checked by parsing the JSON output."""

from __future__ import annotations

import datetime
import decimal
import enum
import math
import uuid

import ringlog


class Color(enum.Enum):
    RED = "red"


class Num(enum.IntEnum):
    ONE = 1


def one(records, **fields):
    ringlog.get_logger("v").info("m", **fields)
    (r,) = records()
    return r


def test_scalars(records):
    r = one(records, s="text", i=-5, b=True, f=False, n=None, x=2.5, by=b"\x00\xff", ba=bytearray(b"ab"))
    assert r["s"] == "text" and r["i"] == -5 and r["b"] is True and r["f"] is False
    assert r["n"] is None and r["x"] == 2.5
    assert r["by"] == "AP8=" and r["ba"] == "YWI="


def test_integers_beyond_64_bits_are_written_as_text(records):
    r = one(records, u=2**64 - 1, big=2**70, neg=-(2**70), low=-(2**63))
    assert r["u"] == 2**64 - 1 and r["low"] == -(2**63)
    assert r["big"] == str(2**70) and r["neg"] == str(-(2**70))


def test_nan_and_infinities_are_written_as_strings(records):
    r = one(records, nan=math.nan, inf=math.inf, ninf=-math.inf)
    assert (r["nan"], r["inf"], r["ninf"]) == ("NaN", "Infinity", "-Infinity")


def test_dates_decimals_uuids_and_enums(records):
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    aware = datetime.datetime(2025, 1, 2, 3, 4, 5, 600000, tzinfo=datetime.timezone.utc)
    r = one(
        records,
        dt=aware,
        d=datetime.date(2025, 1, 2),
        t=datetime.time(3, 4, 5),
        dec=decimal.Decimal("12.50"),
        u=u,
        c=Color.RED,
        n=Num.ONE,
    )
    assert r["dt"] == "2025-01-02T03:04:05.600000+00:00"
    assert r["d"] == "2025-01-02" and r["t"] == "03:04:05"
    assert r["dec"] == "12.50" and r["u"] == str(u)
    assert r["c"] == "red" and r["n"] == 1


def test_dicts_are_nested_objects_and_sequences_arrays(records):
    r = one(
        records,
        d={"a": 1, "b": {"c": [1, "x"]}, 3: "int key"},
        l=[1, 2.5, None, {"k": True}, [b"\x00", float("nan")]],
        t=(1, 2),
        s={7},
        e=[],
    )
    assert r["d"]["a"] == 1 and r["d"]["3"] == "int key"
    assert r["d"]["b"]["c"] == [1, "x"]
    assert r["l"] == [1, 2.5, None, {"k": True}, ["AA==", "NaN"]]
    assert r["t"] == [1, 2] and r["s"] == [7] and r["e"] == []


def test_circular_structures_never_hang(records):
    lst: list = [1]
    lst.append(lst)
    d: dict = {"k": 1}
    d["self"] = d
    deep: list = []
    cur = deep
    for _ in range(1000):
        nxt: list = []
        cur.append(nxt)
        cur = nxt
    r = one(records, lst=lst, d=d, deep=deep)
    assert r["lst"] == [1, "<circular>"]
    assert r["d"]["k"] == 1 and r["d"]["self"] == "<circular>"
    # Nesting stops at a fixed depth, where the rest is written as text
    # (its repr, or a marker when even repr gives up on the depth).
    level, depth = r["deep"], 0
    while isinstance(level, list):
        assert len(level) == 1
        level, depth = level[0], depth + 1
    assert isinstance(level, str) and 8 <= depth <= 32
    assert level.startswith("[[") or level == "<unrepresentable list>"


def test_other_objects_use_repr_or_the_default(records):
    class Point:
        def __init__(self) -> None:
            self.x, self.y = 1, 2

        def __repr__(self) -> str:
            return "Point(1, 2)"

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    log = ringlog.get_logger("v")
    log.info("repr", p=Point(), b=Broken())
    ringlog.set_default(lambda o: vars(o) if isinstance(o, Point) else str(type(o).__name__))
    try:
        log.info("default", p=Point(), b=Broken())
    finally:
        ringlog.set_default(None)
    first, second = records()
    assert first["p"] == "Point(1, 2)" and first["b"] == "<unrepresentable Broken>"
    assert second["p"] == {"x": 1, "y": 2} and second["b"] == "Broken"


def test_a_default_that_raises_falls_back_to_repr(records):
    def bad(o):
        raise ValueError("nope")

    ringlog.set_default(bad)
    try:
        r = one(records, o=object())
    finally:
        ringlog.set_default(None)
    assert r["o"].startswith("<object object at")


def test_lone_surrogates_are_replaced_and_control_characters_escaped(records):
    log = ringlog.get_logger("v")
    log.info("bad \ud800 msg", s="a\udfffb", k="line\nbreak\x1b")
    (r,) = records()
    assert r["msg"] == "bad \ufffd msg" and r["s"] == "a\ufffdb"
    assert r["k"] == "line\nbreak\x1b"


def test_non_string_messages_are_written_with_str(records):
    ringlog.get_logger("v").info(12345)
    assert records()[0]["msg"] == "12345"


def test_huge_strings_are_written_or_refused_and_counted(records):
    log = ringlog.get_logger("v")
    log.info("big", s="x" * 100_000)
    log.info("too big for the ring", s="y" * 4_000_000)
    out = records()
    assert out[0]["s"] == "x" * 100_000
    assert len(out) == 1
    assert ringlog.stats()["rejected_too_large"] == 1


def test_exceptions_as_values_become_objects(records):
    r = one(records, err=KeyError("k"))
    assert r["err"]["type"] == "KeyError" and r["err"]["message"] == "'k'"
