"""Date text on listing and article pages → timezone-aware UTC datetimes. Pure; the crawl clock is passed in.

Month-day dates without a year (`10-12`, `10/12`, `10月12日`, `Nov 3`) become the latest such date not after the
crawl day + 1 day of slack (sites in a zone ahead of ours already show tomorrow), so December items crawled in
January land in the previous year. A date without a time means midnight in the source's time zone.
Common forms take regex fast paths; dateparser is only the fallback for the rest.
Machine-readable forms (`<time datetime>`, `content=`, `data-*` timestamps) go through `parse_machine_date`,
which callers prefer to the shown text: it keeps the exact instant, so the day is taken in the source's zone.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

from feedsvc.text import normalize_space

SLACK = timedelta(days=1)

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
            ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
            ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_TIME = r"(?:[ T]+(?P<H>[01]?\d|2[0-3])[:：](?P<M>[0-5]\d)(?:[:：](?P<S>[0-5]\d))?)?"
_MD_MONTH = r"(?P<m>0?[1-9]|1[0-2])"
_MD_DAY = r"(?P<d>0[1-9]|[12]\d|3[01]|[1-9])"

# Each pattern is anchored with fullmatch in parse_date and searched (unanchored) by find_date_text.
_ISO = r"(?P<iso>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)"
_YMD = rf"(?P<y>(?:19|20)\d{{2}})(?P<sep>[-/.])(?P<m>0?[1-9]|1[0-2])(?P=sep)(?P<d>0[1-9]|[12]\d|3[01]|[1-9])(?!\d){_TIME}"
_YMD_CN = rf"(?P<y>(?:19|20)\d{{2}})\s*年\s*(?P<m>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})\s*[日号]{_TIME}"
_MD_CN = rf"(?<![\d年])(?P<m>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})\s*[日号]{_TIME}"
_MD = rf"(?<![\d./-]){_MD_MONTH}(?P<sep>[-/]){_MD_DAY}(?![\d/-]){_TIME}"
_EN_MDY = rf"\b{_MONTH}\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?(?:,?\s+(?P<y>(?:19|20)\d{{2}}))?\b{_TIME}"
_EN_DMY = rf"\b(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+(?P<y>(?:19|20)\d{{2}}))?\b{_TIME}"
# `14 JAN 20` (nature.com's lists): day, month, two-digit year; tried before `JAN 20` is read as January 20th. Not
# before a clock (`5 Jan 20:30` is a time) or more digits.
_EN_DMY_YY = rf"\b(?P<d>[0-3]?\d)\s+{_MONTH}\s+(?P<yy>\d{{2}})(?![\d:：])"
# US order with a year (`12/31/2014`, as `10/12` is month/day already); a time before it is left aside.
_MDY = r"(?<![\d/.])(?P<m>0?[1-9]|1[0-2])/(?P<d>0[1-9]|[12]\d|3[01]|[1-9])/(?P<y>(?:19|20)\d{2})(?![\d/])"
_REL_CN = r"(?P<n>\d+|[一两二三四五六七八九十半])\s*(?P<unit>秒|分钟|小时|天|日|周|星期|个月|月|年)\s*前"
_REL_EN = (r"\b(?P<n>\d+|an?|one)\s*(?P<unit>seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?"
           r"|years?|yrs?)\s+ago\b")
_DAYWORD = rf"(?P<word>今天|昨天|前天|刚刚|today|yesterday|just now){_TIME.replace('[ T]+', '[ T]*')}"

_KINDS: tuple[tuple[str, str], ...] = (
    ("iso", _ISO),
    ("ymd", _YMD),
    ("ymd", _YMD_CN),
    ("ymd", _MDY),
    ("en", _EN_DMY_YY),
    ("en", _EN_MDY),
    ("en", _EN_DMY),
    ("rel_cn", _REL_CN),
    ("rel_en", _REL_EN),
    ("word", _DAYWORD),
    ("md", _MD_CN),
    ("md", _MD),
)
_FULL = [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _KINDS]
# Forms read only when they are the whole date text, never searched for in free text: a bare `08:52` is today's
# time on a news list but a video's length on another (`收看01:49`), and `2019-07` is a month, not a version.
_ONLY_TIME = re.compile(r"(?P<H>[01]?\d|2[0-3])[:：](?P<M>[0-5]\d)(?:[:：](?P<S>[0-5]\d))?")
_YEAR_MONTH = re.compile(r"(?P<y>(?:19|20)\d{2})\s*(?:[-/.]|年)\s*(?P<m>0?[1-9]|1[0-2])\s*月?")
# Order for searching free text: fuller forms first, so "发布时间:2024-10-12 09:30" is not read as "10-12".
_SEARCH = _FULL

_ZONED_TIME = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?\s*(?:[+-]\d{4}|GMT|UTC|UT)\b")
_OTHER_SCRIPT = re.compile("[^\x00-\x7f\u2000-\u206f\u3000-\u9fff\uff00-\uffef]")
_CN_NUMBERS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_EN_UNITS = {"sec": "seconds", "min": "minutes", "hr": "hours", "wk": "weeks", "yr": "years"}
_CN_UNITS = {"秒": "seconds", "分钟": "minutes", "小时": "hours", "天": "days", "日": "days", "周": "weeks",
             "星期": "weeks", "个月": "months", "月": "months", "年": "years"}
_DAY_WORDS = {"今天": 0, "today": 0, "昨天": 1, "yesterday": 1, "前天": 2}

# Leading/trailing dates glued to titles: `10-122024年…`, `[10-12] 标题`, `标题 2024-10-12`, `見出し（2018/6/18 14:10）`.
# Brackets: ASCII, CJK and full-width ones (`【】`, `（）`, `［］`, `「」`, `〔〕`); Japanese lists add 付 ("dated").
_OPEN = "[(\\[【（［「『〔〈《]"
_CLOSE = "[)\\]】）］」』〕〉》]"
_LEAD_CHARS = "([【（［「『〔〈《昨前今刚"
_TRAIL_CHARS = ")]】）］」』〕〉》日付"
_CLOCK = r"(?:[01]?\d|2[0-3])[:：][0-5]\d(?:[:：][0-5]\d)?"
_FULL_DAY = (r"(?:19|20)\d{2}([-/.])(?:0?[1-9]|1[0-2])\2(?:0[1-9]|[12]\d|3[01]|[1-9])"
             r"|(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*[日号]")
_LEAD_FULL = re.compile(rf"^{_OPEN}?\s*((?:{_FULL_DAY})(?:\s*{_CLOCK})?)\s*付?\s*{_CLOSE}?")
# `<a><span>6小时前</span> 标题</a>`: a relative date or day word (with its time) before the title.
_LEAD_REL = re.compile(rf"^{_OPEN}?\s*(\d+\s*(?:秒|分钟|小时|天|周|个月)\s*前|(?:昨天|前天|今天|刚刚)(?:\s*{_CLOCK})?(?=[\s\])】）］]|$)"
                       rf"|\d+\s+(?:second|minute|hour|day|week|month|year)s?\s+ago\b)\s*{_CLOSE}?", re.I)
_LEAD_MD = re.compile(rf"^{_OPEN}?\s*((?:0?[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]|[1-9]))\s*{_CLOSE}?")
# After a month-day, a digit run is only a glued year when it is one (`10-122024年…`); a unit after the
# numbers means the title itself starts with a range (`3-5年规划`, `12-15岁`, `1-2月经济运行`).
_AFTER_MD_OK = re.compile(r"^(?:$|\s|(?:19|20)\d{2}(?!\d)|[^\d年月日号天个岁周%万亿元次期届名人项条.\-/:])")
_TRAIL_FULL = re.compile(
    rf"(?:(?<=[\s\[(【（［「『〔〈《])|(?<=[^\x00-\x7f])){_OPEN}?\s*"
    r"((?:19|20)\d{2}([-/.])(?:0?[1-9]|1[0-2])\2(?:0[1-9]|[12]\d|3[01]|[1-9])(?:\s+\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?"
    r"|(?:19|20)\d{2}年\d{1,2}月\d{1,2}日(?:\s*\d{1,2}[:：]\d{2})?)"
    rf"\s*付?\s*{_CLOSE}?\s*$"
)
# A trailing month-day needs a space or bracket before it: `第3-12` glued to CJK is part of the title.
_TRAIL_MD = re.compile(rf"(?:\s+{_OPEN}?|{_OPEN})\s*((?:0?[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]|[1-9]))\s*{_CLOSE}?\s*$")


def parse_date(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """Timezone-aware UTC datetime for a date as a page shows it, or None when it is not a date we understand.

    `now` is the crawl clock (aware); relative and year-less dates are resolved against it in `tz`.
    """
    value = " ".join(text.replace("\u3000", " ").replace("\xa0", " ").split())
    if not value or len(value) > 80:
        return None
    for kind, pattern in _FULL:
        match = pattern.fullmatch(value)
        if match:
            return _resolve(kind, match, now, tz)
    if match := _ONLY_TIME.fullmatch(value):  # a time alone is today's, in the source's time zone
        return _at(now.astimezone(tz).date(), match, tz)
    if match := _YEAR_MONTH.fullmatch(value):  # a month alone: its first day
        return _local_midnight(date(int(match.group("y")), int(match.group("m")), 1), tz)
    if _ZONED_TIME.search(value):
        # RFC 2822 (`Tue, 03 Nov 2026 10:00:00 +0000`): the offset must not be lost to the search below.
        try:
            return parsedate_to_datetime(value).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    # "发布时间:2024-10-12 09:30 来源:本站": the date inside a label line.
    for kind, pattern in _SEARCH:
        match = pattern.search(value)
        if match:
            return _resolve(kind, match, now, tz)
    return _fallback(value, now, tz)


# Attributes that hold a machine-readable date, best first; any other data-* whose name says date/time next.
_MACHINE_ATTRS = ("datetime", "content", "data-timestamp", "data-time", "data-date", "data-datetime",
                  "data-published", "data-pubdate", "data-ts")
_MACHINE_HINT = re.compile(r"^data-.*(?:time|date|stamp|publish|(?:^|[-_])ts$)")
_EPOCH = re.compile(r"\d{9,10}(?:\d{3})?(?:\.\d+)?")
_ISO_DATE = re.compile(r"(?:19|20)\d{2}-\d{2}-\d{2}")
# 2001-09-09 .. 2286: a 9-10 digit number is seconds since 1970, 12-13 digits milliseconds.
_EPOCH_MIN, _EPOCH_MAX = 1_000_000_000, 9_999_999_999


def machine_date_value(attrs: Mapping[str, str]) -> str | None:
    """The machine-readable date among an element's attributes (`datetime`, `content`, `data-*` timestamps)."""
    for name in _MACHINE_ATTRS:
        value = (attrs.get(name) or "").strip()
        if value and parse_machine_date(value, UTC) is not None:
            return value
    for name, raw in attrs.items():
        value = (raw or "").strip()
        if value and _MACHINE_HINT.match(name.lower()) and parse_machine_date(value, UTC) is not None:
            return value
    return None


def parse_machine_date(value: str, tz: ZoneInfo | timezone) -> datetime | None:
    """Aware UTC datetime for a machine-readable date: ISO 8601 (an offset is kept; none means `tz`; a bare
    day is midnight in `tz`), or a Unix timestamp in seconds or milliseconds. None for anything else."""
    text = value.strip()
    if _EPOCH.fullmatch(text):
        number = float(text)
        seconds = number / 1000 if number > _EPOCH_MAX else number
        if _EPOCH_MIN / 10 <= seconds <= _EPOCH_MAX:
            return datetime.fromtimestamp(seconds, UTC)
        return None
    if not _ISO_DATE.match(text):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1) if len(text) > 10 else text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)


# Every searched form holds a digit, a day word, or 前 / ago: text without any holds no date (most titles, labels).
_MAYBE_DATE = re.compile(r"[\d今昨前刚]|today|yesterday|just now|ago", re.IGNORECASE)


def find_date_text(text: str) -> str | None:
    """The first date-looking substring of `text` (fullest forms preferred), exactly as written, or None."""
    if not _MAYBE_DATE.search(text):
        return None
    for _kind, pattern in _SEARCH:
        match = pattern.search(text)
        if match:
            return match.group(0).strip()
    return None


_BARE = re.compile(rf"{_OPEN}?\s*((?:{_ONLY_TIME.pattern})|(?:{_YEAR_MONTH.pattern}))\s*{_CLOSE}?")


def bare_date_text(text: str) -> str | None:
    """A time alone (`08:52`) or a month alone (`2019-07`, `[2019年7月]`) when it is the whole of `text`, else None.

    Such forms are dates only as a text of their own (an item's date cell, a `<span>`): searched for in free text,
    `收看01:49` would make a video's length today's time and `v2019-07` a month."""
    match = _BARE.fullmatch(normalize_space(text))
    return match.group(1) if match else None


def split_leading_date(text: str) -> tuple[str | None, str]:
    """Split a date glued to the start of a title: `10-122024年支部…` → ("10-12", "2024年支部…").

    Titles that merely start with digits (`2024年度…`, `12345 items`, `3-5年规划`) are returned whole.
    """
    stripped = text.lstrip()
    if not stripped or not (stripped[0].isdecimal() or stripped[0] in _LEAD_CHARS):
        return None, text  # every leading form starts with a digit, a bracket or a day word: most titles do not
    relative = _LEAD_REL.match(stripped)
    if relative and stripped[relative.end():].strip():
        return relative.group(1), stripped[relative.end():].strip().lstrip("|-—–:：·,，、").strip()
    for pattern in (_LEAD_FULL, _LEAD_MD):
        match = pattern.match(stripped)
        if not match:
            continue
        rest = stripped[match.end():]
        bracketed = stripped[0] in "[(【（［「『〔〈《"
        title = rest.strip().lstrip("|-—–:：·,，、").strip()
        if title and (bracketed or _AFTER_MD_OK.match(stripped[match.end(1):])):
            return match.group(1), title
        return None, text
    return None, text


def split_trailing_date(text: str) -> tuple[str | None, str]:
    """Split a date at the end of a title: `Title 2024-10-12` → ("2024-10-12", "Title"); else (None, text)."""
    end = text.rstrip()[-1:]
    if not end or not (end.isdecimal() or end in _TRAIL_CHARS):
        return None, text  # every trailing form ends with a digit, 日, 付 or a closing bracket
    for pattern in (_TRAIL_FULL, _TRAIL_MD):
        match = pattern.search(text)
        if match and text[: match.start()].strip():
            return match.group(1), text[: match.start()].rstrip(" \t\u3000-—|:：·,，")
    return None, text


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def _at(day: date, match: re.Match[str], tz: ZoneInfo) -> datetime:
    hour = match.groupdict().get("H")
    if hour is None:
        return _local_midnight(day, tz)
    clock = time(int(hour), int(match.group("M")), int(match.group("S") or 0))
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def month_day(month: int, day: int, now: datetime, tz: ZoneInfo) -> date | None:
    """The latest `month`-`day` not after the crawl day + SLACK in `tz` (None when no year has that day)."""
    limit = (now.astimezone(tz) + SLACK).date()
    # Feb 29 may be years back; any other invalid pair (04-31) fails for every year.
    for year in range(limit.year, limit.year - 9, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= limit:
            return candidate
    return None


def _resolve(kind: str, match: re.Match[str], now: datetime, tz: ZoneInfo) -> datetime | None:
    groups = match.groupdict()
    try:
        if kind == "iso":
            parsed = datetime.fromisoformat(match.group("iso"))
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)
        if kind == "ymd":
            return _at(date(int(groups["y"]), int(groups["m"]), int(groups["d"])), match, tz)
        if kind in ("md", "en"):
            month = int(groups["m"]) if kind == "md" else _MONTHS[groups["mon"].lower().rstrip(".")]
            day_number = int(groups["d"])
            if groups.get("y"):
                return _at(date(int(groups["y"]), month, day_number), match, tz)
            if groups.get("yy"):
                return _at(date(2000 + int(groups["yy"]), month, day_number), match, tz)
            day = month_day(month, day_number, now, tz)
            return _at(day, match, tz) if day else None
    except ValueError:
        return None  # 2024-02-30 and friends: looks like a date, is not one
    if kind in ("rel_cn", "rel_en"):
        raw = groups["n"].lower()
        if kind == "rel_cn":
            unit = _CN_UNITS[groups["unit"]]
            if raw == "半":  # 半小时前: half an hour; half a day, month or year is too vague to date
                return (now - timedelta(minutes=30)).astimezone(UTC) if unit == "hours" else None
        else:
            word = groups["unit"].lower().rstrip("s")
            unit = _EN_UNITS.get(word, word + "s")
        amount = 1 if raw in ("a", "an", "one") else _CN_NUMBERS.get(raw) or int(raw)
        try:
            return _relative(amount, unit, now, tz)
        except (ValueError, OverflowError):
            return None  # `5000年前`, `9999999999小时前`: further back than a calendar reaches, so no date
    if kind == "word":
        word = groups["word"].lower()
        if word in ("刚刚", "just now"):
            return now.astimezone(UTC)
        day = now.astimezone(tz).date() - timedelta(days=_DAY_WORDS[word])
        return _at(day, match, tz)
    return None


def _relative(amount: int, unit: str, now: datetime, tz: ZoneInfo) -> datetime:
    """`3 hours ago` is exact; `3 days ago` is a calendar day (midnight), so re-crawls the same day agree."""
    if unit in ("seconds", "minutes", "hours"):
        return (now - timedelta(**{unit: amount})).astimezone(UTC)
    today = now.astimezone(tz).date()
    if unit == "days":
        return _local_midnight(today - timedelta(days=amount), tz)
    if unit == "weeks":
        return _local_midnight(today - timedelta(weeks=amount), tz)
    months = amount * (12 if unit == "years" else 1)
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    # The same day of the month, or the month's last day when it is shorter (31 March - 1 month = 28/29 February).
    day_number = min(today.day, calendar.monthrange(year, month + 1)[1]) if year >= 1 else 1
    return _local_midnight(date(year, month + 1, day_number), tz)  # year < 1: ValueError, left to the caller


def _fallback(value: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """dateparser for forms without a fast path; guarded so a random title is not read as a date."""
    if not re.search(r"\d|yesterday|today|ago|前|昨|今", value, re.IGNORECASE):
        return None
    if not re.search(r"[^\W\d_]", value):
        # Only digits and punctuation, yet no fast path matched: `13-01` or `2024-02-30`. Guessing DD-MM here
        # would invent dates; every numeric form we trust has a fast path.
        return None
    import dateparser  # slow to import; most pages never get here

    settings = {
        "TIMEZONE": str(tz.key),
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RELATIVE_BASE": now.astimezone(tz).replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
    }
    # Chinese and English first (about 1 ms). Detecting among all languages loads every locale (seconds on the
    # first call, ~60 ms after), so only text with letters outside ASCII and CJK, like `2 décembre`, pays for it.
    attempts: list[list[str] | None] = [["zh", "en"]]
    if _OTHER_SCRIPT.search(value):
        attempts.append(None)
    for languages in attempts:
        try:
            parsed: datetime | None = dateparser.parse(value, languages=languages, settings=settings)
        except (ValueError, OverflowError):
            continue
        if parsed is not None:
            return parsed.astimezone(UTC)
    return None
