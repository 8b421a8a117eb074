"""uvicorn's HTTP protocol with a deadline for request headers and per-client connection limits, and the server
limits `feedsvc serve` runs with.

uvicorn closes idle keep-alive connections but has no timeout for reading a request's headers: a client that
connects and sends nothing, or a header byte now and then (slowloris), holds a connection and its memory for
ever; with httptools it has no limit on the size of a request head either. Here a connection must deliver a
complete request head of at most MAX_HEADER_BYTES within HEADER_TIMEOUT of connecting (or of the previous
response); otherwise it is closed.

uvicorn's own limit (`limit_concurrency`) counts idle connections too and answers 503 past it, so one client
holding a thousand idle sockets, reopened as they are closed, turned every other client's request into a 503.
Here one client address holds at most PER_CLIENT_CONNECTIONS connections (more are closed on arrival), and when
the server holds MAX_CONNECTIONS the oldest connection still waiting for a request is closed to make room, so
those who send requests keep being served. Trusted proxies (uvicorn's `forwarded_allow_ips`, 127.0.0.1 by
default) carry many clients and are not limited per address; the proxy limits them (see docs/security.md).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any
from weakref import WeakKeyDictionary

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 10.0  # seconds from connect (or the last response) to the end of the request's headers
MAX_HEADER_BYTES = 16 * 1024  # a request head larger than this closes the connection (httptools sets no limit)
PER_CLIENT_CONNECTIONS = 32  # open connections per client address (browsers open 6; feed readers 1–4)
MAX_CONNECTIONS = 2000  # all clients: past this the oldest connection still waiting for a request is closed
# uvicorn answers 503 past this many connections or running requests. Connections never reach it (the limits above
# close them first), so it only sheds requests when that many are in progress at once.
LIMIT_CONCURRENCY = MAX_CONNECTIONS + 1
KEEP_ALIVE_TIMEOUT = 5  # seconds an idle keep-alive connection stays open


class _Ledger:
    """One server's connections: how many each client address holds, and those waiting for a request (oldest
    first: a dict keeps insertion order)."""

    def __init__(self, trusted: frozenset[str]) -> None:
        self.trusted = trusted
        self.per_client: Counter[str] = Counter()
        self.waiting: dict[_HeaderDeadline, None] = {}


_LEDGERS: WeakKeyDictionary[Any, _Ledger] = WeakKeyDictionary()  # uvicorn's ServerState → its ledger


def _trusted(forwarded_allow_ips: Any) -> frozenset[str]:
    if forwarded_allow_ips is None:
        return frozenset({"127.0.0.1"})
    items = forwarded_allow_ips.split(",") if isinstance(forwarded_allow_ips, str) else forwarded_allow_ips
    return frozenset(str(item).strip() for item in items)


class _HeaderDeadline:
    """Mixin: close the connection when a request's headers have not all arrived in time."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _header_deadline: asyncio.TimerHandle | None = None
    _head_bytes = 0
    _ledger: _Ledger | None = None
    _client_key = ""

    def _arm(self) -> None:
        self._disarm()
        self._head_bytes = 0
        self._header_deadline = self.loop.call_later(HEADER_TIMEOUT, self._headers_too_slow)
        if self._ledger is not None:
            self._ledger.waiting[self] = None

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
        if self._ledger is not None:
            self._ledger.waiting.pop(self, None)

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


class HttpToolsHeaderTimeout(_HeaderDeadline, HttpToolsProtocol):
    """uvicorn's httptools protocol (the faster parser, installed with uvicorn[standard]) with the deadline."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        state: Any = self.server_state
        ledger = _LEDGERS.get(state)
        if ledger is None:
            ledger = _LEDGERS[state] = _Ledger(_trusted(self.config.forwarded_allow_ips))
        client = self.client[0] if self.client else ""
        limited = client not in ledger.trusted and "*" not in ledger.trusted
        # A closed connection leaves uvicorn's count only when the loop reports it lost, after requests already
        # read in this turn were counted against `limit_concurrency`: it leaves the count here, at once.
        if limited and ledger.per_client[client] >= PER_CLIENT_CONNECTIONS:
            self.connections.discard(self)
            transport.close()  # this client holds enough: others keep their places
            return
        if len(self.connections) > MAX_CONNECTIONS:
            oldest = next(iter(ledger.waiting), None)
            if oldest is None:  # every connection is busy with a request: this one waits its turn elsewhere
                self.connections.discard(self)
                transport.close()
                return
            oldest._disarm()
            self.connections.discard(oldest)
            oldest.transport.close()
        self._ledger = ledger
        self._client_key = client
        ledger.per_client[client] += 1
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
        if self._ledger is not None:
            self._ledger.per_client[self._client_key] -= 1
            if self._ledger.per_client[self._client_key] <= 0:
                del self._ledger.per_client[self._client_key]
            self._ledger = None
        super().connection_lost(exc)


def server_options() -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config`: protocol with header deadline and per-client
    connection limits, and the server's limits."""
    return {
        "http": HttpToolsHeaderTimeout,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "limit_concurrency": LIMIT_CONCURRENCY,
        "timeout_keep_alive": KEEP_ALIVE_TIMEOUT,
        "timeout_graceful_shutdown": 10,
    }
