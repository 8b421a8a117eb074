"""feedsvc.runtime: binding the address, the config as served, and run_service (feed server + scheduler in one
process) over real HTTP in a child process: a reload reaches the server, SIGTERM stops both cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from feedsvc.config import load_config
from feedsvc.errors import FeedsvcError
from feedsvc.runtime import bind_socket, with_address
from tests.support.crawls import child_env
from tests.support.scheduling import source_toml, wait_for, write_config

# The child runs run_service and prints the bound port once uvicorn is ready.
CHILD = """
import logging, sys
logging.basicConfig(level=logging.INFO)
from feedsvc.runtime import run_service
sys.exit(run_service(sys.argv[1], on_ready=lambda cfg: print("READY", cfg.server.port, flush=True)))
"""


def test_bind_socket_turns_port_zero_into_a_real_port() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        assert port > 0
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # it is listening already
    finally:
        sock.close()


def test_bind_socket_on_a_taken_port_says_what_to_do() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        # SO_REUSEADDR does not let a second socket bind a port someone listens on.
        with pytest.raises(FeedsvcError, match=r"Cannot listen on 127\.0\.0\.1:\d+: .*--port"):
            bind_socket("127.0.0.1", sock.getsockname()[1])
    finally:
        sock.close()


def test_with_address_only_copies_when_the_address_differs(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/db.sqlite", [source_toml("a")]))
    same = with_address(cfg, cfg.server.host, cfg.server.port)
    assert same is cfg
    moved = with_address(cfg, "127.0.0.1", 4321)
    assert (moved.server.host, moved.server.port) == ("127.0.0.1", 4321)
    assert cfg.server.port != 4321 or cfg.server.host != "127.0.0.1"  # the original is untouched


def test_run_service_serves_reloads_and_stops_on_sigterm(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/db.sqlite"
    path = write_config(tmp_path / "config.toml", db_url, [source_toml("keep")], watch_config=False)
    text = path.read_text() + '\n[server]\nhost = "127.0.0.1"\nport = 0\n'
    path.write_text(text)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=tmp_path, env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline().split()  # blocks until on_ready (or the child dies: empty line)
        assert ready[:1] == ["READY"], proc.stderr.read() if proc.stderr else ""
        base = f"http://127.0.0.1:{int(ready[1])}"
        assert httpx.get(f"{base}/feeds/keep.atom", timeout=5).status_code == 200
        assert httpx.get(f"{base}/feeds/added.atom", timeout=5).status_code == 404
        path.write_text(text.replace(source_toml("keep"), source_toml("keep") + source_toml("added")))
        proc.send_signal(signal.SIGHUP)  # the scheduler reloads and hands the config to the server
        wait_for(lambda: httpx.get(f"{base}/feeds/added.atom", timeout=5).status_code == 200, timeout=15,
                 what="the added source's feed")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=40)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-3000:]
    assert "scheduler stopped" in err and "stopped cleanly" in err
