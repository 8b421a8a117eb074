"""http/protocol.py under a real uvicorn: a request head that never completes, or grows past the limit, is cut
off; a normal request is answered."""

from __future__ import annotations

import select
import socket
import time
from pathlib import Path

import pytest

from feedsvc.http import protocol
from feedsvc.http.app import create_app
from feedsvc.store import Store
from tests.support.feeds import make_config, running_server


def test_slow_headers_are_cut_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    monkeypatch.setattr(protocol, "HEADER_TIMEOUT", 0.5)
    cfg = make_config(f"sqlite:///{tmp_path / 'f.db'}")
    Store.for_config(cfg).close()  # the schema exists before the server starts
    original = uvicorn.Config

    def with_options(app: object, **kwargs: object) -> uvicorn.Config:
        return original(app, **{**kwargs, **protocol.server_options()})  # type: ignore[arg-type]

    monkeypatch.setattr(uvicorn, "Config", with_options)
    with running_server(create_app(cfg)) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # ... and the rest never comes
            started = time.monotonic()
            assert slow.recv(100) == b""  # closed by the server
            assert time.monotonic() - started < 4
        with socket.create_connection((host, int(port)), timeout=5) as huge:
            huge.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            try:
                for n in range(400):  # 40 KB of headers, never finished
                    huge.sendall(f"X-Filler-{n}: {'a' * 90}\r\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                pass  # closed by the server while we were still sending: what we want
            try:
                answer = huge.recv(100)
            except ConnectionResetError:
                answer = b""
            assert answer == b"" and time.monotonic() - started < 0.4
        with socket.create_connection((host, int(port)), timeout=5) as fine:
            fine.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert fine.recv(100).startswith(b"HTTP/1.1 200")


def _serve_with_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> object:
    import uvicorn

    cfg = make_config(f"sqlite:///{tmp_path / 'f.db'}")
    Store.for_config(cfg).close()
    original = uvicorn.Config

    def with_options(app: object, **kwargs: object) -> uvicorn.Config:
        return original(app, **{**kwargs, **protocol.server_options()})  # type: ignore[arg-type]

    monkeypatch.setattr(uvicorn, "Config", with_options)
    return running_server(create_app(cfg))


def _idle_sockets(address: tuple[str, int], source: str, count: int) -> list[socket.socket]:
    return [socket.create_connection(address, timeout=5, source_address=(source, 0)) for _ in range(count)]


def _closed_by_server(socks: list[socket.socket], expected: int) -> int:
    """Wait (on the sockets, up to 10 s) until `expected` of them are closed by the server; how many were."""
    closed: set[socket.socket] = set()
    deadline = time.monotonic() + 10
    while len(closed) < expected and time.monotonic() < deadline:
        readable, _, _ = select.select([s for s in socks if s not in closed], [], [], 0.5)
        for sock in readable:
            try:
                if sock.recv(1) == b"":
                    closed.add(sock)
            except ConnectionResetError:
                closed.add(sock)
    return len(closed)


def _healthz(address: tuple[str, int], source: str) -> bytes:
    with socket.create_connection(address, timeout=5, source_address=(source, 0)) as fine:
        fine.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return fine.recv(100)


def test_idle_connections_of_one_client_do_not_lock_out_the_others(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    monkeypatch.setattr(protocol, "HEADER_TIMEOUT", 60.0)  # idle sockets stay idle for the whole test
    monkeypatch.setattr(protocol, "PER_CLIENT_CONNECTIONS", 10)
    with _serve_with_options(monkeypatch, tmp_path) as url:  # type: ignore[attr-defined]
        host, port = url.removeprefix("http://").split(":")
        address = (host, int(port))
        hog = _idle_sockets(address, "127.0.0.3", 60)  # connect, send nothing, hold
        try:
            assert _closed_by_server(hog, 50) == 50  # all past its 10 closed on arrival
            assert _healthz(address, "127.0.0.2").startswith(b"HTTP/1.1 200")
        finally:
            for sock in hog:
                sock.close()


def test_a_full_server_drops_its_oldest_idle_connection_not_new_requests(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    monkeypatch.setattr(protocol, "HEADER_TIMEOUT", 60.0)
    monkeypatch.setattr(protocol, "PER_CLIENT_CONNECTIONS", 10)
    monkeypatch.setattr(protocol, "MAX_CONNECTIONS", 30)
    monkeypatch.setattr(protocol, "LIMIT_CONCURRENCY", 31)
    with _serve_with_options(monkeypatch, tmp_path) as url:  # type: ignore[attr-defined]
        host, port = url.removeprefix("http://").split(":")
        address = (host, int(port))
        # Many addresses, each within its own limit: 50 idle connections for a server that holds 30.
        crowd = [sock for n in range(5) for sock in _idle_sockets(address, f"127.0.1.{n + 1}", 10)]
        try:
            assert _closed_by_server(crowd, 20) == 20
            for _ in range(5):  # each request finds room (an idle one gives way), never a 503
                assert _healthz(address, "127.0.0.2").startswith(b"HTTP/1.1 200")
        finally:
            for sock in crowd:
                sock.close()
