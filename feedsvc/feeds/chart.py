"""The front page's crawl-health chart: recent runs → bar geometry for an inline SVG. Pure; no SQL, no HTML.

One slot per run, oldest on the left. A bar's height is the run's new items against the busiest run in the
window; a run that saw nothing new still gets a low stub, so "ran, nothing new" differs from "no run". Failed
and aborted runs are full-height red marks, whatever they stored, so a bad streak shows at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC

from feedsvc.models import RunStatus
from feedsvc.store.overview import RunPoint

SLOTS = 30
SLOT_WIDTH = 8
BAR_WIDTH = 6
HEIGHT = 36
STUB = 2
FAILED = (RunStatus.FAILED, RunStatus.ABORTED)


@dataclass(frozen=True, slots=True)
class Bar:
    x: int
    y: int
    height: int
    kind: str  # ok | partial | failed | running: the CSS class
    label: str  # the tooltip (SVG <title>)


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    empty: list[int]  # x of each slot no run has filled yet (drawn faintly, so the window reads as 30)
    summary: str  # one sentence: the chart for screen readers, and its caption


def health_chart(runs_newest_first: Sequence[RunPoint]) -> Chart:
    runs = list(reversed(runs_newest_first[:SLOTS]))
    busiest = max((r.items_new for r in runs if r.status not in FAILED), default=0)
    offset = SLOTS - len(runs)  # right-aligned: the newest run is always at the right edge
    bars = [_bar(run, offset + i, busiest) for i, run in enumerate(runs)]
    empty = [slot * SLOT_WIDTH + (SLOT_WIDTH - BAR_WIDTH) // 2 for slot in range(offset)]
    return Chart(width=SLOTS * SLOT_WIDTH, height=HEIGHT, bars=bars, empty=empty, summary=_summary(runs))


def _bar(run: RunPoint, slot: int, busiest: int) -> Bar:
    kind = ("failed" if run.status in FAILED else run.status
            if run.status in (RunStatus.PARTIAL, RunStatus.RUNNING) else "ok")
    if kind == "failed":
        height = HEIGHT
    else:
        height = STUB + (round((HEIGHT - STUB) * run.items_new / busiest) if busiest else 0)
    when = run.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    label = f"{when}: {run.status}, {run.items_new} new of {run.items_seen} seen"
    if run.errors:
        label += f", {run.errors} error{'s' if run.errors != 1 else ''}"
    return Bar(x=slot * SLOT_WIDTH + (SLOT_WIDTH - BAR_WIDTH) // 2, y=HEIGHT - height, height=height, kind=kind,
               label=label)


def _summary(runs: Sequence[RunPoint]) -> str:
    if not runs:
        return "No crawls yet."
    failed = sum(r.status in FAILED for r in runs)
    partial = sum(r.status == RunStatus.PARTIAL for r in runs)
    new = sum(r.items_new for r in runs)
    parts = [f"Last {len(runs)} crawl{'s' if len(runs) != 1 else ''}: {new} new item{'s' if new != 1 else ''}"]
    if failed:
        parts.append(f"{failed} failed")
    if partial:
        parts.append(f"{partial} partial")
    if not failed and not partial:
        parts.append("all ok")
    return ", ".join(parts) + "."
