"""Trace context through contextvars: tasks and threads each keep their own."""

from __future__ import annotations

import asyncio
import threading

import pytest

import ringlog

TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_records_inside_the_block_carry_the_context(records):
    log = ringlog.get_logger("t")
    with ringlog.trace_context(TP) as ctx:
        assert ringlog.current_trace_context() is ctx
        assert ctx.traceparent == TP
        log.info("inside")
    log.info("outside")
    with ringlog.trace_context(trace_id="0af7651916cd43dd8448eb211c80319c", span_id="b7ad6b7169203331", trace_flags=0):
        log.info("ids")
    inside, outside, ids = records()
    assert inside["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert inside["span_id"] == "00f067aa0ba902b7" and inside["trace_flags"] == "01"
    assert "trace_id" not in outside
    assert ids["trace_id"] == "0af7651916cd43dd8448eb211c80319c" and ids["trace_flags"] == "00"
    assert ringlog.current_trace_context() is None


def test_bad_contexts_are_refused():
    for bad in ("00-xyz", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"):
        with pytest.raises(ValueError):
            with ringlog.trace_context(bad):
                pass
    with pytest.raises(ValueError):
        with ringlog.trace_context(trace_id="ab"):
            pass


def test_each_asyncio_task_keeps_its_own_context(records):
    log = ringlog.get_logger("t")

    async def handle(i: int) -> None:
        tid = "%032x" % (i + 1)
        with ringlog.trace_context(trace_id=tid, span_id="%016x" % (i + 1)):
            for step in range(3):
                await asyncio.sleep(0)
                log.info("step", task=i, step=step)

    async def main() -> None:
        await asyncio.gather(*(handle(i) for i in range(10)))

    asyncio.run(main())
    out = records()
    assert len(out) == 30
    for r in out:
        assert r["trace_id"] == "%032x" % (r["task"] + 1)


def test_threads_do_not_see_each_others_context(records):
    log = ringlog.get_logger("t")
    barrier = threading.Barrier(4)

    def work(i: int) -> None:
        if i % 2:
            with ringlog.trace_context(trace_id="%032x" % (i + 1), span_id="%016x" % (i + 1)):
                barrier.wait()
                log.info("w", i=i)
        else:
            barrier.wait()
            log.info("w", i=i)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out = records()
    assert len(out) == 4
    for r in out:
        if r["i"] % 2:
            assert r["trace_id"] == "%032x" % (r["i"] + 1)
        else:
            assert "trace_id" not in r
