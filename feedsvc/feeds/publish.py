"""Static publishing: every feed, the OPML and the index page as files whose paths match the HTTP routes.

Besides the listed feeds, the related-items feed of every entry that links to one is published (and, in turn,
those of the entries it lists), so no link in a published file points at a missing file.

Uses the same FeedBuilder and page renderers as the app, so a published file has the bytes the server would
send for that URL without query parameters. Only files whose bytes changed are written (a night of crawls
rewrites what changed, not thousands of files; the web server's Last-Modified/ETag stay true), and those are
replaced atomically (write + rename), so a web server or CDN serving the folder never sees half a file. A manifest (MANIFEST_FILE) lists what the last run wrote: files
of sources no longer configured are removed only when the manifest names them, never a file someone else put
there, and nothing is written or removed through a symlink leading out of the folder.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from feedsvc.config import AppConfig
from feedsvc.errors import StorageError
from feedsvc.feeds import front_page
from feedsvc.feeds.builder import FeedBuilder
from feedsvc.feeds.render import FORMATS
from feedsvc.feeds.spec import FeedFilter, FeedSpec, all_specs
from feedsvc.store import Store

log = logging.getLogger(__name__)
INDEX_FILE = "index.html"
OPML_FILE = "opml"
MANIFEST_FILE = ".feedsvc-published.json"


@dataclass(frozen=True)
class PublishResult:
    out_dir: Path
    written: int  # files whose bytes changed (or were new)
    removed: int
    # Route path → digest of every feed file written (what WebSub announces when it changed).
    digests: dict[str, str] = field(default_factory=dict)
    unchanged: int = 0  # files left alone: their bytes were already there


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless the file already holds exactly it; True when written."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except (FileNotFoundError, NotADirectoryError):
        pass
    _write_atomic(path, data)
    return True


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
        return _publish(cfg, out, progress)
    except OSError as exc:
        detail = f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else str(exc)
        raise StorageError(f"Cannot publish to {out}: {detail}. Choose a writable DIR.") from None


def _publish(cfg: AppConfig, out: Path, progress: Callable[[int, int], None] | None) -> PublishResult:
    root = out.resolve()
    previous = _read_manifest(out)
    with Store.for_config(cfg) as store:
        builder = FeedBuilder(cfg, store.session_factory)
        jobs = [(spec, fmt) for spec in all_specs(cfg) for fmt in FORMATS]
        total = len(jobs) + 2
        written: set[Path] = set()
        changed = 0
        digests: dict[str, str] = {}
        queued: set[int] = set()
        done = 0
        while jobs:  # grows while entries link to related feeds not yet queued
            spec, fmt = jobs.pop(0)
            path = _inside(root, out / spec.path(fmt).lstrip("/"))
            built = builder.build(spec, fmt, FeedFilter())
            changed += _write_if_changed(path, built.body)
            written.add(path)
            digests[spec.path(fmt)] = built.digest
            fresh = [i for i in built.related_feed_ids if i not in queued]
            queued.update(fresh)
            jobs += [(FeedSpec("related", item_id=i), f) for i in fresh for f in FORMATS]
            total += len(fresh) * len(FORMATS)
            done += 1
            if progress:
                progress(done, total)
        changed += _write_if_changed(out / OPML_FILE, front_page.render_opml_document(builder))
        with store.session() as session:
            changed += _write_if_changed(out / INDEX_FILE, front_page.render_index(builder, session, now=datetime.now(UTC)))
        if progress:
            progress(total, total)
    names = {path.relative_to(out).as_posix() for path in written}
    removed = _remove_stale(out, root, previous - names)
    _write_if_changed(out / MANIFEST_FILE, json.dumps(sorted(names), indent=0).encode())
    return PublishResult(out_dir=out, written=changed, removed=removed, digests=digests,
                         unchanged=len(written) + 2 - changed)


def _inside(root: Path, path: Path) -> Path:
    """`path` if its folder is inside `root` once symlinks are followed; StorageError otherwise."""
    folder = path.parent
    while not folder.exists():  # not created yet: its nearest existing ancestor decides
        folder = folder.parent
    if folder.resolve() != root and root not in folder.resolve().parents:
        raise StorageError(f"Refusing to publish {path}: {folder} leads out of {root} through a symlink. "
                           "Remove the symlink or publish to another DIR.")
    return path


def _read_manifest(out: Path) -> set[str]:
    """Relative paths the last run wrote (empty when there is no manifest: then nothing is removed)."""
    try:
        names = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set()
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable publish manifest in %s: %s", out, exc)
        return set()
    return {name for name in names if isinstance(name, str)} if isinstance(names, list) else set()


def _remove_stale(out: Path, root: Path, stale: set[str]) -> int:
    """Delete files the last run wrote and this one did not (a source or listing removed from the config),
    then the folders that left empty; never through a symlink and never outside `root`."""
    removed = 0
    for name in sorted(stale):
        path = out / name
        if ".." in Path(name).parts or path.suffix.lstrip(".") not in FORMATS or path.is_symlink():
            continue
        try:
            _inside(root, path)
        except StorageError as exc:
            log.warning("not removing stale feed: %s", exc)
            continue
        if path.is_file():
            path.unlink()
            removed += 1
            folder = path.parent
            while folder != out and folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
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
