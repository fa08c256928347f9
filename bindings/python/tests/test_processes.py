"""Processes and exit: multiprocessing children, interpreter exit paths,
and recovery of a SIGKILLed process's records."""

from __future__ import annotations

import json
import multiprocessing
import signal

import pytest

import ringlog
from conftest import config_for, read_records, run_script


def child_work(n: int) -> None:
    log = ringlog.get_logger("child")
    for i in range(n):
        log.info("from child", i=i)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_children_records_arrive(records, method):
    ringlog.get_logger("parent").info("before")
    ctx = multiprocessing.get_context(method)
    procs = [ctx.Process(target=child_work, args=(200,)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    ringlog.get_logger("parent").info("after")
    out = records()
    children = [r for r in out if r["logger"] == "child"]
    assert len(children) == 600
    assert sorted(r["i"] for r in children) == sorted(list(range(200)) * 3)
    assert [r["msg"] for r in out if r["logger"] == "parent"] == ["before", "after"]


def test_a_multiprocessing_pool_with_fork_loses_nothing(records):
    # close() + join() lets the workers exit normally (their exit
    # finalizers shut ringlog down and write everything). Leaving the
    # `with` block alone calls terminate(), which kills the workers with
    # SIGTERM: what they had not written yet stays in their rings and
    # comes back at the next start, like any killed process's records.
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(child_work, [50] * 4)
        pool.close()
        pool.join()
    assert len([r for r in records() if r["logger"] == "child"]) == 200


EXIT_BODY = """
import sys, threading, ringlog
log = ringlog.get_logger("exit")
def worker():
    for i in range(500):
        log.info("thread", i=i)
t = threading.Thread(target=worker)
t.start(); t.join()
for i in range(500):
    log.info("main", i=i)
log.bind(last=True).warning("last")
{ending}
"""


@pytest.mark.parametrize(
    "ending,code",
    [
        ("", 0),
        ("sys.exit(3)", 3),
        ("raise RuntimeError('unhandled')", 1),
        ("import atexit; atexit.register(lambda: log.info('from atexit'))", 0),
    ],
    ids=["normal", "sys_exit", "unhandled_exception", "atexit_handler"],
)
def test_every_record_is_written_at_interpreter_exit(tmp_path, ending, code):
    proc = run_script(tmp_path, EXIT_BODY.format(ending=ending))
    assert proc.returncode == code, proc.stderr
    out = read_records(tmp_path / "out.log")
    msgs = [r["msg"] for r in out]
    assert msgs.count("thread") == 500 and msgs.count("main") == 500
    assert "last" in msgs
    if "atexit" in ending:
        assert msgs[-1] == "from atexit"


def kill_after_logging(tmp_path, n: int, **cfg_extra) -> None:
    """Runs a child that logs `n` records as logger "killed" (bound
    run=1) with a flusher that stays asleep, then SIGKILLs itself, so the
    records are left in its rings."""
    cfg = config_for(tmp_path, flush_interval_ms=60000, idle_interval_ms=60000, **cfg_extra)
    body = f"""
import os, signal, time, ringlog
ringlog.configure({json.dumps(cfg)!r})
log = ringlog.get_logger("killed").bind(run=1)
# The runtime starts on the first record: one is logged and flushed, so
# the flusher sleeps its minute, not idle (the next record would wake an
# idle one); the pause lets any wake-up the flush leaves behind pass.
ringlog.get_logger("warm").info("warm-up")
ringlog.flush(10)
time.sleep(0.2)
for i in range({n}):
    log.info("before kill", i=i)
os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = run_script(tmp_path, body)
    assert proc.returncode == -signal.SIGKILL


def test_levels_changed_at_run_time_carry_into_a_fork_child(records):
    import os

    ringlog.reconfigure({"level": "warn"})
    log = ringlog.get_logger("kid")
    pid = os.fork()
    if pid == 0:
        # The child starts its own runtime on its first record, from the
        # parent's configuration and its level changes.
        code = 0
        try:
            log.info("child info")
            log.warning("child warning")
            code = 0 if not log.is_enabled("info") else 3
            ringlog.shutdown()
        except BaseException:
            code = 4
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    log.info("parent info")
    log.warning("parent warning")
    msgs = sorted(r["msg"] for r in records())
    assert msgs == ["child warning", "parent warning"]


def test_a_killed_process_records_are_recovered_at_the_next_start(tmp_path, monkeypatch):
    monkeypatch.delenv("RINGLOG_CONFIG", raising=False)
    kill_after_logging(tmp_path, 300)
    ringlog.configure(config_for(tmp_path))
    try:
        ringlog.flush()
        out = [r for r in read_records(tmp_path / "out.log") if r["logger"] == "killed"]
        assert sorted({r["i"] for r in out}) == list(range(300))
        recovered = [r for r in out if r.get("recovered")]
        assert recovered and all(r["run"] == 1 for r in recovered)
        assert ringlog.stats()["recovered"] == len(recovered)
    finally:
        ringlog.shutdown()


def test_recover_writes_a_dead_instances_records_on_demand(tmp_path, monkeypatch):
    monkeypatch.delenv("RINGLOG_CONFIG", raising=False)
    dead = tmp_path / "dead-rings"
    dead.mkdir(mode=0o700)
    kill_after_logging(tmp_path, 200, ring_dir=str(dead))
    # This process runs on its own ring directory, so nothing is recovered
    # at its start; recover() is asked for the dead one's.
    ringlog.configure(config_for(tmp_path))
    try:
        before = ringlog.stats()["recovered"]
        report = ringlog.recover(dead)
        assert report["instances"] == 1 and report["live"] == 0
        assert report["bad_frames"] == 0 and report["bad_files"] == 0
        assert report["problems"] == []
        ringlog.flush()
        out = [r for r in read_records(tmp_path / "out.log") if r["logger"] == "killed"]
        assert sorted(r["i"] for r in out) == list(range(200))
        assert all(r.get("recovered") and r["run"] == 1 for r in out)
        assert report["records"] == len(out)
        assert ringlog.stats()["recovered"] - before == len(out)
        # The instance was removed once written: a second pass finds nothing.
        again = ringlog.recover(str(dead))
        assert again["instances"] == 0 and again["records"] == 0
        with pytest.raises(ValueError):
            ringlog.recover("")
    finally:
        ringlog.shutdown()
