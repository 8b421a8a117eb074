"""feedsvc/config/cron.py: crontab lines mean what crontab(5) says (checked against a reference matcher written
from the man page), and jitter never blurs one run into the next."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from feedsvc.config import cron_trigger, effective_jitter, jitter_note, parse_config
from feedsvc.errors import ConfigError

NAMES = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
MONTHS = {name: i + 1 for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}


def _crontab_field(text: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    """crontab(5): a comma list of `*`, a number or name, or a range `a-b`, each optionally `/step`;
    `*` is first-last."""
    values: set[int] = set()
    for part in text.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = low, high
        else:
            bounds = [names[v.lower()] if not v.isdigit() else int(v) for v in span.split("-")]
            first, last = bounds[0], bounds[-1]
        values.update(range(first, last + 1, int(step or 1)))
    return values


def _reference_fires(expr: str, start: datetime, end: datetime) -> list[datetime]:
    """Every minute in [start, end) that crontab(5) runs `expr` at (UTC), by its own rules: weekday 0-7 with 0
    and 7 Sunday; when day of month and weekday are both restricted (do not start with '*'), either matching
    is enough, else both must."""
    minute, hour, dom, month, dow = expr.split()
    minutes, hours = _crontab_field(minute, 0, 59, {}), _crontab_field(hour, 0, 23, {})
    doms, months = _crontab_field(dom, 1, 31, {}), _crontab_field(month, 1, 12, MONTHS)
    dows = {d % 7 for d in _crontab_field(dow, 0, 7, NAMES)}
    either = not dom.startswith("*") and not dow.startswith("*")
    fires = []
    at = start
    while at < end:
        weekday = (at.weekday() + 1) % 7  # Python: Monday 0; crontab: Sunday 0
        day_ok = (at.day in doms or weekday in dows) if either else (at.day in doms and weekday in dows)
        if at.minute in minutes and at.hour in hours and at.month in months and day_ok:
            fires.append(at)
        at += timedelta(minutes=1)
    return fires


def _trigger_fires(expr: str, start: datetime, end: datetime) -> list[datetime]:
    trigger = cron_trigger(expr, "UTC")
    fires: list[datetime] = []
    previous = None
    now = start
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None or fire >= end:
            return fires
        fires.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)


@pytest.mark.parametrize("expr", [
    "15 6 * * 0", "15 6 * * 7", "0 9 * * 0-4", "0 9 * * 0-6", "0 9 * * 0-7", "0 9 * * */2", "0 9 * * */3",
    "0 9 * * 1-7/2", "0 9 * * 5-7", "0 9 * * 1-5", "0 9 * * sun,wed", "0 9 * * 6,7", "0 9 * * MON",
    "0 9 13 * 5", "0 9 1-7 * 0", "0 9 */10 * 1", "30 */6 * * 1-5", "0 12 * feb-mar 0,3",
])
def test_schedules_fire_when_crontab_would(expr: str) -> None:
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC)
    assert _trigger_fires(expr, start, end) == _reference_fires(expr, start, end)


def test_every_other_weekday_is_sunday_tuesday_thursday_saturday() -> None:
    # crontab steps over 0-7 from Sunday; APScheduler alone would give Mon/Wed/Fri/Sun.
    fires = _trigger_fires("0 9 * * */2", datetime(2026, 11, 29, tzinfo=UTC), datetime(2026, 12, 6, tzinfo=UTC))
    assert [f.strftime("%a") for f in fires] == ["Sun", "Tue", "Thu", "Sat"]


def test_weekday_7_is_sunday_in_config_and_schedule() -> None:
    cfg = parse_config({"scheduler": {"default_schedule": "15 6 * * 7"}}, "config.toml")
    fire = cron_trigger(cfg.scheduler.default_schedule).get_next_fire_time(None, datetime(2026, 11, 27, tzinfo=UTC))
    assert fire == datetime(2026, 11, 29, 6, 15, tzinfo=UTC)


@pytest.mark.parametrize(("expr", "message"), [
    ("0 9 * * 8", "not 0-7"), ("0 9 * * 5-2", "runs backwards"), ("0 9 * * funday", "not 0-7"),
    ("0 9 * * 1/2", "a step needs a range"), ("0 9 * *", "needs 5 fields"), ("0 25 * * *", ""),
    ("0 9 * * ²", "not crontab syntax"),
])
def test_bad_lines_are_config_errors(expr: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"invalid cron expression.*{re.escape(message)}"):
        parse_config({"scheduler": {"default_schedule": expr}}, "config.toml")


def test_jitter_is_capped_to_a_tenth_of_the_interval() -> None:
    assert effective_jitter("* * * * *", "UTC", 600) == 6
    assert effective_jitter("*/5 * * * *", "UTC", 600) == 30
    assert effective_jitter("0 3 * * *", "UTC", 600) == 600
    assert effective_jitter("0 9,10 * * *", "UTC", 600) == 360  # the shortest gap counts, not the average
    assert effective_jitter("* * * * *", "UTC", 0) == 0


def test_capped_jitter_is_what_the_trigger_uses() -> None:
    trigger = cron_trigger("* * * * *", "UTC", 600)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(50):
        fire = trigger.get_next_fire_time(None, start)
        assert start <= fire <= start + timedelta(seconds=6)


def test_jitter_note_says_when_jitter_would_shift_a_schedule() -> None:
    note = jitter_note("* * * * *", "UTC", 600)
    assert note is not None and "'* * * * *'" in note and "600 s" in note and "capped to 6 s" in note
    assert jitter_note("0 3 * * *", "UTC", 600) is None
