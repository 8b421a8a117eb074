"""feeds/chart.py: recent runs become bars of the front page's health chart, newest on the right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedsvc.feeds.chart import HEIGHT, SLOT_WIDTH, SLOTS, STUB, health_chart
from feedsvc.models import RunStatus
from feedsvc.store.overview import RunPoint

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)


def _run(n: int, status: str, new: int, errors: int = 0) -> RunPoint:
    return RunPoint(id=n, started_at=T0 + timedelta(hours=n), finished_at=None, status=status, items_seen=new + 1,
                    items_new=new, errors=errors, message=None, counts_raw={})


def test_bars_scale_to_the_busiest_run_and_failures_are_full_height() -> None:
    newest_first = [_run(3, RunStatus.FAILED, 0, errors=2), _run(2, RunStatus.OK, 0), _run(1, RunStatus.PARTIAL, 10)]
    chart = health_chart(newest_first)
    assert [b.kind for b in chart.bars] == ["partial", "ok", "failed"]  # oldest first, left to right
    assert [b.height for b in chart.bars] == [HEIGHT, STUB, HEIGHT]  # "ran, nothing new" is a stub, not nothing
    assert chart.bars[-1].x == (SLOTS - 1) * SLOT_WIDTH + 1 and len(chart.empty) == SLOTS - 3
    assert chart.bars[-1].label == "2026-10-12 04:00 UTC: failed, 0 new of 1 seen, 2 errors"
    assert chart.summary == "Last 3 crawls: 10 new items, 1 failed, 1 partial."


def test_no_runs_and_more_runs_than_slots() -> None:
    assert health_chart([]).summary == "No crawls yet." and len(health_chart([]).empty) == SLOTS
    many = health_chart([_run(n, RunStatus.OK, 1) for n in range(40, 0, -1)])
    assert len(many.bars) == SLOTS and not many.empty
    assert many.summary == f"Last {SLOTS} crawls: {SLOTS} new items, all ok."
