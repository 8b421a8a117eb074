"""Run ends the database could not take: kept as small files beside the source's HTTP cache until the next run
of the source writes them (crawler/process.py `_finish`).

On a full disk the run that hit it cannot close its own row, and the next run's `start_run` would only know it
"did not finish". The file keeps the status and the cause (often "database or disk is full") so that run can say
what really happened. The database may be on another disk (PostgreSQL) or space may have been freed meanwhile;
when this folder is full too, the cause is only in the crawl's log.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from feedsvc.store.runs import RunCounts, RunEnd

log = logging.getLogger(__name__)

PREFIX = "unrecorded-run-"


def keep_end(folder: Path, end: RunEnd) -> bool:
    """Write `end` into `folder`; False (and a log line) when that fails too."""
    data = {"run_id": end.run_id, "source_id": end.source_id, "status": end.status, "message": end.message,
            "at": end.at.isoformat(), "counts": asdict(end.counts)}
    path = folder / f"{PREFIX}{end.run_id}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.error("could not keep the end of run %s in %s either: %s", end.run_id, folder, exc)
        return False
    return True


def pending_ends(folder: Path, source_id: str) -> list[RunEnd]:
    """The run ends of `source_id` kept in `folder`, oldest run first; unreadable files are skipped."""
    ends = []
    for path in sorted(folder.glob(f"{PREFIX}*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            end = RunEnd(int(data["run_id"]), str(data["source_id"]), str(data["status"]), str(data["message"]),
                         datetime.fromisoformat(data["at"]), RunCounts(**data["counts"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable run end %s: %s", path, exc)
            continue
        if end.source_id == source_id:
            ends.append(end)
    return sorted(ends, key=lambda e: e.run_id)


def forget_ends(folder: Path, ends: list[RunEnd]) -> None:
    """Remove the files of `ends` once the database holds them."""
    for end in ends:
        (folder / f"{PREFIX}{end.run_id}.json").unlink(missing_ok=True)
