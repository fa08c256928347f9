"""ringlog: structured logging through per-thread, file-backed ring buffers.

The records are framed by the Rust core into a ring per thread and written
by its flusher thread (JSON, logfmt or console) off the caller's thread.

    import ringlog
    ringlog.configure({"sinks": {"app": {"type": "file", "path": "app.log"}}})
    log = ringlog.get_logger("payments")
    log.info("charge ok", amount=12.5, user="u1")

``ringlog.Handler`` routes the standard library's ``logging`` into the same
runtime, and ``ringlog.trace_context`` sets the W3C trace context for the
records of the current task or thread.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import os
from typing import Any, Iterator, Mapping, Optional, Union

from . import _ringlog
from ._ringlog import (
    TRACE_CONTEXT,
    VERSION,
    Logger,
    RinglogError,
    TraceContext,
    flush,
    get_logger,
    recover,
    set_default,
    shutdown,
    stats,
    stdlib_severity,
)

__all__ = [
    "Handler",
    "Logger",
    "RinglogError",
    "TraceContext",
    "VERSION",
    "configure",
    "current_trace_context",
    "flush",
    "get_logger",
    "install_logging",
    "reconfigure",
    "recover",
    "set_default",
    "shutdown",
    "stats",
    "stdlib_severity",
    "trace_context",
]


def configure(
    config: Union[Mapping[str, Any], str, None] = None, *, inherit: bool = True
) -> None:
    """Starts the process-wide runtime from a dict, JSON text, or None.

    None uses ``RINGLOG_CONFIG`` or the defaults; the ``RINGLOG_*``
    environment overrides apply on top either way. A runtime already
    running is shut down first (everything it was given is written).

    With ``inherit`` (the default) an explicit configuration is also put in
    ``RINGLOG_CONFIG``, so child processes (``multiprocessing`` with the
    spawn start method, subprocesses using ringlog) start from it too.

    Raises ``RinglogError`` naming the bad key when the configuration is
    invalid, or when the ring directory or a sink cannot be opened.
    """
    if config is not None and not isinstance(config, str):
        config = json.dumps(dict(config))
    _ringlog.configure(config)
    if inherit and config is not None:
        os.environ["RINGLOG_CONFIG"] = config


def reconfigure(config: Union[Mapping[str, Any], str]) -> None:
    """Changes levels while the runtime runs, from a dict or JSON text.

    Keys: ``level`` (the global level), ``levels`` (per logger-name prefix;
    replaces the whole map) and ``sinks`` (``{"name": {"level": ...}}``).
    Every logger, child logger and ``ringlog.Handler`` follows at once;
    nothing restarts and nothing logged is lost. Anything else (sinks,
    formats, ring sizes) needs ``configure``, which replaces the whole
    configuration, these changes included. With no runtime running yet,
    the default one starts first, as it would on a first record.

    Raises ``RinglogError`` naming the key when a key cannot change at run
    time, a level is not a level, or no sink has the name given.
    """
    if not isinstance(config, str):
        if not isinstance(config, Mapping):
            raise TypeError("config must be a dict or a JSON string")
        config = json.dumps(dict(config))
    _ringlog.reconfigure(config)


@contextlib.contextmanager
def trace_context(
    traceparent: Optional[str] = None,
    *,
    trace_id: Optional[str] = None,
    span_id: Optional[str] = None,
    trace_flags: int = 1,
) -> Iterator[TraceContext]:
    """Sets the trace context of the records logged inside the block.

    Give a W3C ``traceparent`` value, or ``trace_id`` (32 hex digits) and
    ``span_id`` (16 hex digits). It is kept in a ``contextvars.ContextVar``,
    so it follows asyncio tasks and stays separate between threads.
    """
    ctx = TraceContext(
        traceparent, trace_id=trace_id, span_id=span_id, trace_flags=trace_flags
    )
    token = TRACE_CONTEXT.set(ctx)
    try:
        yield ctx
    finally:
        TRACE_CONTEXT.reset(token)


def current_trace_context() -> Optional[TraceContext]:
    """The trace context of the current task or thread, if one is set."""
    return TRACE_CONTEXT.get(None)


# The attributes every LogRecord has; all others came from `extra=`.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None))
) | {"message", "asctime"}


class Handler(logging.Handler):
    """A ``logging.Handler`` that writes records through ringlog.

    Each LogRecord becomes a ringlog record: ``levelno`` mapped to the
    OpenTelemetry severity (``stdlib_severity``), ``getMessage()``, the
    logger name, ``created`` as the timestamp, every ``extra=`` key as a
    field, ``exc_info`` as an ``exception`` field (type, message,
    traceback) and ``stack_info`` as a field. With ``call_site=True`` the
    fields ``pathname``, ``lineno`` and ``funcName`` are added too.

    Formatters are not used: the encoding is the runtime's sinks' (JSON,
    logfmt or console). Errors go through ``handleError``.
    """

    def __init__(self, level: int = logging.NOTSET, *, call_site: bool = False) -> None:
        super().__init__(level)
        self.call_site = call_site
        self._loggers: dict[str, Logger] = {}
        cls = type(self)
        if (
            cls.handle is Handler.handle
            and cls.emit is Handler.emit
            and cls.filter is logging.Filterer.filter
            and not _is_data_descriptor(cls, "filters")
            and not _is_data_descriptor(cls, "call_site")
        ):
            # What handle() below does, with no Python frame per record; a
            # subclass that overrides any of these methods, or makes
            # `filters` or `call_site` a property (or another data
            # descriptor, which an instance attribute cannot shadow), keeps
            # them. The Rust side reads both from the instance's __dict__.
            self.handle = _ringlog._Handle(self, self._loggers, _STANDARD_ATTRS, _handle_error).handle  # type: ignore[method-assign]

    def handle(self, record: logging.LogRecord) -> Any:
        rv = self.filter(record)
        if isinstance(rv, logging.LogRecord):
            record = rv
        if rv:
            if type(self).emit is Handler.emit and "emit" not in self.__dict__:
                # ringlog's own emit needs no handler lock: the ringlog
                # call is thread-safe.
                self.emit(record)
            else:
                # Another emit (a subclass's, or one set on the instance)
                # runs under the lock, as logging.Handler.handle does.
                self.acquire()
                try:
                    self.emit(record)
                finally:
                    self.release()
        return rv

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _ringlog._emit_log_record(record, self._loggers, _STANDARD_ATTRS, self.call_site)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def _is_data_descriptor(cls: type, name: str) -> bool:
    # A class attribute with __set__ (a property, a slot) wins over the
    # instance's __dict__; a plain class-level default does not.
    return hasattr(type(inspect.getattr_static(cls, name, None)), "__set__")


def _handle_error(handler: logging.Handler, record: logging.LogRecord, exc: BaseException) -> None:
    # handleError reports the exception being handled (sys.exc_info()).
    try:
        raise exc
    except Exception:
        handler.handleError(record)


def install_logging(level: Optional[int] = logging.INFO, **kwargs: Any) -> Handler:
    """Routes the root logger (and so every stdlib logger) through ringlog.

    Replaces any ``ringlog.Handler`` already on the root logger, sets the
    root level (unless ``level`` is None) and returns the new handler;
    ``kwargs`` go to ``Handler``.
    """
    root = logging.getLogger()
    for h in list(root.handlers):
        if isinstance(h, Handler):
            root.removeHandler(h)
    handler = Handler(**kwargs)
    root.addHandler(handler)
    if level is not None:
        root.setLevel(level)
    return handler


def _flush_at_child_exit() -> None:
    try:
        shutdown()
    except Exception:
        pass


def _after_multiprocessing_fork(_: object) -> None:
    # A multiprocessing child made by fork ends with os._exit(), which runs
    # no atexit handler: shut down from its exit finalizers instead (the
    # lowest priority runs last, after the user's).
    from multiprocessing import util

    util.Finalize(None, _flush_at_child_exit, exitpriority=-1000)


class _ForkHook:
    """Kept alive so multiprocessing's weak after-fork registry keeps it."""


def _install_fork_hooks() -> None:
    os.register_at_fork(after_in_child=_ringlog._after_fork_in_child)
    try:
        from multiprocessing import util
    except ImportError:  # pragma: no cover - multiprocessing is optional
        return
    global _FORK_HOOK
    _FORK_HOOK = _ForkHook()
    util.register_after_fork(_FORK_HOOK, _after_multiprocessing_fork)


_FORK_HOOK: Optional[_ForkHook] = None
_install_fork_hooks()
