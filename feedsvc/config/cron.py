"""crontab(5) lines as APScheduler 3 triggers: `cron_trigger`, the one cron parser (config check and jobs), and the
jitter rule (`effective_jitter`, `jitter_note`) that keeps a random delay smaller than the schedule's interval.

crontab and APScheduler 3 read the weekday field differently: crontab counts from Sunday = 0 (7 too) and steps
over 0-7, APScheduler counts from Monday = 0; and crontab runs a line whose day-of-month and weekday are both
restricted when *either* matches, APScheduler only when both do. So the weekday field is expanded here into
explicit day names and the "either" case becomes an OrTrigger.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_NUMBERS = {name: number for number, name in enumerate(_DAY_NAMES)}
# Jitter beyond this share of the shortest gap between runs would blur one run into the next.
JITTER_SHARE = 0.1
# Enough consecutive runs to see a schedule's shortest gap (hours of a day, days of a week, months of a year).
_GAP_SAMPLES = 60


def _weekday_value(text: str, expr: str) -> int:
    value = int(text) if text.isdigit() else _DAY_NUMBERS.get(text.lower())  # ASCII only: the caller's regex
    if value is None or not 0 <= value <= 7:
        raise ValueError(f"weekday {text!r} in {expr!r} is not 0-7 or a day name (sun, mon, ...)")
    return value


def crontab_weekdays(field: str, expr: str = "") -> set[int]:
    """The days (0 = Sunday ... 6 = Saturday) a crontab weekday field names, by crontab(5)'s rules: a list of
    `*`, `N`, `A-B`, each with an optional `/step`; values 0-7 (0 and 7 are Sunday) or day names; `*` is 0-7."""
    days: set[int] = set()
    for part in field.split(","):
        match = re.fullmatch(r"(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(\d+))?", part)
        if not match:
            raise ValueError(f"weekday field {field!r} of {expr!r} is not crontab syntax (e.g. 1-5, 0,6, */2)")
        span, step_text = match.groups()
        if span == "*":
            first, last = 0, 7
        elif "-" in span:
            first, last = (_weekday_value(v, expr) for v in span.split("-"))
            if first > last:
                raise ValueError(f"weekday range {span!r} in {expr!r} runs backwards; write it low-high, e.g. 1-5")
        else:
            if step_text is not None:
                raise ValueError(f"weekday {part!r} in {expr!r}: a step needs a range or '*', e.g. 1-5/2")
            first = last = _weekday_value(span, expr)
        step = int(step_text) if step_text is not None else 1
        if step < 1:
            raise ValueError(f"weekday step in {part!r} of {expr!r} must be at least 1")
        days.update(day % 7 for day in range(first, last + 1, step))
    return days


def _trigger(expr: str, timezone: str, jitter: int) -> BaseTrigger:
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"cron expression {expr!r} needs 5 fields (minute hour day month weekday)")
    minute, hour, day, month, weekday = fields
    names = "*" if weekday == "*" else ",".join(_DAY_NAMES[d] for d in sorted(crontab_weekdays(weekday, expr)))

    def cron(day_field: str, weekday_field: str) -> CronTrigger:
        return CronTrigger(minute=minute, hour=hour, day=day_field, month=month, day_of_week=weekday_field,
                           timezone=timezone, jitter=jitter or None)

    # crontab(5): a field that starts with '*' is unrestricted for this rule, even '*/2'.
    if not day.startswith("*") and not weekday.startswith("*"):
        return OrTrigger([cron(day, "*"), cron("*", names)], jitter=jitter or None)
    return cron(day, names)


@functools.lru_cache(maxsize=256)
def shortest_gap(expr: str, timezone: str = "UTC") -> float:
    """Seconds between the two closest consecutive runs of `expr` (sampled over its next runs from a fixed day)."""
    trigger = _trigger(expr, timezone, 0)
    previous = None
    now = datetime(2026, 1, 1, tzinfo=UTC)
    gaps: list[float] = []
    for _ in range(_GAP_SAMPLES):
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:
            break
        if previous is not None:
            gaps.append((fire - previous).total_seconds())
        previous, now = fire, fire + timedelta(seconds=1)
    return min(gaps) if gaps else float("inf")


def effective_jitter(expr: str, timezone: str, jitter: int) -> int:
    """`[scheduler] jitter` capped to JITTER_SHARE of the schedule's shortest interval."""
    return min(jitter, int(shortest_gap(expr, timezone) * JITTER_SHARE)) if jitter else 0


def jitter_note(expr: str, timezone: str, jitter: int) -> str | None:
    """One line for check/status when jitter would shift `expr` by a large part of its interval, else None."""
    used = effective_jitter(expr, timezone, jitter)
    if used == jitter:
        return None
    gap = shortest_gap(expr, timezone)
    return (f"schedule '{expr}' runs every {gap:.0f} s at most; [scheduler] jitter = {jitter} s would shift its "
            f"runs by up to {jitter} s, so it is capped to {used} s ({JITTER_SHARE:.0%} of the interval)")


def cron_trigger(expr: str, timezone: str = "UTC", jitter: int = 0) -> BaseTrigger:
    """A trigger for a standard 5-field crontab line (crontab(5) semantics), in `timezone`, each run starting up
    to `jitter` seconds late (capped by `effective_jitter`).

    The one cron parser: the config check and the scheduler's jobs both use it, so what loads also runs.
    Raises ValueError naming the expression.
    """
    trigger = _trigger(expr, timezone, 0)
    used = effective_jitter(expr, timezone, jitter)
    return _trigger(expr, timezone, used) if used else trigger


def check_cron(value: str) -> str:
    """The config's validator for a cron field: a ValueError with an example when `value` is not a crontab line."""
    try:
        cron_trigger(value)
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {value!r} ({exc}); e.g. '30 2 * * *' is 02:30 daily") from None
    return value
