"""uvicorn's HTTP protocol with a deadline for request headers, and the server limits `feedsvc serve` runs with.

uvicorn closes idle keep-alive connections but has no timeout for reading a request's headers: a client that
connects and sends nothing, or a header byte now and then (slowloris), holds a connection and its memory for
ever; with httptools it has no limit on the size of a request head either. Here a connection must deliver a
complete request head of at most MAX_HEADER_BYTES within HEADER_TIMEOUT of connecting (or of the previous
response); otherwise it is closed. Behind a reverse proxy the proxy does this too (see docs/security.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 10.0  # seconds from connect (or the last response) to the end of the request's headers
MAX_HEADER_BYTES = 16 * 1024  # a request head larger than this closes the connection (httptools sets no limit)
LIMIT_CONCURRENCY = 1000  # connections + tasks beyond this are answered 503 instead of queueing memory
KEEP_ALIVE_TIMEOUT = 5  # seconds an idle keep-alive connection stays open


class _HeaderDeadline:
    """Mixin: close the connection when a request's headers have not all arrived in time."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _header_deadline: asyncio.TimerHandle | None = None
    _head_bytes = 0

    def _arm(self) -> None:
        self._disarm()
        self._head_bytes = 0
        self._header_deadline = self.loop.call_later(HEADER_TIMEOUT, self._headers_too_slow)

    def _head_too_big(self, data: bytes) -> bool:
        """Count bytes read while a request head is incomplete; True (and the connection closed) past the cap."""
        if self._header_deadline is None:
            return False
        self._head_bytes += len(data)
        if self._head_bytes <= MAX_HEADER_BYTES:
            return False
        self._disarm()
        self.transport.close()
        return True

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


class HttpToolsHeaderTimeout(_HeaderDeadline, HttpToolsProtocol):
    """uvicorn's httptools protocol (the faster parser, installed with uvicorn[standard]) with the deadline."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if not self._head_too_big(data):
            super().data_received(data)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def server_options() -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config`: protocol with header deadline, and limits."""
    return {
        "http": HttpToolsHeaderTimeout,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "limit_concurrency": LIMIT_CONCURRENCY,
        "timeout_keep_alive": KEEP_ALIVE_TIMEOUT,
        "timeout_graceful_shutdown": 10,
    }
