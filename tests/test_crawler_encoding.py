"""Decoding GBK/GB18030 and UTF-8 pages: declared by header, by meta, or not at all."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from crawler.encoding import decode_html, normalize_encoding

SITE = Path(__file__).parent / "data" / "site"


@pytest.mark.parametrize(
    ("page", "header_charset", "title"),
    [
        ("a/1010.html", None, "党委书记参加培训班个人党性分析材料"),  # <meta http-equiv> says gbk
        ("a/1011.gbk.html", "gbk", "关于提高机关党员干部政治“三力”的调查研究"),  # only the HTTP header says gbk
        ("a/1011.gbk.html", None, "关于提高机关党员干部政治“三力”的调查研究"),  # header lost: sniffed
        ("a/1012.html", None, "县总工会庆祝2024年“五一”八项举措"),  # declared nowhere
        ("list_3.gbk.html", "gbk", "最新文稿 第3页 - 某公文网"),
        ("index.html", None, "某公文网 - 首页"),
        ("index.html", "utf-8", "某公文网 - 首页"),
    ],
)
def test_fixture_pages_decode(page: str, header_charset: str | None, title: str) -> None:
    body = (SITE / page).read_bytes()
    text, used = decode_html(body, header_charset)
    assert f"<title>{title}" in text
    assert "\ufffd" not in text
    assert used in ("gb18030", "utf-8")


def test_gbk_page_really_is_not_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        (SITE / "a/1012.html").read_bytes().decode("utf-8")


def test_gb2312_label_decodes_gb18030_only_characters() -> None:
    # 𠀀 (U+20000) and € exist in GB18030 but not in GB2312; real "gb2312" pages contain such characters.
    body = "<p>𠀀 €</p>".encode("gb18030")
    assert decode_html(body, "gb2312") == ("<p>𠀀 €</p>", "gb18030")


def test_wrong_utf8_declaration_on_gbk_bytes_falls_back() -> None:
    body = "<p>中文标题</p>".encode("gbk")
    assert decode_html(body, "utf-8") == ("<p>中文标题</p>", "gb18030")


def test_stale_gbk_label_on_utf8_bytes_is_utf8() -> None:
    body = '<meta charset="gb2312"><p>中文标题</p>'.encode()
    assert decode_html(body, None) == ('<meta charset="gb2312"><p>中文标题</p>', "utf-8")


def test_header_beats_meta() -> None:
    body = b'<meta charset="utf-8"><p>\xc3\xa9</p>'  # valid in both: "é" in UTF-8, "Ã©" in windows-1252
    assert decode_html(body, "windows-1252") == ('<meta charset="utf-8"><p>Ã©</p>', "cp1252")
    assert decode_html(body, None) == ('<meta charset="utf-8"><p>é</p>', "utf-8")


def test_bom_wins() -> None:
    body = codecs.BOM_UTF8 + "<p>中文</p>".encode()
    assert decode_html(body, "gbk") == ("<p>中文</p>", "utf-8")


def test_undecodable_bytes_fall_back_to_cp1252_with_replacement() -> None:
    text, used = decode_html(b"<p>caf\xe9 \x81\xff\xfe</p>", None)
    assert used == "cp1252"
    assert text.startswith("<p>café")


def test_unknown_declared_charset_is_ignored() -> None:
    assert decode_html("中文".encode(), "x-no-such-charset") == ("中文", "utf-8")


@pytest.mark.parametrize(
    ("label", "name"),
    [("GBK", "gb18030"), ("gb2312", "gb18030"), ("GB18030", "gb18030"), ("UTF8", "utf-8"), ("iso-8859-1", "cp1252"),
     ("'utf-8'", "utf-8"), ("bogus", None), (None, None)],
)
def test_normalize_encoding(label: str | None, name: str | None) -> None:
    assert normalize_encoding(label) == name


@pytest.mark.parametrize("meta", [b'<meta http-equiv="Content-Type" content="text/html; charset=gbk">',
                                  b"<META CHARSET='GB2312'>", b"<meta charset=gbk>"])
def test_meta_charset_forms(meta: bytes) -> None:
    # Bytes that are GBK and not UTF-8, so only the meta tag (read by w3lib) can name the codec.
    body = meta + "<p>中文标题</p>".encode("gbk")
    assert decode_html(body, None) == (meta.decode() + "<p>中文标题</p>", "gb18030")


def test_utf16_bom_is_read() -> None:
    assert decode_html(codecs.BOM_UTF16_LE + "<p>中文</p>".encode("utf-16-le"), "gbk") == ("<p>中文</p>", "utf-16-le")


def test_other_undeclared_encoding_is_detected() -> None:
    # Neither UTF-8 nor GB18030 decodes it; the detector (via bs4's UnicodeDammit) recognises windows-1251.
    page = "<html><body><p>Привет, мир! Это тестовая страница на русском языке, в ней много слов.</p></body></html>"
    text, used = decode_html(page.encode("cp1251"), None)
    assert (text, used) == (page, "cp1251")


def test_undeclared_gbk_page_with_a_cut_character_is_still_gbk() -> None:
    # A saved GB2312 forum page, charset declared nowhere, with one character cut in half: neither UTF-8 nor
    # GB18030 decodes it cleanly and the detector gives up, yet one broken character must not turn every Chinese
    # character into cp1252 mojibake (a real page scored 0 for every extractor so).
    post = "<p>太行山上，中国革命历史巨作，下载请用迅雷或者比特彗星，谢谢各位网友的支持。</p>\n" * 40
    body = b"<html><body>" + post.encode("gbk") + b"<p>\xd6</p></body></html>"
    text, used = decode_html(body, None)
    assert used == "gb18030"
    assert post in text


def test_undeclared_cp1252_english_page_is_not_read_as_gbk() -> None:
    # Curly apostrophes and dashes followed by a letter ("it’s", "don’t") are valid GBK byte pairs, so the whole page
    # decodes as GB18030 without an error: it must stay cp1252, not turn into Chinese characters.
    post = "<p>It’s the council’s plan—they don’t say when it’ll open, and it’s late.</p>\n" * 10
    text, used = decode_html(post.encode("cp1252"), None)
    assert used == "cp1252" and text == post
