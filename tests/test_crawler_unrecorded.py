"""crawler/unrecorded.py: run ends kept on file when the database could not take them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from crawler.unrecorded import forget_ends, keep_end, pending_ends
from feedsvc.store.runs import RunCounts, RunEnd

AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_kept_ends_come_back_per_source_oldest_first_and_go_once_forgotten(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "gw"
    ends = [RunEnd(12, "gw", "failed", "database write failed: database or disk is full; 40 item(s) seen but "
                   "not stored", AT, RunCounts(pages=41, errors=0, listing_counts={"latest": 40})),
            RunEnd(3, "gw", "ok", "1 page(s)", AT), RunEnd(7, "other", "ok", "x", AT)]
    assert all(keep_end(folder, end) for end in ends)
    (folder / "unrecorded-run-99.json").write_text("{broken", encoding="utf-8")  # skipped, not fatal
    back = pending_ends(folder, "gw")
    assert back == [ends[1], ends[0]]
    forget_ends(folder, back)
    assert pending_ends(folder, "gw") == [] and pending_ends(folder, "other") == [ends[2]]


def test_a_folder_that_cannot_be_written_is_false_not_an_exception(tmp_path: Path) -> None:
    (tmp_path / "gw").write_text("a file where the folder should be", encoding="utf-8")
    assert not keep_end(tmp_path / "gw", RunEnd(1, "gw", "failed", "full", AT))


def test_a_missing_folder_has_no_ends(tmp_path: Path) -> None:
    assert pending_ends(tmp_path / "never", "gw") == []
