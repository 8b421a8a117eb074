"""Which feeds changed, and telling the hubs: `announce_feeds(cfg)` after a crawl, related refresh, rebuild or
static publishing.

A feed URL is announced to a hub when the digest of its bytes differs from the digest last announced to that
hub successfully (so a feed that did not change is not announced, and one whose announcement failed is tried
again next time). Every result is recorded (feedsvc/store/websub.py) for `feedsvc status` and /metrics.
Announcing never raises and, started with `announce_in_background`, never delays the caller.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from feedsvc.config import AppConfig
from feedsvc.feeds.builder import FeedBuilder
from feedsvc.feeds.render import FORMATS
from feedsvc.feeds.spec import FeedFilter, all_specs
from feedsvc.store import Store
from feedsvc.store.meta import data_version
from feedsvc.store.websub import AnnouncementResult, HubSummary, announced_digests, record_announcements
from feedsvc.websub.hub import publish_to_hub

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AnnounceReport:
    """Counts over all hubs: feed URLs announced successfully, failed, and left alone (unchanged)."""

    announced: int = 0
    failed: int = 0
    unchanged: int = 0


class _LastBuild:
    """The digests of the last build per database and feed set, with the data version they were built at: feeds
    change only when the data version does, so announcing again at the same version builds nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[tuple[str, ...], tuple[int, dict[str, str]]] = {}

    def get(self, key: tuple[str, ...], version: int) -> dict[str, str] | None:
        with self._lock:
            found = self._last.get(key)
        return found[1] if found is not None and found[0] == version else None

    def put(self, key: tuple[str, ...], version: int, digests: dict[str, str]) -> None:
        with self._lock:
            self._last[key] = (version, digests)


_LAST_BUILD = _LastBuild()


def _build_key(cfg: AppConfig) -> tuple[str, ...]:
    return (cfg.database.url, cfg.server.public_base_url, *(spec.path("atom") for spec in all_specs(cfg)))


def feed_digests(cfg: AppConfig, session_factory: sessionmaker[Session]) -> dict[str, str]:
    """Self URL → digest of every listed feed in every format: the documents subscribers poll. Reuses the last
    build's digests while the data version is the same (static publishing hands in its own instead)."""
    with session_factory() as session:
        version = data_version(session)  # read first: a write during the build makes the next call rebuild
    key = _build_key(cfg)
    cached = _LAST_BUILD.get(key, version)
    if cached is not None:
        return cached
    builder = FeedBuilder(cfg, session_factory)
    base = cfg.server.public_base_url
    digests = {base + spec.path(fmt): builder.build(spec, fmt, FeedFilter()).digest
               for spec in all_specs(cfg) for fmt in FORMATS}
    _LAST_BUILD.put(key, version, digests)
    return digests


def announce_changed(cfg: AppConfig, session_factory: sessionmaker[Session], digests: Mapping[str, str], *,
                     at: datetime | None = None, sleep: Callable[[float], None] = time.sleep) -> AnnounceReport:
    """Announce to each configured hub the URLs of `digests` whose content changed; record every result."""
    settings = cfg.websub
    announced = failed = unchanged = 0
    for hub in settings.hubs:
        with session_factory() as session:
            known = announced_digests(session, hub)
        changed = [url for url, d in digests.items() if known.get(url) != d]
        unchanged += len(digests) - len(changed)
        if not changed:
            continue
        answers = publish_to_hub(hub, changed, timeout=settings.timeout, retries=settings.retries,
                                 backoff=settings.backoff, batch_size=settings.batch_size, sleep=sleep)
        results = [AnnouncementResult(hub, a.url, digests[a.url], a.ok, a.http_status, a.attempts, a.error)
                   for a in answers]
        with session_factory() as session, session.begin():
            record_announcements(session, results, at or datetime.now(UTC))
        ok = sum(r.ok for r in results)
        announced, failed = announced + ok, failed + len(results) - ok
        log.info("websub hub=%s announced=%d failed=%d unchanged=%d", hub, ok, len(results) - ok,
                 len(digests) - len(changed))
    return AnnounceReport(announced, failed, unchanged)


def announce_feeds(cfg: AppConfig, published: Mapping[str, str] | None = None, *,
                   sleep: Callable[[float], None] = time.sleep) -> AnnounceReport | None:
    """After feeds may have changed: announce the changed ones to every hub. `published`: route path → digest
    from static publishing (its files are served under [server] base_url), so feeds are not built twice.
    None when no hub is configured or announcing failed (logged; never raised)."""
    if not cfg.websub.hubs:
        return None
    try:
        store = Store.for_config(cfg)
    except Exception:
        log.exception("websub: cannot open the database; nothing announced")
        return None
    try:
        if published is not None:
            digests = {cfg.server.public_base_url + path: d for path, d in published.items()}
        else:
            digests = feed_digests(cfg, store.session_factory)
        return announce_changed(cfg, store.session_factory, digests, sleep=sleep)
    except Exception:
        log.exception("websub: announcing failed; feeds are unaffected")
        return None
    finally:
        store.close()


def announce_in_background(cfg: AppConfig, published: Mapping[str, str] | None = None) -> threading.Thread | None:
    """Start `announce_feeds` in its own thread and return at once: a slow or dead hub never holds up a crawl.
    Not a daemon thread, so a command-line process finishes its announcements before it exits."""
    if not cfg.websub.hubs:
        return None
    # daemon=False explicitly: started from the after-crawl thread (a daemon), it would inherit its daemon flag.
    thread = threading.Thread(target=announce_feeds, args=(cfg, published), name="websub-announce", daemon=False)
    thread.start()
    return thread


def status_lines(summaries: list[HubSummary]) -> list[str]:
    """Plain lines for `feedsvc status`: per hub, how the latest announcements went."""
    lines = []
    for s in summaries:
        when = s.last_attempt.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ") if s.last_attempt else "-"
        line = f"websub {s.hub}: {s.ok} feed URL(s) announced ok, {s.failed} failed (last try {when})"
        if s.failed and s.last_error:
            line += f"; last error: {s.last_error}"
        lines.append(line)
    return lines
