"""Date parsing: every form the issue lists, the year boundary, and splitting dates glued to titles."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from crawler.dates import bare_date_text, find_date_text, parse_date, split_leading_date, split_trailing_date

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Crawl day 2026-01-05 in Shanghai (12:00 local).
CRAWL = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)
# 2026-01-05 23:30 UTC is already 2026-01-06 07:30 in Shanghai.
LATE_CRAWL = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)


def sh(*args: int) -> datetime:
    """A Shanghai wall-clock time, as the UTC datetime parse_date returns."""
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # month-day without a year: latest such day not after crawl day + 1
        ("12-30", sh(2025, 12, 30)),
        ("01-04", sh(2026, 1, 4)),
        ("01-05", sh(2026, 1, 5)),
        ("01-06", sh(2026, 1, 6)),  # one day of slack
        ("01-07", sh(2025, 1, 7)),  # beyond the slack: last year
        ("02-06", sh(2025, 2, 6)),
        ("10-12", sh(2025, 10, 12)),
        ("10/12", sh(2025, 10, 12)),
        ("1-4", sh(2026, 1, 4)),
        ("10月12日", sh(2025, 10, 12)),
        ("1月4日", sh(2026, 1, 4)),
        ("02-29", sh(2024, 2, 29)),  # the latest year that has the day
        ("01-04 09:30", sh(2026, 1, 4, 9, 30)),
        # full dates
        ("2024-10-12", sh(2024, 10, 12)),
        ("2024-10-12 09:30", sh(2024, 10, 12, 9, 30)),
        ("2024-10-12 09:30:15", sh(2024, 10, 12, 9, 30, 15)),
        ("2024/10/12", sh(2024, 10, 12)),
        ("2024.10.12", sh(2024, 10, 12)),
        ("2024-1-2", sh(2024, 1, 2)),
        ("2024年10月12日", sh(2024, 10, 12)),
        ("2024年1月2日", sh(2024, 1, 2)),
        ("2025年12月30日 10:15", sh(2025, 12, 30, 10, 15)),
        ("Nov 3, 2026", sh(2026, 11, 3)),
        ("November 3, 2026", sh(2026, 11, 3)),
        ("3 November 2026", sh(2026, 11, 3)),
        ("3 Nov 2026", sh(2026, 11, 3)),
        ("Nov 3", sh(2025, 11, 3)),
        # ISO 8601 (<time datetime>, meta tags): the offset given wins over the source zone
        ("2026-01-04T09:30:00+08:00", datetime(2026, 1, 4, 1, 30, tzinfo=UTC)),
        ("2026-01-04T01:30:00Z", datetime(2026, 1, 4, 1, 30, tzinfo=UTC)),
        ("2026-01-04T01:30:00.123-05:00", datetime(2026, 1, 4, 6, 30, 0, 123000, tzinfo=UTC)),
        ("2026-01-04T09:30:00", sh(2026, 1, 4, 9, 30)),
        # relative: days are calendar days (midnight), hours are exact
        ("3天前", sh(2026, 1, 2)),
        ("3小时前", datetime(2026, 1, 5, 1, 0, tzinfo=UTC)),
        ("5分钟前", datetime(2026, 1, 5, 3, 55, tzinfo=UTC)),
        ("昨天", sh(2026, 1, 4)),
        ("前天", sh(2026, 1, 3)),
        ("今天", sh(2026, 1, 5)),
        ("昨天 10:30", sh(2026, 1, 4, 10, 30)),
        ("3 days ago", sh(2026, 1, 2)),
        ("an hour ago", datetime(2026, 1, 5, 3, 0, tzinfo=UTC)),
        ("2 weeks ago", sh(2025, 12, 22)),
        ("1 month ago", sh(2025, 12, 5)),
        ("yesterday", sh(2026, 1, 4)),
        ("Yesterday", sh(2026, 1, 4)),
        ("just now", CRAWL),
        # a date inside a label line, and full-width spaces
        ("发布时间:2024-10-12 09:30 来源:本站", sh(2024, 10, 12, 9, 30)),
        ("\u30002024-10-12\xa0", sh(2024, 10, 12)),
    ],
)
def test_parse_date_forms(text: str, expected: datetime) -> None:
    parsed = parse_date(text, CRAWL, SHANGHAI)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo == UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # local crawl day is 2026-01-06 now, so the slack reaches 01-07
        ("01-07", sh(2026, 1, 7)),
        ("01-08", sh(2025, 1, 8)),
        ("今天", sh(2026, 1, 6)),
        ("3天前", sh(2026, 1, 3)),
        ("12-31", sh(2025, 12, 31)),
    ],
)
def test_month_day_uses_the_local_crawl_day(text: str, expected: datetime) -> None:
    assert parse_date(text, LATE_CRAWL, SHANGHAI) == expected


def test_month_day_in_utc_source_uses_the_utc_day() -> None:
    # The same instant is still 2026-01-05 in UTC, so 01-07 is beyond the slack there.
    assert parse_date("01-07", LATE_CRAWL, ZoneInfo("UTC")) == datetime(2025, 1, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tuesday, 3 Nov 2026 10:00", sh(2026, 11, 3, 10, 0)),  # weekday prefix: found by search
        ("Tue, 03 Nov 2026 10:00:00 +0000", datetime(2026, 11, 3, 10, 0, tzinfo=UTC)),  # RFC 2822 keeps its offset
        ("3 Nov 2026 10:00 GMT", datetime(2026, 11, 3, 10, 0, tzinfo=UTC)),
        ("2 décembre 2025", sh(2025, 12, 2)),  # no fast path: dateparser
    ],
)
def test_other_forms(text: str, expected: datetime) -> None:
    assert parse_date(text, CRAWL, SHANGHAI) == expected


@pytest.mark.parametrize("text", ["", "   ", "hello world", "2024-02-30", "13-01", "04-31", "2024年度廉政", "x" * 200])
def test_not_a_date(text: str) -> None:
    assert parse_date(text, CRAWL, SHANGHAI) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10-122024年支部党员大会会议记录", ("10-12", "2024年支部党员大会会议记录")),
        ("02-062022年个人政治素质自评材料", ("02-06", "2022年个人政治素质自评材料")),
        ("10-12 乡镇典型事迹材料", ("10-12", "乡镇典型事迹材料")),
        ("10-12乡镇典型事迹材料", ("10-12", "乡镇典型事迹材料")),
        ("10-12 | 乡镇典型事迹材料", ("10-12", "乡镇典型事迹材料")),
        ("10-12 -- Title", ("10-12", "Title")),
        ("06-042024年度廉政警示教育", ("06-04", "2024年度廉政警示教育")),
        ("01-02Office Work", ("01-02", "Office Work")),
        ("[10-12] 标题", ("10-12", "标题")),
        ("【12-30】标题", ("12-30", "标题")),
        ("2024-10-12 会议纪要", ("2024-10-12", "会议纪要")),
        ("2024-10-122024年会议纪要", ("2024-10-12", "2024年会议纪要")),
        # titles that merely start with digits stay whole
        ("2024年度廉政谈话提纲", (None, "2024年度廉政谈话提纲")),
        ("12345 items", (None, "12345 items")),
        ("3-5年发展规划", (None, "3-5年发展规划")),
        ("12-15岁儿童", (None, "12-15岁儿童")),
        ("1-2月经济运行情况", (None, "1-2月经济运行情况")),
        ("10-1220 things", (None, "10-1220 things")),
        ("13-01 not a month", (None, "13-01 not a month")),
        ("10-12", (None, "10-12")),  # nothing left for a title
        ("普通标题", (None, "普通标题")),
    ],
)
def test_split_leading_date(text: str, expected: tuple[str | None, str]) -> None:
    assert split_leading_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Title 2024-10-12", ("2024-10-12", "Title")),
        ("标题2024-10-12", ("2024-10-12", "标题")),
        ("Title (2024-10-12)", ("2024-10-12", "Title")),
        ("标题 [2024/10/12]", ("2024/10/12", "标题")),
        ("标题 2024年10月12日", ("2024年10月12日", "标题")),
        ("标题 - 2024-10-12 09:30", ("2024-10-12 09:30", "标题")),
        ("Title 10-12", ("10-12", "Title")),
        ("关于2023-2024", (None, "关于2023-2024")),
        ("第3-12", (None, "第3-12")),
        ("Windows 2000", (None, "Windows 2000")),
        ("2024-10-12", (None, "2024-10-12")),
    ],
)
def test_split_trailing_date(text: str, expected: tuple[str | None, str]) -> None:
    assert split_trailing_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("发布时间:2024-10-12 09:30 来源:本站", "2024-10-12 09:30"),
        ("  10-12 ", "10-12"),
        ("[12-30]", "12-30"),
        ("Posted 3 days ago · updated yesterday", "3 days ago"),
        ("阅读 1234 次", None),
        ("2025年12月30日 10:15 来源", "2025年12月30日 10:15"),
    ],
)
def test_find_date_text(text: str, expected: str | None) -> None:
    assert find_date_text(text) == expected


def test_a_time_alone_is_today_in_the_source_zone_and_a_month_its_first_day() -> None:
    now, tz = datetime(2020, 7, 4, 12, 0, tzinfo=UTC), ZoneInfo("Asia/Shanghai")
    assert parse_date("08:52", now, tz) == datetime(2020, 7, 4, 0, 52, tzinfo=UTC)
    assert parse_date("2019-07", now, tz) == datetime(2019, 6, 30, 16, 0, tzinfo=UTC)
    assert find_date_text("收看01:49") is None  # a video's length in free text is not a date


def test_a_leading_date_with_its_time_and_a_leading_relative_date_leave_the_title() -> None:
    assert split_leading_date("2019-08-06 15:09:13标题内容") == ("2019-08-06 15:09:13", "标题内容")
    assert split_leading_date("6小时前 美国宣布新政策") == ("6小时前", "美国宣布新政策")
    assert split_leading_date("昨天 新闻标题") == ("昨天", "新闻标题")
    assert split_leading_date("今天是个好日子") == (None, "今天是个好日子")  # a title that starts with 今天


def test_us_month_day_year_with_a_time_before_it() -> None:
    now, tz = datetime(2020, 7, 4, 12, 0, tzinfo=UTC), ZoneInfo("America/New_York")
    assert find_date_text("11:35 AM 12/31/2014") == "12/31/2014"
    assert parse_date("11:35 AM  12/31/2014", now, tz) == datetime(2014, 12, 31, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["5000年前", "100000 years ago", "9999999999小时前"])
def test_a_relative_date_further_back_than_the_calendar_is_no_date(text: str) -> None:
    assert parse_date(text, datetime(2026, 3, 31, tzinfo=UTC), ZoneInfo("Asia/Shanghai")) is None


def test_months_ago_from_a_long_month_lands_on_the_shorter_months_last_day() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    got = parse_date("1个月前", datetime(2026, 3, 31, 4, tzinfo=UTC), shanghai)
    assert got is not None and got.astimezone(shanghai).date() == date(2026, 2, 28)


NOW = datetime(2020, 7, 4, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("半小时前", datetime(2020, 7, 4, 11, 30, tzinfo=UTC)),
        ("两天前", sh(2020, 7, 2)),
        ("十分钟前", datetime(2020, 7, 4, 11, 50, tzinfo=UTC)),
        ("5 mins ago", datetime(2020, 7, 4, 11, 55, tzinfo=UTC)),
        ("3 hrs ago", datetime(2020, 7, 4, 9, 0, tzinfo=UTC)),
        ("昨天 08:52", sh(2020, 7, 3, 8, 52)),
        ("yesterday 10:00", sh(2020, 7, 3, 10, 0)),
        ("08:52", sh(2020, 7, 4, 8, 52)),  # a time alone: today in the source's zone
        ("2019-07", sh(2019, 7, 1)),  # a month alone: its first day
        ("2019年7月", sh(2019, 7, 1)),
    ],
)
def test_relative_time_alone_and_month_alone(text: str, expected: datetime) -> None:
    assert parse_date(text, NOW, SHANGHAI) == expected
    # In free text only the relative forms are searched for; a time or month alone must be the whole text.
    alone = text in ("08:52", "2019-07", "2019年7月")
    assert find_date_text(f"发布 {text} 来源") == (None if alone else text)


def test_half_a_day_is_no_date() -> None:
    assert parse_date("半天前", NOW, SHANGHAI) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("08:52", "08:52"), (" (08:52) ", "08:52"), ("[2019-07]", "2019-07"), ("2019年7月", "2019年7月"),
     ("收看01:49", None), ("v2019-07", None), ("25:00", None), ("标题 08:52", None)],
)
def test_bare_date_text_is_a_time_or_month_that_is_the_whole_text(text: str, expected: str | None) -> None:
    assert bare_date_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-08-06 15:09:13标题内容", ("2019-08-06 15:09:13", "标题内容")),  # no time left in the title
        ("昨天 08:52 新闻标题", ("昨天 08:52", "新闻标题")),
        ("3 hours ago Leaders meet", ("3 hours ago", "Leaders meet")),
        ("[2019年08月06日]标题", ("2019年08月06日", "标题")),
        ("「2019.08.06」タイトル", ("2019.08.06", "タイトル")),
        ("（2018/6/15付）見出し", ("2018/6/15", "見出し")),
    ],
)
def test_split_leading_dates_with_times_day_words_and_cjk_brackets(text: str, expected: tuple[str | None, str]) -> None:
    assert split_leading_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("金正恩氏が習近平氏に書簡 朝鮮中央通信 （2018/6/16 10:20）", ("2018/6/16 10:20", "金正恩氏が習近平氏に書簡 朝鮮中央通信")),
        ("米、北朝鮮非核化まで制裁継続 （2018/6/15付）", ("2018/6/15", "米、北朝鮮非核化まで制裁継続")),
        ("タイトル（2019年8月6日）", ("2019年8月6日", "タイトル")),
        ("标题［10-12］", ("10-12", "标题")),
        ("标题〔2019-08-06 15:09〕", ("2019-08-06 15:09", "标题")),
    ],
)
def test_split_trailing_dates_in_cjk_and_full_width_brackets(text: str, expected: tuple[str | None, str]) -> None:
    assert split_trailing_date(text) == expected


@pytest.mark.parametrize(("text", "expected"), [("14 JAN 20", sh(2020, 1, 14)), ("News Q&A 24 DEC 19", sh(2019, 12, 24))])
def test_day_month_and_two_digit_year_as_nature_lists_show_them(text: str, expected: datetime) -> None:
    """`14 JAN 20` is the 14th of January 2020, not January 20th: the day before the month claims the year."""
    assert find_date_text(text) == text.split("Q&A ")[-1]
    assert parse_date(text, CRAWL, SHANGHAI) == expected
