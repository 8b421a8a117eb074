"""`feedsvc run`: the feed server (uvicorn, one process) and the crawl scheduler together, stopped together.

The main thread runs uvicorn; the scheduler runs in background threads and starts each crawl as a child
process in its own process group. On Ctrl-C/SIGTERM uvicorn stops taking requests while, in parallel,
running crawls get SIGTERM and finish their current batch; then the process exits 0. SIGHUP (or editing
the config file) reloads the config for both the scheduler and the feed server.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from feedsvc.config import AppConfig, load_config
from feedsvc.http.protocol import server_options

log = logging.getLogger("feedsvc.run")


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind now, so a port of 0 becomes a real port before the app (and its self links) is built."""
    from feedsvc.errors import FeedsvcError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise FeedsvcError(f"Cannot listen on {host}:{port}: {exc.strerror}. "
                           "Pick another port with --port (0 = any free port) or set [server] port.") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def with_address(cfg: AppConfig, host: str, port: int) -> AppConfig:
    """The config as served: the bound address, so self links are right after --host/--port or port 0."""
    if (cfg.server.host, cfg.server.port) == (host, port):
        return cfg
    return cfg.model_copy(update={"server": cfg.server.model_copy(update={"host": host, "port": port})})


class _Server(uvicorn.Server):
    """uvicorn's server that also tells us when a stop signal arrived and when it is ready."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None], on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit
        self._on_ready = on_ready

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            self._on_ready()


def apply_config_to_app(app: Any, cfg: AppConfig) -> None:
    """Hand a reloaded config to the running feed server: new/removed sources' feeds appear/disappear."""
    state = app.state.feedsvc
    state.apply_config(with_address(cfg, state.cfg.server.host, state.cfg.server.port))


def run_service(config_path: str, *, cfg: AppConfig | None = None, sock: socket.socket | None = None,
                on_ready: Callable[[AppConfig], None] | None = None, access_log: bool = False,
                log_level: str = "info") -> int:
    """Serve feeds (and run the scheduler) until SIGINT/SIGTERM; return the exit code (0 after a clean stop).
    `cfg`: the config the entry point already loaded from `config_path` (read once, handed down)."""
    from feedsvc.http.app import create_app
    from feedsvc.scheduling.service import STOP_GRACE_SECONDS, SchedulerService

    config_path = str(Path(config_path).resolve())
    loaded = cfg if cfg is not None else load_config(config_path)
    sock = sock or bind_socket(loaded.server.host, loaded.server.port)
    host, port = sock.getsockname()[:2]
    cfg = with_address(loaded, str(host), int(port))
    if cfg.server.workers > 1:
        log.warning("feedsvc run serves from one process ([server] workers=%d is for `feedsvc serve`)",
                    cfg.server.workers)
    app = create_app(cfg)
    service = SchedulerService(config_path, cfg=loaded, on_reload=lambda new: apply_config_to_app(app, new))

    stop_requested = threading.Event()
    stopped = threading.Event()

    def stop_scheduler() -> None:
        stop_requested.wait()
        try:
            service.stop(STOP_GRACE_SECONDS)
        finally:
            stopped.set()

    stopper = threading.Thread(target=stop_scheduler, name="stopper", daemon=True)
    # uvicorn restores these after serving and re-raises the signal it caught: ours then just notes it.
    previous = {sig: signal.signal(sig, lambda *_: stop_requested.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        service.install_sighup()
        service.start()
        stopper.start()
        server = _Server(
            # Header deadline and connection limits as for `feedsvc serve` (it sets timeout_graceful_shutdown=10).
            uvicorn.Config(app, log_level=log_level, access_log=access_log, lifespan="on", **server_options()),
            on_exit=stop_requested.set,
            on_ready=lambda: on_ready(cfg) if on_ready else None,
        )
        server.run(sockets=[sock])
    finally:
        stop_requested.set()
        if stopper.is_alive():
            stopper.join()
        elif not stopped.is_set():
            service.stop(0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    log.info("feedsvc run: stopped cleanly")
    return 0
