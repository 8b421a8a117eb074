"""In-process cache of rendered feeds, valid until the database's data_version changes (a crawl landed).

A hit costs a dict lookup: the data_version is read from the database at most once per `check_interval`
per process, not per request. Entries hold the final bytes, their gzip twin and the validators (ETag,
Last-Modified), so the HTTP layer answers 200/304 without rebuilding or re-compressing anything.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

DEFAULT_CHECK_INTERVAL = 1.0
DEFAULT_MAX_ENTRIES = 1024
# Bodies can reach ~1 MB (limit=500); bound memory, not just the entry count (per worker process).
DEFAULT_MAX_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Document:
    """A rendered response body with its validators; `version` is the data_version it was built from."""

    body: bytes
    gzip_body: bytes
    media_type: str
    etag: str
    last_modified: str  # HTTP-date
    last_modified_ts: int  # whole seconds since the epoch, for If-Modified-Since
    version: int


def make_document(body: bytes, media_type: str, updated: datetime, version: int) -> Document:
    # Weak ETag: the same validator covers the identity and gzip representations (RFC 9110 §8.8.1).
    etag = f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    updated = updated.astimezone(UTC).replace(microsecond=0)
    return Document(
        body=body,
        gzip_body=gzip.compress(body, compresslevel=6, mtime=0),
        media_type=media_type,
        etag=etag,
        last_modified=format_datetime(updated, usegmt=True),
        last_modified_ts=int(updated.timestamp()),
        version=version,
    )


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2): W/ prefixes are ignored; '*' matches anything."""
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def not_modified(doc: Document, if_none_match: str | None, if_modified_since: str | None) -> bool:
    """True when the client's copy is current. If-None-Match, when present, decides alone (RFC 9110 §13.1.3)."""
    if if_none_match is not None:
        return etag_matches(if_none_match, doc.etag)
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return doc.last_modified_ts <= int(since.timestamp())
    return False


def _size(doc: Document) -> int:
    return len(doc.body) + len(doc.gzip_body)


class FeedCache:
    """key → Document for the current data_version; LRU-bounded because query strings make keys unbounded."""

    def __init__(
        self,
        read_version: Callable[[], int],
        check_interval: float = DEFAULT_CHECK_INTERVAL,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._read_version = read_version
        self.check_interval = check_interval
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._bytes = 0
        self._clock = clock
        self._entries: OrderedDict[str, Document] = OrderedDict()
        self._version: int | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._build_locks: dict[str, threading.Lock] = {}

    def version_is_fresh(self) -> bool:
        """Whether the known data_version was checked recently enough to serve hits without asking the DB."""
        return self._version is not None and self._clock() - self._checked_at < self.check_interval

    def refresh_version(self) -> int:
        """Read data_version (blocking; call from a worker thread) and drop entries built from older data."""
        version = self._read_version()
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self._bytes = 0
                self._version = version
            self._checked_at = self._clock()
        return version

    def current_version(self) -> int:
        if self.version_is_fresh():
            assert self._version is not None
            return self._version
        return self.refresh_version()

    def peek(self, key: str) -> Document | None:
        """A hit only when the version is known fresh; never touches the database."""
        if not self.version_is_fresh():
            return None
        doc = self._entries.get(key)
        if doc is not None and doc.version == self._version:
            return doc
        return None

    def peek_stale(self, key: str) -> Document | None:
        """The document built from the last known data_version, however long ago that was checked."""
        doc = self._entries.get(key)
        if doc is not None and doc.version == self._version:
            return doc
        return None

    def get_or_build(self, key: str, build: Callable[[int], Document]) -> tuple[Document, bool]:
        """(document, was_cached). Blocking; concurrent misses on one key build once."""
        version = self.current_version()
        doc = self._entries.get(key)
        if doc is not None and doc.version == version:
            return doc, True
        with self._lock:
            key_lock = self._build_locks.setdefault(key, threading.Lock())
        with key_lock:
            doc = self._entries.get(key)
            if doc is not None and doc.version == version:
                return doc, True
            doc = build(version)
            self.put(key, doc)
            with self._lock:
                if len(self._build_locks) > 4 * self.max_entries:
                    self._build_locks.clear()
            return doc, False

    def put(self, key: str, doc: Document) -> None:
        """Store `doc` under another key too (e.g. the raw URL the fast path looks up)."""
        with self._lock:
            if doc.version == self._version:
                old = self._entries.pop(key, None)
                if old is not None:
                    self._bytes -= _size(old)
                self._entries[key] = doc
                self._bytes += _size(doc)
                # Several keys may share one Document; counting it per key over-estimates, which is safe.
                while len(self._entries) > 1 and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
                    _, evicted = self._entries.popitem(last=False)
                    self._bytes -= _size(evicted)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._version = None
            self._checked_at = float("-inf")
