"""ringlog.Handler: the stdlib logging mapping."""

from __future__ import annotations

import logging
import sys

import pytest

import ringlog


def log_through(logger: logging.Logger, usual: logging.Handler, other: logging.Handler, msg: str) -> None:
    """Logs `msg` with `other` in place of the logger's `usual` handler."""
    logger.removeHandler(usual)
    logger.addHandler(other)
    try:
        logger.info(msg)
    finally:
        logger.removeHandler(other)
        logger.addHandler(usual)


@pytest.fixture
def stdlog(records):
    logger = logging.getLogger("stdlib.test")
    logger.handlers[:] = []
    logger.propagate = False
    handler = ringlog.Handler()
    logger.addHandler(handler)
    logger.setLevel(1)
    yield logger, handler
    logger.removeHandler(handler)


def test_message_args_name_extra_and_created(stdlog, records):
    logger, _ = stdlog
    logger.info("charged %s for %.2f", "u1", 12.5, extra={"order": 7, "tags": ["a"]})
    (r,) = records()
    assert r["msg"] == "charged u1 for 12.50"
    assert r["logger"] == "stdlib.test" and r["level"] == "info"
    assert r["order"] == 7 and r["tags"] == ["a"]
    for std in ("args", "levelno", "pathname", "created", "msecs", "thread"):
        assert std not in r or std == "thread"


def test_created_is_the_timestamp(stdlog, records):
    logger, _ = stdlog
    rec = logger.makeRecord("stdlib.test", logging.INFO, __file__, 1, "old", (), None)
    rec.created = 1_700_000_000.25
    logger.handle(rec)
    assert records()[0]["ts"].startswith("2023-11-14T22:13:20.25")


def test_levels_and_custom_levels_map_to_severities(stdlog, records):
    logger, _ = stdlog
    for n in (5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60):
        logger.log(n, "n%d" % n)
    got = [r["level"] for r in records()]
    assert got == [
        "trace3", "debug", "debug3", "info", "info3", "warn", "warn3", "error", "error3", "fatal", "fatal4",
    ]


def test_exc_info_becomes_an_exception_object(stdlog, records):
    logger, _ = stdlog
    try:
        {}["missing"]
    except KeyError:
        logger.exception("lookup failed")
    logger.error("no exc", exc_info=False)
    out = records()
    e = out[0]["exception"]
    assert out[0]["level"] == "error"
    assert e["type"] == "KeyError" and e["message"] == "'missing'"
    assert "Traceback (most recent call last)" in e["traceback"]
    assert "exception" not in out[1]


def test_stack_info_and_call_site(stdlog, records):
    logger, handler = stdlog
    handler.call_site = True
    logger.warning("here", stack_info=True)
    (r,) = records()
    assert r["stack_info"].startswith("Stack (most recent call last)")
    assert r["funcName"] == "test_stack_info_and_call_site"
    assert r["pathname"].endswith("test_handler.py") and isinstance(r["lineno"], int)


def test_errors_go_through_handle_error(stdlog, records, monkeypatch):
    logger, handler = stdlog
    seen = []
    monkeypatch.setattr(handler, "handleError", lambda record: seen.append(record))
    bad = logging.LogRecord("stdlib.test", logging.INFO, __file__, 1, "%d", ("not a number",), None)
    handler.handle(bad)
    logger.info("fine")
    assert len(seen) == 1
    assert [r["msg"] for r in records()] == ["fine"]


def test_records_below_the_runtime_level_are_skipped(tmp_path, stdlog, records):
    from conftest import config_for

    ringlog.configure(config_for(tmp_path, level="warn"))
    logger, _ = stdlog
    logger.info("skipped")
    logger.warning("kept")
    assert [r["msg"] for r in records()] == ["kept"]


def test_install_logging_routes_every_logger(records):
    root = logging.getLogger()
    old_level, old_handlers = root.level, list(root.handlers)
    try:
        h = ringlog.install_logging(level=logging.DEBUG)
        h2 = ringlog.install_logging(level=logging.DEBUG)
        assert h not in root.handlers and h2 in root.handlers
        logging.getLogger("thirdparty.lib").debug("from a library", extra={"k": "v"})
        (r,) = records()
        assert r["logger"] == "thirdparty.lib" and r["level"] == "debug" and r["k"] == "v"
    finally:
        root.handlers[:] = old_handlers
        root.setLevel(old_level)


def test_message_forms_and_record_subclasses(stdlog, records):
    logger, handler = stdlog

    class Shouting(logging.LogRecord):
        def getMessage(self) -> str:
            return super().getMessage().upper()

    logger.info(12345)
    logger.info("%s%%", "100")
    logger.info("no args %s")
    handler.handle(Shouting("stdlib.test", logging.INFO, __file__, 1, "quiet %s", ("please",), None))
    assert [r["msg"] for r in records()] == ["12345", "100%", "no args %s", "QUIET PLEASE"]


def test_exc_info_forms_and_key_collisions(stdlog, records):
    logger, _ = stdlog
    logger.error("type only", exc_info=(ValueError, None, None))
    try:
        raise OSError("disk")
    except OSError:
        logger.error("shadowed", exc_info=True, extra={"exception": "from extra", "n": 1})
    a, b = records()
    assert a["exception"] == {"type": "ValueError"}
    assert b["exception"]["type"] == "OSError" and b["exception"]["message"] == "disk"
    assert b["n"] == 1


def test_a_record_with_an_impossible_time_goes_through_handle_error(stdlog, records, monkeypatch):
    logger, handler = stdlog
    seen = []
    monkeypatch.setattr(handler, "handleError", lambda record: seen.append(record))
    rec = logger.makeRecord("stdlib.test", logging.INFO, __file__, 1, "when?", (), None)
    rec.created = float("nan")
    handler.handle(rec)
    assert seen == [rec] and records() == []


def test_filters_and_subclasses_keep_the_stdlib_behaviour(stdlog, records):
    logger, handler = stdlog
    handler.addFilter(lambda r: r.getMessage() != "drop me")
    logger.info("drop me")
    logger.info("keep me")
    handler.filters.clear()

    class Tagging(ringlog.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            record.tagged = True
            super().emit(record)

    sub = Tagging()
    assert "handle" not in vars(sub) and "handle" in vars(handler)
    log_through(logger, handler, sub, "through a subclass")
    out = records()
    assert [r["msg"] for r in out] == ["keep me", "through a subclass"]
    assert out[1]["tagged"] is True


def test_the_rust_handle_reads_filters_and_call_site_as_they_are_now(stdlog, records):
    logger, handler = stdlog
    # A list put in place of `filters`, and `call_site` switched on and
    # off, take effect on the next record.
    handler.filters = [lambda r: r.getMessage() != "drop me"]
    logger.info("drop me")
    handler.call_site = True
    logger.info("with the call site")
    handler.filters = []
    handler.call_site = False
    logger.info("drop me")

    class Properties(ringlog.Handler):
        # A property (a data descriptor) keeps the Python handle: an
        # instance attribute could not shadow it.
        @property
        def call_site(self) -> bool:
            return self._call_site

        @call_site.setter
        def call_site(self, v: bool) -> None:
            self._call_site = v

    class Default(ringlog.Handler):
        # A plain class-level default is shadowed by `__init__`'s instance
        # attribute: the Rust handle stays.
        call_site = True

    prop = Properties()
    assert "handle" not in vars(prop) and "handle" in vars(handler)
    assert "handle" in vars(Default())
    log_through(logger, handler, prop, "through a call_site property")
    out = records()
    assert [r["msg"] for r in out] == ["with the call site", "drop me", "through a call_site property"]
    assert out[0]["funcName"] == "test_the_rust_handle_reads_filters_and_call_site_as_they_are_now"
    assert "funcName" not in out[1]
    assert "funcName" not in out[2]


def test_the_rust_handle_follows_a_replaced_dict_and_reports_a_missing_call_site(stdlog, records, monkeypatch):
    logger, handler = stdlog
    handler.__dict__ = dict(handler.__dict__)
    handler.call_site = True
    logger.info("after the dict was replaced")
    errors: list[str] = []
    monkeypatch.setattr(handler, "handleError", lambda record: errors.append(record.getMessage()))
    del handler.call_site
    # As in `emit`: the AttributeError goes to handleError, not the caller.
    logger.info("without call_site")
    handler.call_site = False
    out = records()
    assert errors == ["without call_site"]
    assert [r["msg"] for r in out] == ["after the dict was replaced"]
    assert out[0]["funcName"] == "test_the_rust_handle_follows_a_replaced_dict_and_reports_a_missing_call_site"


def test_records_read_by_position_and_by_attribute_give_the_same_fields(stdlog, records):
    """A plain record is read by the position of its attributes in its
    __dict__; one whose __dict__ is laid out differently is read by
    attribute. Both must give the same record."""
    logger, handler = stdlog
    extra = {"user": "alice", "status": 200, "latency_ms": 12.5}
    # The usual record: extras after the attributes __init__ sets.
    logger.info("same %s", "text", extra=extra)
    # A formatter ran first (another handler): `message` and `asctime`
    # follow the extras and are not fields.
    rec = logger.makeRecord("stdlib.test", logging.INFO, __file__, 1, "same %s", ("text",), None, extra=extra)
    logging.Formatter("%(asctime)s %(message)s").format(rec)
    assert list(vars(rec))[-2:] == ["message", "asctime"]
    handler.handle(rec)
    # A standard attribute set again after a del: the layout differs.
    rec = logger.makeRecord("stdlib.test", logging.INFO, __file__, 1, "same %s", ("text",), None, extra=extra)
    msg = rec.msg
    del rec.msg
    rec.msg = msg
    handler.handle(rec)
    # Built from a dict, in the dict's order.
    d = dict(vars(logger.makeRecord("stdlib.test", logging.INFO, __file__, 1, "same %s", ("text",), None)))
    d = dict(reversed(list(d.items())))
    d.update(extra)
    handler.handle(logging.makeLogRecord(d))
    # A record at another level and with no extras, through both ways.
    logger.warning("plain")
    rec = logger.makeRecord("stdlib.test", logging.WARNING, __file__, 1, "plain", (), None)
    rec.__dict__ = dict(reversed(list(vars(rec).items())))
    handler.handle(rec)
    out = records()
    assert len(out) == 6
    first = {k: v for k, v in out[0].items() if k not in ("ts", "seq")}
    assert first["msg"] == "same text" and first["user"] == "alice"
    assert "message" not in first and "asctime" not in first
    for r in out[1:4]:
        assert {k: v for k, v in r.items() if k not in ("ts", "seq")} == first
    assert [(r["msg"], r["level"]) for r in out[4:]] == [("plain", "warn")] * 2
    assert set(out[4]) == set(out[5])


def test_repeated_records_go_through_a_site_and_read_the_same(stdlog, records):
    logger, handler = stdlog

    def call(**extra):
        logger.info("request handled", extra=extra)

    for _ in range(4):
        call(user="al\u00efce\n", status=200, latency_ms=12.5, ok=True)
    # Seen once, registered on the second record, used by the last two.
    assert handler._loggers["stdlib.test"]._direct_sites() == (1, 2)
    # Records the site path leaves to the keyed path: each is written whole.
    call(user="al\udcffice", status=200, latency_ms=12.5, ok=True)
    logger.info("request %s", "handled", extra={"user": "bob"})
    logger.info("request handled", extra={"user": ["a", 1]})
    logger.info("request handled", exc_info=ValueError("boom"), extra={"user": "x"})
    logger.info("request handled", stack_info=True, extra={"user": "y"})
    handler.call_site = True
    logger.info("request handled", extra={"user": "z"})
    handler.call_site = False
    assert handler._loggers["stdlib.test"]._direct_sites() == (1, 2)
    out = records()
    assert len(out) == 10
    for r in out[1:4]:
        assert {k: v for k, v in r.items() if k not in ("ts", "seq")} == {
            k: v for k, v in out[0].items() if k not in ("ts", "seq")
        }
    assert out[3]["user"] == "al\u00efce\n" and out[3]["status"] == 200 and out[3]["ok"] is True
    # A lone surrogate is not UTF-8: the keyed path writes a replacement.
    assert out[4]["user"] == "al\ufffdice" and out[4]["status"] == 200
    assert out[5]["msg"] == "request handled" and out[5]["user"] == "bob"
    assert out[6]["user"] == ["a", 1]
    assert out[7]["exception"]["type"] == "ValueError"
    assert "stack_info" in out[8]
    assert out[9]["funcName"] == "test_repeated_records_go_through_a_site_and_read_the_same"


def test_a_site_record_keeps_the_records_created_time_and_level(stdlog, records):
    logger, handler = stdlog
    for i, created in enumerate([1700000000.25, 1700000001.5, 1700000002.75]):
        for level in (logging.INFO, logging.ERROR):
            rec = logger.makeRecord("stdlib.test", level, __file__, 1, "made before", (), None, extra={"i": i})
            rec.created = created
            handler.handle(rec)
    assert handler._loggers["stdlib.test"]._direct_sites() == (2, 2)
    out = records()
    assert [r["ts"] for r in out] == [
        "2023-11-14T22:13:20.250000000Z",
        "2023-11-14T22:13:20.250000000Z",
        "2023-11-14T22:13:21.500000000Z",
        "2023-11-14T22:13:21.500000000Z",
        "2023-11-14T22:13:22.750000000Z",
        "2023-11-14T22:13:22.750000000Z",
    ]
    assert [(r["level"], r["i"]) for r in out] == [
        ("info", 0), ("error", 0), ("info", 1), ("error", 1), ("info", 2), ("error", 2)
    ]


def test_records_unlike_a_registered_shape_leave_the_fast_path_whole(stdlog, records):
    """Once a shape has a site, `handle` writes its records without looking
    anything up; every record that differs from it in a way that matters
    must still come out as the usual path writes it."""
    logger, handler = stdlog
    extra = {"user": "alice", "status": 200}

    def make(msg="request handled", args=(), exc=None, **kw):
        return logger.makeRecord("stdlib.test", logging.INFO, __file__, 1, msg, args, exc, "f", kw or extra)

    # Seen once, registered on the second record, the last two written
    # through the site without a lookup.
    for _ in range(4):
        handler.handle(make())
    assert handler._loggers["stdlib.test"]._direct_sites() == (1, 2)
    # A formatter ran first: `message` and `asctime` follow the extras.
    rec = make()
    logging.Formatter("%(asctime)s %(message)s").format(rec)
    handler.handle(rec)
    # A standard attribute deleted (the later entries move up), and one
    # deleted and set again (it moves after the extras).
    rec = make()
    del rec.funcName
    handler.handle(rec)
    rec = make()
    msg = rec.msg
    del rec.msg
    rec.msg = msg
    handler.handle(rec)
    # Two earlier attributes deleted and the last one `__init__` sets
    # deleted and set again, then the dict grown and shrunk (a resize packs
    # its entries): the last is back at its place, with the extras before.
    rec = make()
    last = list(vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None)))[-1]
    value = getattr(rec, last)
    del rec.msecs
    del rec.relativeCreated
    delattr(rec, last)
    setattr(rec, last, value)
    for i in range(64):
        setattr(rec, f"pad{i}", i)
    for i in range(64):
        delattr(rec, f"pad{i}")
    assert list(vars(rec))[-3:] == ["user", "status", last]
    handler.handle(rec)
    # Arguments, an exception, another value kind, an int past 64 bits.
    handler.handle(make("request %s", ("handled",)))
    handler.handle(make(exc=(ValueError, ValueError("boom"), None)))
    handler.handle(make(user="alice", status="200"))
    handler.handle(make(user="alice", status=2**70))
    # A filter, then the call site, switched on after the site was made.
    handler.addFilter(lambda r: False)
    handler.handle(make())
    handler.filters.clear()
    handler.call_site = True
    handler.handle(make())
    handler.call_site = False
    # The same logger name as another object.
    rec = make()
    rec.name = "".join(["stdlib", ".test"])
    handler.handle(rec)
    # The message object of a registered shape, now with arguments.
    for args in ((), (), ("x",)):
        handler.handle(make("done %s", args))
    # Wrong arguments raise as a Python method's would.
    with pytest.raises(TypeError):
        handler.handle()
    out = [{k: v for k, v in r.items() if k not in ("ts", "seq")} for r in records()]
    assert [r["msg"] for r in out[14:]] == ["done %s", "done %s", "done x"]
    out = out[:14]
    usual = out[0]
    assert usual["msg"] == "request handled" and usual["user"] == "alice" and usual["status"] == 200
    assert set(usual) == {"level", "logger", "msg", "user", "status", "thread", "ring"}
    for i in (1, 2, 3, 4, 5, 6, 7, 8, 13):
        assert out[i] == usual, i
    assert out[9]["exception"]["type"] == "ValueError"
    assert {k: v for k, v in out[9].items() if k != "exception"} == usual
    assert out[10]["status"] == "200" and out[11]["status"] == str(2**70)
    assert out[12]["funcName"] == "f" and out[12]["lineno"] == 1
    # Through the site: the formatted record, the one without funcName,
    # the one with msg set again, the one with two attributes moved, and
    # the one with another name object
    # (the usual path each time, which found the site); the others took
    # the keyed path, and the shape with a str status was seen only once
    # ("done %s" made the second site).
    assert handler._loggers["stdlib.test"]._direct_sites() == (2, 7)


def test_the_handler_lets_go_of_an_evicted_shape_at_once(stdlog, records):
    logger, handler = stdlog
    m = "".join(["made ", "once"])
    rec = logger.makeRecord("stdlib.test", logging.INFO, __file__, 1, m, (), None, "f", {"k": 1})
    handler.handle(rec)
    del rec
    base = sys.getrefcount(m)
    for i in range(8):
        logger.info(f"other {i}", extra={"k": 1})
    # Pushed out of the logger's shapes seen once: released then, not
    # queued until pyo3's own wrappers next run.
    assert sys.getrefcount(m) == base - 1
    assert len(records()) == 9


def test_names_are_remembered_only_for_records_written_through_a_site(stdlog, records):
    logger, handler = stdlog
    handle = handler.handle.__self__
    # Records rebuilt elsewhere (unpickled from a queue, say): a new name
    # object and a new message each time, never a site.
    for i in range(20):
        rec = logging.makeLogRecord(
            {"name": "".join(["stdlib", ".test"]), "msg": f"rebuilt {i}", "levelno": 20, "levelname": "INFO"}
        )
        handler.handle(rec)
    assert handle._remembered() == 0
    for _ in range(3):
        logger.info("from here", extra={"k": 1})
    assert handle._remembered() == 1
    out = records()
    assert [r["msg"] for r in out] == [f"rebuilt {i}" for i in range(20)] + ["from here"] * 3


def test_logging_while_the_interpreter_finalizes_raises_nothing_and_is_written(tmp_path):
    # A __del__ run by the final collection logs through paths that leave
    # the fast path (a record with args, a direct keyed call):
    # nothing may escape, and the records are still written.
    from conftest import read_records, run_script

    done = run_script(
        tmp_path,
        """
        import logging, sys
        import ringlog
        lg = logging.getLogger("fin")
        lg.setLevel(logging.INFO)
        lg.propagate = False
        lg.addHandler(ringlog.Handler())
        d = ringlog.get_logger("fin.direct")
        # As in a program that logged before it ends (a first record at
        # finalization may find the modules it needs already gone, and is
        # then reported through handleError, as the stdlib's would be).
        lg.info("started")
        err = sys.stderr
        class C:
            def __del__(self):
                try:
                    lg.info("closing %s", "conn")
                    d.info("bye", items=[1])
                except BaseException as e:
                    print("ESCAPED", repr(e), file=err)
        c = C()
        c.self = c
        """,
    )
    assert done.returncode == 0, done.stderr
    assert "ESCAPED" not in done.stderr and "panicked" not in done.stderr, done.stderr
    got = {r["msg"]: r for r in read_records(tmp_path / "out.log")}
    assert "closing conn" in got and got["bye"]["items"] == [1], got


def test_emit_or_filter_set_on_the_instance_is_honoured(stdlog, records):
    logger, handler = stdlog
    for _ in range(3):  # the shape's site exists: the fast path would take it
        logger.info("seen", extra={"n": 1})
    seen = []
    handler.emit = seen.append
    logger.info("seen", extra={"n": 2})
    del handler.emit
    handler.filter = lambda r: False
    logger.info("seen", extra={"n": 3})
    del handler.filter
    logger.info("seen", extra={"n": 4})
    assert [r.n for r in seen] == [2]
    assert [r["n"] for r in records()] == [1, 1, 1, 4]


def test_an_overriding_emit_runs_under_the_handler_lock(stdlog, records):
    logger, usual = stdlog
    owned = []

    class Sub(ringlog.Handler):
        def emit(self, record):
            owned.append(self.lock._is_owned())
            super().emit(record)

    log_through(logger, usual, Sub(), "locked")
    assert owned == [True]
    assert [r["msg"] for r in records()] == ["locked"]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="taskName is a LogRecord attribute from 3.12")
def test_task_name_is_an_extra_key_before_3_12(stdlog, records):
    logger, _ = stdlog
    logger.info("task", extra={"taskName": "t1"})
    assert records()[0]["taskName"] == "t1"


def test_levels_beyond_64_bits_are_the_highest_or_lowest(stdlog, records):
    logger, handler = stdlog
    errors = []
    handler.handleError = lambda r: errors.append(sys.exc_info()[1])
    for n in (2**62, 2**70):
        logger.log(n, "huge")
    rec = logger.makeRecord("stdlib.test", logging.INFO, __file__, 1, "tiny", (), None)
    rec.levelno = -(2**70)
    handler.handle(rec)
    assert errors == []
    assert [r["level"] for r in records()] == ["fatal4", "fatal4", "trace"]


def test_a_key_whose_hash_changes_the_record_is_written_without_error(stdlog, records):
    logger, handler = stdlog
    errors = []
    handler.handleError = lambda r: errors.append(sys.exc_info()[1])
    current = []

    class Key(str):
        def __hash__(self):
            if current:
                current[0].__dict__["late%d" % len(current[0].__dict__)] = 1
            return str.__hash__(self)

        def __eq__(self, other):
            return str.__eq__(self, other)

    rec = logger.makeRecord("stdlib.test", logging.INFO, __file__, 1, "odd key", (), None)
    rec.__dict__[Key("weird")] = 1
    current.append(rec)
    handler.handle(rec)  # must not raise
    current.clear()
    got = records()
    assert errors == [] and len(got) == 1 and got[0]["weird"] == 1, (errors, got)


def test_handle_returns_what_the_stdlibs_handle_returns(stdlog, records):
    import io

    logger, handler = stdlog
    for i in range(4):  # the usual path, then the fast one
        rec = logger.makeRecord("stdlib.test", logging.INFO, __file__, 1, "ret", (), None, extra={"i": i})
        expected = logging.StreamHandler(io.StringIO()).handle(rec)
        got = handler.handle(rec)
        assert (got is rec) == (expected is rec) and got, (i, got, expected)
    assert len(records()) == 4


def test_a_patched_get_message_is_called_for_every_record(stdlog, records, monkeypatch):
    logger, _ = stdlog
    for _ in range(3):  # the shape's site exists: the fast path would take it
        logger.info("plain", extra={"n": 1})
    stock = logging.LogRecord.getMessage
    monkeypatch.setattr(logging.LogRecord, "getMessage", lambda self: "P:" + stock(self))
    logger.info("plain", extra={"n": 2})
    logger.info("with %s", "args")
    monkeypatch.undo()
    logger.info("plain", extra={"n": 3})
    got = [r["msg"] for r in records()]
    assert got == ["plain"] * 3 + ["P:plain", "P:with args", "plain"]


def test_exception_text_without_exc_info_is_written(stdlog, records):
    # A record rebuilt from a pickled one (SocketHandler, QueueHandler in
    # another process) carries its traceback only as exc_text.
    _, handler = stdlog
    text = "Traceback (most recent call last):\nValueError: x"
    for _ in range(3):
        rec = logging.makeLogRecord(
            {"name": "stdlib.test", "msg": "remote failure", "levelno": logging.ERROR, "exc_text": text}
        )
        handler.handle(rec)
    got = records()
    assert len(got) == 3
    assert all(r["exception"] == {"traceback": text} for r in got), got


def test_an_error_made_in_rust_at_finalization_goes_to_handle_error(tmp_path):
    # The runtime cannot start (its ring directory cannot be made), so
    # every record fails with an error made in Rust, also the one logged
    # from a __del__ at finalization: handleError reports it, nothing
    # escapes.
    from conftest import run_script

    done = run_script(
        tmp_path,
        """
        import json, os, sys
        cfg = json.loads(os.environ["RINGLOG_CONFIG"])
        cfg["ring_dir"] = "/proc/no-such-dir/rings"
        os.environ["RINGLOG_CONFIG"] = json.dumps(cfg)
        import logging
        import ringlog
        lg = logging.getLogger("fin")
        lg.setLevel(logging.INFO)
        lg.propagate = False
        lg.addHandler(ringlog.Handler())
        lg.info("started")
        err = sys.stderr
        class C:
            def __del__(self):
                try:
                    lg.info("closing")
                    print("NOTHING ESCAPED", file=err)
                except BaseException as e:
                    print("ESCAPED", type(e).__name__, file=err)
        c = C()
        c.self = c
        """,
    )
    assert done.returncode == 0, done.stderr
    assert "NOTHING ESCAPED" in done.stderr and "ESCAPED " not in done.stderr, done.stderr
    assert done.stderr.count("--- Logging error ---") == 2, done.stderr


def test_a_get_message_patched_with_wraps_before_the_first_record_is_called(tmp_path):
    from conftest import read_records, run_script

    done = run_script(
        tmp_path,
        """
        import functools, logging
        stock = logging.LogRecord.getMessage
        @functools.wraps(stock)
        def redacting(self):
            return stock(self).replace("secret", "***")
        logging.LogRecord.getMessage = redacting
        import ringlog
        lg = logging.getLogger("wraps")
        lg.setLevel(logging.INFO)
        lg.propagate = False
        lg.addHandler(ringlog.Handler())
        for i in range(3):
            lg.info("password secret", extra={"n": i})
        lg.info("with %s", "secret")
        """,
    )
    assert done.returncode == 0, done.stderr
    got = [r["msg"] for r in read_records(tmp_path / "out.log")]
    assert got == ["password ***"] * 3 + ["with ***"], got
