"""http/protocol.py under a real uvicorn: a request head that never completes, or grows past the limit, is cut
off; a normal request is answered."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from feedsvc.http import protocol
from feedsvc.http.app import create_app
from feedsvc.store import Store
from tests.feedhelpers import make_config, running_server


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
