"""The one after-crawl hook: what happens once crawls have finished (related items, static publishing, WebSub).

Called by the side that launched the crawl (feedsvc.scheduling.launcher, after the crawler process exited),
once per finished crawl process, with every source's run and the ids of the items it found new. The crawler
itself never relates or publishes. Its steps never fail the crawl: a failure is logged and reported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from feedsvc.config import AppConfig
from feedsvc.models import LaunchStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinishedRun:
    """One source's finished crawl run, as the crawler reported it."""

    source_id: str
    run_id: int | None
    status: str
    new_item_ids: tuple[int, ...] = ()
    finished_at: datetime | None = None


@dataclass(frozen=True)
class AfterCrawlReport:
    related_items: int = 0  # new items related (0: none were new, or related=False)
    related_ok: bool | None = None  # None when the refresh did not run
    related_seconds: float = 0.0
    published: bool | None = None  # None when nothing was to be published
    publish_dir: Path | None = None


def after_crawl(cfg: AppConfig, finished_runs: Sequence[FinishedRun], *, related: bool = True) -> AfterCrawlReport:
    """Relate the runs' new items to what is stored (unless `related` is False: `--no-related`), then write
    fresh static feeds when `[server] publish_dir` is set and a run succeeded."""
    new_ids = sorted({i for run in finished_runs for i in run.new_item_ids})
    at = max((r.finished_at for r in finished_runs if r.finished_at is not None), default=None) or datetime.now(UTC)
    related_ok: bool | None = None
    started = time.monotonic()
    if new_ids and related:
        related_ok = _refresh_related(cfg, new_ids, at)
    related_seconds = round(time.monotonic() - started, 2)
    published: bool | None = None
    publish_result = None
    publish_dir = cfg.resolve_path(cfg.server.publish_dir) if cfg.server.publish_dir else None
    if publish_dir is not None and any(LaunchStatus(r.status).succeeded for r in finished_runs):
        from feedsvc.feeds.publish import publish_if_configured

        try:
            publish_result = publish_if_configured(cfg)
            published = publish_result is not None
        except Exception:
            log.exception("static publishing to %s failed; the crawl itself succeeded", publish_dir)
            published = False
    if cfg.websub.hubs and (new_ids or any(LaunchStatus(r.status).succeeded for r in finished_runs)):
        from feedsvc.websub.announce import announce_in_background

        # WebSub: hubs hear about the feeds whose bytes changed (published URLs when static publishing ran).
        # In its own thread: a slow or dead hub never delays or fails the crawl.
        announce_in_background(cfg, publish_result.digests if publish_result is not None else None)
    return AfterCrawlReport(len(new_ids) if related else 0, related_ok, related_seconds, published, publish_dir)


def _refresh_related(cfg: AppConfig, new_ids: list[int], at: datetime) -> bool:
    from feedsvc.related.refresh import refresh_related
    from feedsvc.store import Store
    from feedsvc.store.meta import bump_data_version

    try:
        store = Store.for_config(cfg, migrate=False)
    except Exception:
        log.exception("related-items refresh: cannot open the database")
        return False
    try:
        with store.transaction() as session:
            refresh_related(session, new_ids, cfg, at)
            # Entries end with "Related" links: cached feeds built before this refresh are stale now.
            bump_data_version(session)
    except Exception:
        log.exception("related-items refresh failed for %d new item(s); the crawl itself succeeded", len(new_ids))
        return False
    finally:
        store.close()
    return True
