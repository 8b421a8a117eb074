"""A local fixture web site for crawl tests, the scheduler tests and the demo: a real HTTP server on 127.0.0.1.

Serves a directory with ETag + Last-Modified and answers conditional requests with 304, so re-crawls can be
checked against the request log. `*.gbk.html` files are served with `charset=gbk` in the header (their only
declaration). Extra routes exercise error paths:

    /status/<code>    that status, small HTML body
    /slow             sleeps `slow_seconds` (default 5 s, longer than test timeouts), then 200
    /redirect-loop    302 to itself, forever
    /binary           application/octet-stream bytes
    /retry-after      429 with `Retry-After: 1` the first time (per full path), then an HTML page

Usage: `with SiteServer(root) as server: server.base_url; server.log` (or the `site_server` pytest fixture).
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from feedsvc.demo.server import BackgroundServer

DATA = Path(__file__).parents[1] / "data"


@dataclass(frozen=True)
class LoggedRequest:
    path: str
    headers: dict[str, str]
    status: int
    at: float = field(default_factory=time.time)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass
class Page:
    body: bytes
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class SiteServer(BackgroundServer):
    """ThreadingHTTPServer on an OS-chosen port serving `root`; `pages` overrides or adds paths at run time.

    Another loopback `host` (127.0.0.2) stands for "another host" in offsite tests."""

    def __init__(self, root: Path = DATA / "site", slow_seconds: float = 5.0, delay: float = 0.0,
                 host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.root = root.resolve()
        self.slow_seconds = slow_seconds
        self.delay = delay  # seconds added to every response (lets a test kill a crawl mid-way)
        self.pages: dict[str, Page] = {}
        self.log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._retry_seen: set[str] = set()
        self.inflight = 0
        self.max_inflight = 0  # the most requests it was answering at once (politeness checks)

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"site": self})

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    # -- request log -------------------------------------------------------------------------------------------
    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.log.append(entry)

    def requests(self, path: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            entries = list(self.log)
        return [e for e in entries if path is None or e.path == path]

    def entered(self, change: int) -> None:
        with self._lock:
            self.inflight += change
            self.max_inflight = max(self.max_inflight, self.inflight)

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def first_retry_visit(self, path: str) -> bool:
        with self._lock:
            if path in self._retry_seen:
                return False
            self._retry_seen.add(path)
            return True


def _html(text: str) -> bytes:
    return f"<!DOCTYPE html><html><head><title>{text}</title></head><body><p>{text}</p></body></html>".encode()


class _Handler(BaseHTTPRequestHandler):
    site: SiteServer
    server_version = "fixture-site/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        self.site.entered(1)
        try:
            self._answer(head)
        finally:
            self.site.entered(-1)

    def _answer(self, head: bool) -> None:
        if self.site.delay:
            time.sleep(self.site.delay)
        path = urlsplit(self.path).path
        try:
            status, headers, body = self._route(path)
        except BrokenPipeError:
            return
        self.site.record(LoggedRequest(self.path, dict(self.headers.items()), status))
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head and status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, path: str) -> tuple[int, dict[str, str], bytes]:
        html = {"Content-Type": "text/html; charset=utf-8"}
        override = self.site.pages.get(self.path) or self.site.pages.get(path)
        if override is not None:
            headers = {"Content-Type": override.content_type, **override.headers}
            return self._conditional(override.status, headers, override.body, None)
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1] or 500)
            return code, html, _html(f"status {code}")
        if path == "/slow":
            time.sleep(self.site.slow_seconds)
            return 200, html, _html("slow")
        if path == "/redirect-loop":
            return 302, {"Location": "/redirect-loop", **html}, b""
        if path == "/binary":
            return 200, {"Content-Type": "application/octet-stream"}, bytes(range(256)) * 16
        if path == "/retry-after":
            if self.site.first_retry_visit(self.path):
                return 429, {"Retry-After": "1", **html}, _html("slow down")
            return 200, html, _html("retry-after page")
        return self._file(path)

    def _file(self, path: str) -> tuple[int, dict[str, str], bytes]:
        rel = unquote(path).lstrip("/")
        target = (self.site.root / rel).resolve()
        if target.is_dir():
            target = target / "index.html"
        if self.site.root not in target.parents and target != self.site.root or not target.is_file():
            return 404, {"Content-Type": "text/html; charset=utf-8"}, _html("not found")
        body = target.read_bytes()
        if target.name.endswith(".gbk.html"):
            ctype = "text/html; charset=gbk"
        elif target.suffix in (".html", ".htm"):
            ctype = "text/html"  # no charset: the page's meta tag (or nothing) must be enough
        elif target.suffix == ".txt":
            ctype = "text/plain; charset=utf-8"
        else:
            ctype = "application/octet-stream"
        return self._conditional(200, {"Content-Type": ctype}, body, target.stat().st_mtime)

    def _conditional(
        self, status: int, headers: dict[str, str], body: bytes, mtime: float | None
    ) -> tuple[int, dict[str, str], bytes]:
        if status != 200:
            return status, headers, body
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        headers = {**headers, "ETag": etag}
        if mtime is not None:
            headers["Last-Modified"] = formatdate(int(mtime), usegmt=True)
        if self._not_modified(etag, mtime):
            return 304, {"ETag": etag}, b""
        return 200, headers, body

    def _not_modified(self, etag: str, mtime: float | None) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
            return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        ims = self.headers.get("If-Modified-Since")
        if ims and mtime is not None:
            try:
                return int(mtime) <= parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
        return False
