#!/usr/bin/env python3
"""A small asyncio HTTP service logging through ringlog.

Standard library only (``asyncio.start_server`` and a minimal HTTP/1.1
parser) apart from ringlog itself:

- every request gets a child logger, ``log.bind(request_id=..., method=...,
  path=...)``, and ends with one ``request handled`` record carrying
  ``status`` and ``latency_ms``;
- an incoming W3C ``traceparent`` header becomes the request's trace
  context (``ringlog.trace_context``), so all of its records, the
  inventory library's included, carry ``trace_id``, ``span_id`` and
  ``trace_flags``;
- ``GET /fail`` raises: the error is logged with ``log.exception`` (an
  ERROR record with an ``exception`` object) and answered with 500;
- the ``inventory`` library logs through the standard ``logging`` module,
  routed into ringlog by ``ringlog.install_logging()``.

Run ``python service.py`` to serve on 127.0.0.1:8080 until Ctrl-C, or
``python service.py --self-test`` to start on a free port, send a few
requests to itself, stop and flush. The output is configured by the usual
environment variables (``RINGLOG_OUTPUT``, ``RINGLOG_FORMAT``,
``RINGLOG_LEVEL``, ``RINGLOG_CONFIG``); by default JSON lines on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import http.client
import json
import logging
import re
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Optional
from urllib.parse import unquote, urlsplit

import ringlog

from inventory_client import InventoryClient

log = ringlog.get_logger("http")

MAX_LINE = 8 * 1024  # request line and each header line
MAX_HEADERS = 64
MAX_BODY = 64 * 1024
IDLE_TIMEOUT = 15.0  # waiting for the next request on a kept-alive connection
READ_TIMEOUT = 10.0  # reading the rest of a request once it started
SHUTDOWN_GRACE = 5.0  # for requests in progress when the service stops
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

# The request being handled by the current task, for the stdlib records of
# libraries that know nothing of it (see add_request_id).
CURRENT_REQUEST_ID: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar(
    "current_request_id", default=None
)


def add_request_id(record: logging.LogRecord) -> bool:
    """A logging filter: gives a stdlib record the current request's id."""
    request_id = CURRENT_REQUEST_ID.get()
    if request_id is not None and not hasattr(record, "request_id"):
        record.request_id = request_id
    return True


class HTTPError(Exception):
    """A request that cannot be parsed: answered and the connection closed."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def path(self) -> str:
        return unquote(urlsplit(self.target).path) or "/"

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.1":
            return "close" not in tokens
        return "keep-alive" in tokens


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, doc: object, **headers: str) -> "Response":
        return cls(status, json.dumps(doc).encode() + b"\n", headers=dict(headers))


# ------------------------------------------------------------------ parsing
async def read_line(reader: asyncio.StreamReader) -> bytes:
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial:
            raise EOFError from None
        raise HTTPError(400, "truncated request") from None
    except asyncio.LimitOverrunError:
        raise HTTPError(431, "line too long") from None
    return line


async def read_request(first: bytes, reader: asyncio.StreamReader) -> Request:
    """Parses the request whose first line is `first` (already read)."""
    parts = first.decode("latin-1").rstrip("\r\n").split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1]:
        raise HTTPError(400, "malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise HTTPError(505, "unsupported HTTP version")

    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS):
        try:
            line = await read_line(reader)
        except EOFError:
            raise HTTPError(400, "truncated headers") from None
        if line in (b"\r\n", b"\n"):
            break
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise HTTPError(400, "malformed header")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    else:
        raise HTTPError(431, "too many headers")

    if "transfer-encoding" in headers:
        raise HTTPError(501, "transfer-encoding is not supported")
    length = headers.get("content-length", "0")
    if not length.isdigit():
        raise HTTPError(400, "bad content-length")
    if int(length) > MAX_BODY:
        raise HTTPError(413, "body too large")
    try:
        body = await reader.readexactly(int(length))
    except asyncio.IncompleteReadError:
        raise HTTPError(400, "truncated body") from None
    return Request(method.upper(), target, version, headers, body)


def encode_response(resp: Response, *, keep_alive: bool, head: bool = False) -> bytes:
    lines = [
        f"HTTP/1.1 {resp.status} {HTTPStatus(resp.status).phrase}",
        f"Date: {formatdate(usegmt=True)}",
        "Server: ringlog-example",
        f"Content-Type: {resp.content_type}",
        f"Content-Length: {len(resp.body)}",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
    ]
    lines += [f"{k}: {v}" for k, v in resp.headers.items()]
    head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head_bytes if head else head_bytes + resp.body


def elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


# ------------------------------------------------------------------ service
class Service:
    def __init__(self, inventory: InventoryClient) -> None:
        self.inventory = inventory
        self.server: Optional[asyncio.AbstractServer] = None
        self.closing = False
        self._connections: dict[asyncio.Task, asyncio.StreamWriter] = {}
        self._busy: set[asyncio.Task] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self.server = await asyncio.start_server(
            self._on_connection, host, port, limit=MAX_LINE
        )
        addr = self.server.sockets[0].getsockname()
        log.info("listening", host=addr[0], port=addr[1])
        return addr[0], addr[1]

    async def stop(self) -> None:
        """Stops accepting, closes idle connections and gives the requests
        in progress SHUTDOWN_GRACE seconds to finish."""
        log.info("shutting down", connections=len(self._connections))
        self.closing = True
        assert self.server is not None
        self.server.close()
        for task, writer in self._connections.items():
            if task not in self._busy:
                writer.close()  # its read ends at once, as at the client's close
        if self._connections:
            await asyncio.wait(set(self._connections), timeout=SHUTDOWN_GRACE)
        for task in self._connections:
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self.server.wait_closed()
        log.info("stopped")

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        peer = writer.get_extra_info("peername")
        client = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        try:
            while not self.closing:
                try:
                    first = await asyncio.wait_for(read_line(reader), IDLE_TIMEOUT)
                except (EOFError, asyncio.TimeoutError, ConnectionError):
                    break
                self._busy.add(task)
                try:
                    req = await asyncio.wait_for(read_request(first, reader), READ_TIMEOUT)
                except (asyncio.TimeoutError, ConnectionError):
                    break
                except HTTPError as e:
                    log.warning("bad request", status=e.status, reason=e.reason, client=client)
                    resp = Response.json(e.status, {"error": e.reason})
                    writer.write(encode_response(resp, keep_alive=False))
                    await writer.drain()
                    break
                resp = await self.handle(req, client)
                keep_alive = req.keep_alive and not self.closing
                head = req.method == "HEAD"
                writer.write(encode_response(resp, keep_alive=keep_alive, head=head))
                await writer.drain()
                self._busy.discard(task)
                if not keep_alive:
                    break
        except ConnectionError:
            pass
        except asyncio.CancelledError:
            # stop() cancels a request still running after the grace period.
            # This is the connection's outermost task: it ends here quietly.
            log.warning("connection aborted at shutdown", client=client)
        finally:
            self._connections.pop(task, None)
            self._busy.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def handle(self, req: Request, client: str) -> Response:
        start = time.perf_counter()
        request_id = req.headers.get("x-request-id", "")
        if not REQUEST_ID.fullmatch(request_id):
            request_id = uuid.uuid4().hex[:16]
        rlog = log.bind(request_id=request_id, method=req.method, path=req.path)

        with contextlib.ExitStack() as scope:
            scope.callback(CURRENT_REQUEST_ID.reset, CURRENT_REQUEST_ID.set(request_id))
            traceparent = req.headers.get("traceparent")
            if traceparent:
                try:
                    scope.enter_context(ringlog.trace_context(traceparent))
                except ValueError as e:
                    rlog.warning(
                        "ignoring malformed traceparent",
                        traceparent=traceparent[:64],
                        reason=str(e),
                    )
            rlog.debug("request received", client=client, bytes_in=len(req.body))
            try:
                resp = await self.route(req, rlog)
            except asyncio.CancelledError:
                rlog.warning("request cancelled", latency_ms=elapsed_ms(start))
                raise
            except Exception:
                rlog.exception("unhandled error")
                resp = Response.json(
                    500, {"error": "internal server error", "request_id": request_id}
                )
            level = "info" if resp.status < 400 else "warning" if resp.status < 500 else "error"
            rlog.log(
                level,
                "request handled",
                status=resp.status,
                latency_ms=elapsed_ms(start),
                bytes=len(resp.body),
            )
        resp.headers["X-Request-Id"] = request_id
        return resp

    async def route(self, req: Request, rlog: ringlog.Logger) -> Response:
        path = req.path
        known = path in ("/", "/health", "/fail") or path.startswith("/items/")
        if not known:
            return Response.json(404, {"error": "not found"})
        if req.method not in ("GET", "HEAD"):
            return Response.json(405, {"error": "method not allowed"}, Allow="GET, HEAD")
        if path == "/":
            return Response.json(200, {"endpoints": ["/health", "/items/<sku>", "/fail"]})
        if path == "/health":
            return Response.json(200, {"status": "ok"})
        if path == "/fail":
            return await self.fail()
        sku = path[len("/items/"):]
        item = await self.inventory.lookup(sku)
        if item is None:
            return Response.json(404, {"error": "unknown sku", "sku": sku})
        rlog.info("item served", sku=sku, quantity=item["quantity"])
        return Response.json(200, item)

    async def fail(self) -> Response:
        item = await self.inventory.lookup("sku-3")
        assert item is not None
        return Response.json(200, {"reservation": self.reserve(item)})

    def reserve(self, item: dict) -> str:
        raise RuntimeError(f"reservation backend unavailable for {item['sku']}")


# ---------------------------------------------------------------- self-test
SELF_TEST_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
# (method, path, extra headers, expected status)
SELF_TEST_REQUESTS = [
    ("GET", "/health", {"X-Request-Id": "selftest-health"}, 200),
    (
        "GET",
        "/items/sku-2",
        {"X-Request-Id": "selftest-traced", "traceparent": SELF_TEST_TRACEPARENT},
        200,
    ),
    ("GET", "/items/sku-9", {"X-Request-Id": "selftest-missing"}, 404),
    ("GET", "/fail", {"X-Request-Id": "selftest-fail"}, 500),
    ("GET", "/", {}, 200),  # no X-Request-Id: the service makes one
]


def run_client(host: str, port: int) -> list[str]:
    """Sends SELF_TEST_REQUESTS over one kept-alive connection (blocking:
    runs in a worker thread). Returns the problems found."""
    problems = []
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        for method, path, headers, expected in SELF_TEST_REQUESTS:
            conn.request(method, path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            rid = resp.getheader("X-Request-Id")
            print(f"self-test: {method} {path} -> {resp.status} request_id={rid}", flush=True)
            if resp.status != expected:
                problems.append(
                    f"{method} {path}: status {resp.status}, expected {expected}: {body!r}"
                )
            sent = headers.get("X-Request-Id")
            if (sent and rid != sent) or not rid:
                problems.append(f"{method} {path}: X-Request-Id {rid!r}, sent {sent!r}")
    finally:
        conn.close()
    return problems


async def self_test() -> int:
    service = Service(InventoryClient())
    host, port = await service.start("127.0.0.1", 0)
    try:
        problems = await asyncio.to_thread(run_client, host, port)
    finally:
        await service.stop()
    for p in problems:
        print(f"self-test: FAIL {p}", file=sys.stderr)
    print(f"self-test: {len(SELF_TEST_REQUESTS)} requests, {len(problems)} problems", flush=True)
    return 1 if problems else 0


async def serve(host: str, port: int) -> int:
    service = Service(InventoryClient())
    await service.start(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await service.stop()
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="serve on a free port, send a few requests to itself, stop",
    )
    args = parser.parse_args(argv)

    try:
        # None: RINGLOG_CONFIG or the defaults, with the RINGLOG_* overrides.
        ringlog.configure()
    except ringlog.RinglogError as e:
        print(f"service: ringlog: {e}", file=sys.stderr)
        return 2
    # Every stdlib logger (the inventory library's, asyncio's) into ringlog,
    # their records tagged with the request they were logged for.
    handler = ringlog.install_logging(level=logging.INFO)
    handler.addFilter(add_request_id)

    if args.self_test:
        rc = asyncio.run(self_test())
    else:
        rc = asyncio.run(serve(args.host, args.port))
    ringlog.flush(timeout=5.0)
    return rc


if __name__ == "__main__":
    sys.exit(main())
