"""The direct API: levels, child loggers, flush, stats, shutdown."""

from __future__ import annotations

import pytest

import ringlog


def test_each_level_method_writes_its_severity(records):
    log = ringlog.get_logger("payments")
    log.trace("t")
    log.debug("d")
    log.info("charge ok", amount=12.5, user="u1")
    log.warning("w")
    log.warn("w2")
    log.error("e")
    log.critical("c")
    log.fatal("f")
    log.log("info3", "custom")
    log.log(14, "numbered")
    out = records()
    assert [r["level"] for r in out] == [
        "trace", "debug", "info", "warn", "warn", "error", "fatal", "fatal", "info3", "warn2",
    ]
    assert all(r["logger"] == "payments" for r in out)
    assert out[2]["msg"] == "charge ok"
    assert out[2]["amount"] == 12.5 and out[2]["user"] == "u1"


def test_a_field_may_be_called_msg_or_level(records):
    ringlog.get_logger("x").info("m", msg="field", level="also a field")
    (r,) = records()
    assert r["msg"] == "m" and r["msg#2"] == "field" and r["level#2"] == "also a field"


def test_bind_makes_a_child_whose_fields_come_first(records):
    log = ringlog.get_logger("http")
    req = log.bind(request_id="r-42", attempt=1)
    sub = req.bind(user="alice")
    sub.info("handled", status=200)
    log.info("parent")
    out = records()
    assert list(out[0])[4:8] == ["request_id", "attempt", "user", "status"]
    assert out[0]["request_id"] == "r-42" and out[0]["status"] == 200
    assert "request_id" not in out[1]


def test_a_call_below_the_level_returns_before_converting_anything(tmp_path, records):
    from conftest import config_for

    ringlog.configure(config_for(tmp_path, level="warn"))
    log = ringlog.get_logger("quiet")

    class Loud:
        def __repr__(self) -> str:
            raise AssertionError("converted a record below the level")

    log.info("skipped", v=Loud())
    log.debug("skipped")
    assert not log.is_enabled("info")
    assert log.is_enabled("warning") and log.is_enabled(17)
    log.warning("kept")
    assert [r["msg"] for r in records()] == ["kept"]
    assert ringlog.stats()["logged"] == 1


def test_reconfigure_changes_levels_at_run_time(records):
    log = ringlog.get_logger("payments")
    child = log.bind(req="r-1")
    # A record shape seen twice goes through a call site: it must follow
    # the new levels as the keyed path does.
    for _ in range(3):
        log.info("shaped", n=1)
    ringlog.reconfigure({"level": "warn"})
    assert not log.is_enabled("info") and not child.is_enabled("info")
    log.info("shaped", n=2)
    child.info("hidden")
    log.warning("kept", n=3)
    # JSON text, a per-prefix level that reopens one logger, children too.
    ringlog.reconfigure('{"levels": {"payments": "debug"}}')
    log.debug("debug again")
    child.info("child again")
    ringlog.get_logger("other").info("still hidden")
    # A sink's own level, which applies when the flusher writes: what was
    # logged before is written first.
    ringlog.flush()
    ringlog.reconfigure({"sinks": {"out": {"level": "error"}}})
    log.warning("below the sink")
    log.error("at the sink")
    msgs = [r["msg"] for r in records()]
    assert msgs == ["shaped"] * 3 + ["kept", "debug again", "child again", "at the sink"]
    # A record below every sink's level is skipped at the call, as one
    # below the logger's level is.
    assert not log.is_enabled("warning")
    st = ringlog.stats()
    assert st["logged"] == st["written"] == len(msgs)


def test_reconfigure_refuses_what_cannot_change_and_names_the_key(records):
    log = ringlog.get_logger("api")
    with pytest.raises(ringlog.RinglogError, match="sinks.nope"):
        ringlog.reconfigure({"sinks": {"nope": {"level": "info"}}})
    with pytest.raises(ringlog.RinglogError, match="ring_capacity"):
        ringlog.reconfigure({"ring_capacity": 65536})
    with pytest.raises(ringlog.RinglogError, match="level"):
        ringlog.reconfigure({"level": "loud"})
    with pytest.raises(ringlog.RinglogError):
        ringlog.reconfigure("not json")
    with pytest.raises(TypeError):
        ringlog.reconfigure(42)  # type: ignore[arg-type]
    # Nothing changed and nothing was lost.
    log.trace("still at trace")
    assert [r["msg"] for r in records()] == ["still at trace"]


def test_per_logger_levels_apply(tmp_path, records):
    from conftest import config_for

    ringlog.configure(config_for(tmp_path, level="info", levels={"db": "error"}))
    ringlog.get_logger("db.pool").warning("hidden")
    ringlog.get_logger("api").warning("shown")
    assert [r["msg"] for r in records()] == ["shown"]


def test_exception_adds_the_current_exception(records):
    log = ringlog.get_logger("x")
    try:
        raise ValueError("bad amount")
    except ValueError:
        log.exception("charge failed", order=7)
    log.exception("no exception now")
    out = records()
    exc = out[0]["exception"]
    assert out[0]["level"] == "error" and out[0]["order"] == 7
    assert exc["type"] == "ValueError" and exc["message"] == "bad amount"
    assert "Traceback" in exc["traceback"] and "bad amount" in exc["traceback"]
    assert "exception" not in out[1]


def test_loggers_made_before_configure_use_the_configured_runtime(tmp_path, monkeypatch):
    from conftest import config_for, read_records

    monkeypatch.delenv("RINGLOG_CONFIG", raising=False)
    early = ringlog.get_logger("early")
    (tmp_path / "rings").mkdir(mode=0o700)
    ringlog.configure(config_for(tmp_path))
    early.info("after configure")
    ringlog.flush()
    assert [r["msg"] for r in read_records(tmp_path / "out.log")] == ["after configure"]
    second = tmp_path / "second"
    (second / "rings").mkdir(parents=True, mode=0o700)
    ringlog.configure(config_for(second))
    early.info("moved")
    ringlog.shutdown()
    assert [r["msg"] for r in read_records(second / "out.log")] == ["moved"]


def test_configure_accepts_json_text_and_names_a_bad_key(tmp_path, records):
    import json

    from conftest import config_for, read_records

    other = tmp_path / "text"
    (other / "rings").mkdir(parents=True, mode=0o700)
    ringlog.configure(json.dumps(config_for(other)))
    ringlog.get_logger("t").info("from text")
    ringlog.flush()
    assert read_records(other / "out.log")[0]["msg"] == "from text"
    with pytest.raises(ringlog.RinglogError, match="level"):
        ringlog.configure({"level": "loud"})
    with pytest.raises(TypeError):
        ringlog.configure(42)  # type: ignore[arg-type]


def test_logging_after_shutdown_is_refused_and_counted(records):
    log = ringlog.get_logger("x")
    log.info("before")
    ringlog.shutdown()
    log.info("after")
    ringlog.get_logger("new").info("after too")
    ringlog.flush()
    s = ringlog.stats()
    assert s["written"] == 1 and s["rejected_shutdown"] == 2
    ringlog.shutdown()


def test_stats_count_what_was_logged_and_written(records):
    log = ringlog.get_logger("x")
    for i in range(100):
        log.info("n", i=i)
    out = records()
    s = ringlog.stats()
    assert len(out) == 100 and [r["i"] for r in out] == list(range(100))
    assert s["logged"] == 100 and s["written"] == 100 and s["dropped_full"] == 0


def test_bad_levels_raise(records):
    log = ringlog.get_logger("x")
    with pytest.raises(ValueError):
        log.log(0, "m")
    with pytest.raises(ValueError):
        log.log("loud", "m")
    with pytest.raises(TypeError):
        log.is_enabled(None)
    with pytest.raises(ValueError):
        ringlog.flush(-1)


def test_stdlib_severity_maps_levels_proportionally():
    m = ringlog.stdlib_severity
    assert [m(n) for n in (10, 20, 30, 40, 50)] == [5, 9, 13, 17, 21]
    assert m(25) == 11 and m(5) == 3 and m(0) == 1 and m(1000) == 24
