"""How a rendered Document becomes an HTTP response: 200 or 304, identity or gzip, and its headers.

The one place that decides this, used by the pure-ASGI fast path (cache hits) and by the Starlette handlers
(misses, OPML, the index page), so both answer a request for the same document with the same headers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from starlette.responses import Response

from feedsvc.http.cache import Document, not_modified

Headers = tuple[tuple[bytes, bytes], ...]


def wants_gzip(accept_encoding: str) -> bool:
    """gzip listed in Accept-Encoding and not refused with q=0."""
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            q = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
            try:
                return float(q) > 0
            except ValueError:
                return True
    return False


@dataclass(frozen=True, slots=True)
class Reply:
    """Status, encoded headers and body of a document response (the body is empty for 304)."""

    status: int
    headers: Headers
    body: bytes


@dataclass(frozen=True, slots=True)
class Conditions:
    """The request headers that decide the reply."""

    if_none_match: str | None = None
    if_modified_since: str | None = None
    accept_encoding: str | None = None

    @classmethod
    def from_raw(cls, headers: Iterable[tuple[bytes, bytes]]) -> Conditions:
        """From ASGI scope headers (lower-case names); the fast path reads them without building a Request."""
        inm = ims = ae = None
        for name, value in headers:
            if name == b"if-none-match":
                inm = value.decode("latin-1")
            elif name == b"if-modified-since":
                ims = value.decode("latin-1")
            elif name == b"accept-encoding":
                ae = value.decode("latin-1")
        return cls(inm, ims, ae)


def reply(doc: Document, max_age: int, conditions: Conditions) -> Reply:
    """304 when the client's copy is current, else 200 with the gzip body when the client accepts it.
    `max_age` 0 means clients must revalidate every time (Cache-Control: no-cache)."""
    if not_modified(doc, conditions.if_none_match, conditions.if_modified_since):
        return Reply(304, _headers(doc.etag, doc.last_modified, doc.media_type, -1, "304", max_age), b"")
    gz = conditions.accept_encoding is not None and wants_gzip(conditions.accept_encoding)
    body = doc.gzip_body if gz else doc.body
    variant = "gzip" if gz else "identity"
    return Reply(200, _headers(doc.etag, doc.last_modified, doc.media_type, len(body), variant, max_age), body)


# Encoding headers per document costs more than the rest of a cache hit; validators repeat, so keep them.
@lru_cache(maxsize=4096)
def _headers(etag: str, last_modified: str, media_type: str, length: int, variant: str, max_age: int) -> Headers:
    cache_control = f"public, max-age={max_age}" if max_age > 0 else "no-cache"
    out = [(b"etag", etag.encode("latin-1")), (b"last-modified", last_modified.encode("latin-1")),
           (b"cache-control", cache_control.encode("latin-1")), (b"vary", b"Accept-Encoding")]
    if variant != "304":
        if variant == "gzip":
            out.append((b"content-encoding", b"gzip"))
        out.append((b"content-type", media_type.encode("latin-1")))
        out.append((b"content-length", str(length).encode("latin-1")))
    return tuple(out)


async def send_reply(scope: Any, send: Any, answer: Reply) -> None:
    """Send `answer` over ASGI; a HEAD request gets the headers (with the GET's length) and no body."""
    await send({"type": "http.response.start", "status": answer.status, "headers": list(answer.headers)})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else answer.body})


class DocumentResponse(Response):
    """A Starlette response for handlers, sending exactly what `reply` decided."""

    def __init__(self, answer: Reply) -> None:
        self.answer = answer
        self.status_code = answer.status
        self.body = answer.body
        self.background = None
        self.raw_headers = list(answer.headers)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send_reply(scope, send, self.answer)
