"""Static publishing: every feed, the OPML and the index page as files whose paths match the HTTP routes.

Besides the listed feeds, the related-items feed of every entry that links to one is published (and, in turn,
those of the entries it lists), so no link in a published file points at a missing file.

Uses the same FeedBuilder and page renderers as the app, so a published file has the bytes the server would
send for that URL without query parameters. Files are replaced atomically (write + rename), and feed files
of sources no longer configured are removed, so a web server or CDN serving the folder never sees half a file.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from feedsvc.config import AppConfig
from feedsvc.errors import StorageError
from feedsvc.feeds.builder import FeedBuilder
from feedsvc.feeds.render import FORMATS
from feedsvc.feeds.spec import FeedFilter, FeedSpec, all_specs
from feedsvc.http import pages
from feedsvc.store import Store

log = logging.getLogger(__name__)
INDEX_FILE = "index.html"
OPML_FILE = "opml"


@dataclass(frozen=True)
class PublishResult:
    out_dir: Path
    written: int
    removed: int
    # Route path → digest of every feed file written (what WebSub announces when it changed).
    digests: dict[str, str] = field(default_factory=dict)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish(cfg: AppConfig, out_dir: str | os.PathLike[str],
            progress: Callable[[int, int], None] | None = None) -> PublishResult:
    """Write every listed feed in every format, `opml` and `index.html` under `out_dir`.

    `progress(done, total)` is called after each file (the CLI draws a bar with it).
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"Cannot create publish folder {out}: {exc}. Choose a writable DIR.") from None
    with Store.for_config(cfg) as store:
        builder = FeedBuilder(cfg, store.session_factory)
        jobs = [(spec, fmt) for spec in all_specs(cfg) for fmt in FORMATS]
        total = len(jobs) + 2
        written: set[Path] = set()
        digests: dict[str, str] = {}
        queued: set[int] = set()
        done = 0
        while jobs:  # grows while entries link to related feeds not yet queued
            spec, fmt = jobs.pop(0)
            path = out / spec.path(fmt).lstrip("/")
            built = builder.build(spec, fmt, FeedFilter())
            _write_atomic(path, built.body)
            written.add(path)
            digests[spec.path(fmt)] = built.digest
            fresh = [i for i in built.related_feed_ids if i not in queued]
            queued.update(fresh)
            jobs += [(FeedSpec("related", item_id=i), f) for i in fresh for f in FORMATS]
            total += len(fresh) * len(FORMATS)
            done += 1
            if progress:
                progress(done, total)
        _write_atomic(out / OPML_FILE, pages.render_opml_document(builder))
        with store.session() as session:
            _write_atomic(out / INDEX_FILE, pages.render_index(builder, session))
        if progress:
            progress(total, total)
    removed = _remove_stale(out / "feeds", written)
    return PublishResult(out_dir=out, written=len(written) + 2, removed=removed, digests=digests)


def _remove_stale(feeds_dir: Path, keep: set[Path]) -> int:
    """Delete feed files we did not write this time (a source or listing removed from the config)."""
    removed = 0
    if not feeds_dir.is_dir():
        return 0
    for path in sorted(feeds_dir.rglob("*"), reverse=True):
        if path.is_file() and path.suffix.lstrip(".") in FORMATS and path not in keep:
            path.unlink()
            removed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return removed


def publish_if_configured(cfg: AppConfig) -> PublishResult | None:
    """After a crawl: publish to `[server] publish_dir` when it is set; None otherwise. Never raises for a
    publishing problem (the crawl already succeeded); it is logged instead."""
    if not cfg.server.publish_dir:
        return None
    try:
        return publish(cfg, cfg.resolve_path(cfg.server.publish_dir))
    except (OSError, StorageError) as exc:
        log.error("publish failed dir=%s: %s", cfg.server.publish_dir, exc)
        return None
