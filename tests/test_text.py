"""Title cleaning and XML safety: entities, whitespace, control characters, surrogates, hostile markup; the
whole-number rule every route and command reads numbers with."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from feedsvc.text import clean_scraped_title, clean_title, normalize_space, plain_text, whole_number, xml_safe


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  2024年廉政谈话记录 \n", "2024年廉政谈话记录"),
        ("对标对表&nbsp;接续奋斗", "对标对表 接续奋斗"),  # a double-escaped entity, as parsed text shows it
        ("A &amp; B", "A & B"),
        ("&#20013;&#x6587;", "中文"),
        ("中\u3000文\xa0标题\t\r\n题", "中 文 标题 题"),
        ("bell\x07 and\x00null\x1f", "bell andnull"),
        ("vertical\x0btab", "vertical tab"),
        ("lone \ud800 surrogate \udfff", "lone surrogate"),
        ("non\ufffechar\uffff", "nonchar"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("c1\x85control\x9f", "c1 control"),
        ("<script>alert(1)</script>标题", "<script>alert(1)</script>标题"),  # text stays text; feeds escape it
        ("Emoji 🎉 and mixed 中文 Ελληνικά", "Emoji 🎉 and mixed 中文 Ελληνικά"),
        ("", ""),
    ],
)
def test_clean_scraped_title(raw: str, expected: str) -> None:
    assert clean_scraped_title(raw) == expected
    assert clean_title(clean_scraped_title(raw)) == expected  # the feeds re-apply clean_title: idempotent


@pytest.mark.parametrize(
    "raw",
    ["a\x00b\x08c\x0bd\x0ce\x1ff", "\ud83d lone high", "x\ufffey\uffffz", "ok\ttab\nnewline\rcr", "&lt;b&gt; & <i>"],
)
def test_xml_safe_output_is_accepted_by_an_xml_parser(raw: str) -> None:
    safe = xml_safe(raw)
    element = etree.Element("title")
    element.text = safe  # lxml refuses XML-invalid characters with ValueError
    parsed = etree.fromstring(etree.tostring(element, encoding="unicode"))
    assert parsed.text == safe


def test_xml_safe_keeps_allowed_whitespace() -> None:
    assert xml_safe("a\tb\nc\rd\x01") == "a\tb\nc\rd"


def test_clean_title_is_xml_safe_for_hostile_input() -> None:
    hostile = "".join(chr(c) for c in range(0, 0x40)) + "\ud800\udfff\ufffe\uffff&#1;"
    element = etree.Element("title")
    element.text = clean_title(hostile)  # would raise on any XML-invalid character


def test_normalize_space() -> None:
    assert normalize_space(" a \u3000 b\n\nc ") == "a b c"


def test_bidi_controls_are_stripped_from_titles() -> None:
    assert clean_title("\u202eevil\u202c \u2066name\u2069 \u200fx") == "evil name x"


def test_clean_title_does_not_decode_entities_twice() -> None:
    assert clean_title("AT&amp;T") == "AT&amp;T"  # stored text is shown as it is; only scraped text is decoded


def test_plain_text_of_html() -> None:
    assert plain_text("<p>a</p><p>b &amp; c</p><script>x()</script>") == "a b & c"


def test_whole_number_takes_ascii_digits_within_the_bound_only() -> None:
    assert whole_number("42", 100) == 42 and whole_number("007", 100) == 7 and whole_number("0", 5) == 0
    for odd in ("", "²", "①", "٣", "-1", "+1", " 1", "1.0", "1e3", "0x1", "4\n"):
        assert whole_number(odd, 100) is None and whole_number(odd, 100, clamp=True) is None
    assert whole_number("101", 100) is None and whole_number("101", 100, clamp=True) == 100
    assert whole_number("9" * 5000, 2**63 - 1) is None  # never reaches int()'s 4,300-digit limit
    assert whole_number("0" * 5000 + "3", 10) == 3
    assert whole_number("9" * 5000, 10**9, clamp=True) == 10**9


@given(st.text(max_size=40), st.integers(min_value=0, max_value=2**64))
def test_whole_number_never_raises_and_agrees_with_int(text: str, maximum: int) -> None:
    value = whole_number(text, maximum)
    if value is not None:
        assert text.isascii() and int(text) == value <= maximum
