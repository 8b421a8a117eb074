"""A local WebSub hub for tests: a ThreadingHTTPServer on 127.0.0.1:0 that records every publish request.

`mode` decides the answer: "ok" (204), "down" (503 every time), "no-batches" (400 when a request names more
than one hub.url, 204 otherwise), "slow" (waits `delay` seconds, then 204), "redirect" (302 to `location`),
"busy" (503 with `Retry-After: retry_after` the first time, 204 after).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from feedsvc.demo.server import BackgroundServer


@dataclass
class HubRequest:
    mode: list[str]
    urls: list[str]
    content_type: str


class Hub(BackgroundServer):
    thread_name = "test-hub"

    def __init__(self, mode: str = "ok", delay: float = 0.0, location: str = "ftp://127.0.0.1:21/x",
                 retry_after: str = "7") -> None:
        super().__init__()
        self.mode = mode
        self.delay = delay
        self.location = location
        self.retry_after = retry_after
        self.requests: list[HubRequest] = []

    @property
    def url(self) -> str:
        return f"{self.base_url}/hub"

    def urls(self) -> list[str]:
        """Every hub.url received, in order."""
        return [u for r in self.requests for u in r.urls]

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode("ascii")
                form = parse_qs(body)
                request = HubRequest(form.get("hub.mode", []), form.get("hub.url", []),
                                     self.headers.get("content-type", ""))
                hub.requests.append(request)
                if hub.mode == "slow":
                    time.sleep(hub.delay)
                status = 204
                if hub.mode == "down" or (hub.mode == "busy" and len(hub.requests) == 1):
                    status = 503
                elif hub.mode == "no-batches" and len(request.urls) > 1:
                    status = 400
                elif hub.mode == "redirect":
                    status = 302
                self.send_response(status)
                if hub.mode == "redirect":
                    self.send_header("location", hub.location)
                if status == 503 and hub.mode == "busy":
                    self.send_header("retry-after", hub.retry_after)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
