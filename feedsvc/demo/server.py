"""Serve the bundled demo site (feedsvc/demo/site/) on 127.0.0.1 from a background thread.

Pages carry their own charset (GBK pages say so in a meta tag), so `.html` goes out as plain `text/html`,
the way many such portals do. ETag and Last-Modified let re-crawls cost 304s, as on a well-run site.
"""

from __future__ import annotations

import hashlib
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote, urlsplit

SITE_ROOT = Path(__file__).resolve().parent / "site"
_TYPES = {".html": "text/html", ".txt": "text/plain; charset=utf-8", ".css": "text/css"}


class BackgroundServer:
    """A ThreadingHTTPServer on `host` (loopback) serving from a daemon thread, as a context manager.

    Subclasses give the request handler class (`handler_class`); the demo site and the test suite's fixture
    sites share this lifecycle.
    """

    thread_name = "http-server"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port_wanted = port
        self._httpd: ThreadingHTTPServer | None = None

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> Self:
        self._httpd = ThreadingHTTPServer((self.host, self.port_wanted), self.handler_class())
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, name=self.thread_name, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


class DemoSite(BackgroundServer):
    """`with DemoSite(port=0) as site: site.base_url` — a static server over `root`, loopback only."""

    thread_name = "demo-site"

    def __init__(self, root: Path = SITE_ROOT, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.root = root.resolve()
        self.requests = 0

    def start(self) -> Self:
        if not (self.root / "index.html").is_file():
            from feedsvc.errors import FeedsvcError

            raise FeedsvcError(f"The demo site is missing from {self.root}; reinstall feedsvc "
                               "(or run `python tools/make_demo_site.py` in a source checkout).")
        return super().start()

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("DemoHandler", (_Handler,), {"site": self})


class _Handler(BaseHTTPRequestHandler):
    site: DemoSite
    server_version = "feedsvc-demo-site/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the demo prints its own progress

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        self.site.requests += 1
        status, headers, body = self._resolve(unquote(urlsplit(self.path).path))
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head and status != 304:  # a 404 says what it says; 304 has no body
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _resolve(self, path: str) -> tuple[int, dict[str, str], bytes]:
        target = (self.site.root / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if (target != self.site.root and self.site.root not in target.parents) or not target.is_file():
            return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found\n"
        body = target.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        mtime = int(target.stat().st_mtime)
        headers = {"Content-Type": _TYPES.get(target.suffix, "application/octet-stream"), "ETag": etag,
                   "Last-Modified": formatdate(mtime, usegmt=True)}
        if self.headers.get("If-None-Match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, headers, body
