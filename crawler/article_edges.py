"""Page furniture at the edges of the extracted main text: what trafilatura keeps before and after the article
when it shares the article's container (navigation, date and source lines, "Most read", 责任编辑, copyright
notices). Pure.
"""

from __future__ import annotations

import re

from lxml import html as lxml_html

_PARAGRAPH_CHARS = 100  # (a quarter of it in CJK characters: one says about a word's worth)
_HEADINGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
_CJK_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# The line a Chinese article page prints between its headline and its text: "2022.01.20 16:31 来源：河南日报客户端",
# "报纸网 |发布: 2021-1-29 13:18|点击: 313", "当前位置：洛阳", "作者：芊草凡凡 时间：2005-08-22 19:13:18".
_META_LINE = re.compile(r"(?:来源|作者|记者|编辑|发布|时间|日期|点击|浏览|阅读|主题|出处|稿源|字号|字体)\s*[:：]"
                        r"|\d{1,2}:\d{2}|(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}"
                        r"|当前位置|您的位置|现在的位置")
# A site's copyright or reprint notice under the article ("版权所有", "未经书面许可，不得转载", "反侵权公告" and its
# clauses); on an English page only a short "© 2015 Eklektix, Inc." line.
_COPYRIGHT = re.compile(r"版权所有|版权声明|免责声明|著作权|(?:©|copyright)\s*(?:©\s*)?(?:19|20)\d\d|all rights reserved"
                        r"|(?:请勿|不得|禁止)\S{0,6}转载|未经\S{0,15}(?:授权|许可)", re.IGNORECASE)
_SENTENCE_ENDS = ("。", "！", "？", ".", "!", "?")
# A date with a time of day: the stamp of a forum post's signature or a reply's header ("发布时间 2005/05/17
# 22:11:42 by 眉间尺").
_STAMP = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\D{0,3}\d{1,2}:\d{2}")
_FIRST_POST_SHARE = 0.3  # the first post keeps at least this share of the text, or nothing is cut


def trim_edges(body: lxml_html.HtmlElement) -> None:
    """Drop, in place, the page furniture around the article. After it, walking back from the end: headings
    ("You might also like", "Most read"), link lists and "Next article" links, empty blocks, copyright notices,
    and on a Chinese page any block shorter than a sentence or two ("责任编辑：…", "【打印】【关闭】"). Before it:
    navigation (link bars, breadcrumbs) and empty blocks, and on a Chinese page short lines and date/source lines
    ("2005-01-14 17:02:30 来源: 21世纪经济报道", "光明日报记者 王建宏"), past headings and pictures. Each walk stops
    at the first other block: an English page's short last line ("Update: …", a sign-off) is the article's. On a
    Chinese forum thread, the replies after the first post go (`_drop_replies`)."""
    blocks = list(body)
    cjk = _is_cjk("".join(body.itertext()))
    for el in reversed(blocks):
        if _is_figure(el):
            continue  # kept, but the walk goes on: a sharing widget's icon is not the article's end
        previous = el.getprevious()
        # (a short line under a heading at the end is a widget: "Comments" / "Loading comments…")
        short_is_furniture = cjk or (previous is not None and previous.tag in _HEADINGS)
        if not (el.tag in _HEADINGS or _is_navigation(el) or (short_is_furniture and _is_short(el))
                or _is_copyright(el, cjk)):
            break
        el.drop_tree()  # (its tail text stays in place)
    for el in blocks:
        if el.getparent() is None:
            break
        if cjk and (el.tag in _HEADINGS or _is_figure(el)):
            continue  # the headline and a lead picture stay; the date line under them goes
        if not (_is_navigation(el) or (cjk and (_is_short(el) or _is_meta_line(el)))):
            break
        el.drop_tree()
    if cjk:
        _drop_replies(body)


def _drop_replies(body: lxml_html.HtmlElement) -> None:
    """On a forum thread the article is the first post: when two or more short lines stamped with a date and a
    time of day follow the first paragraph (each post's signature or header), drop everything from the first of
    them on, provided what is kept is at least _FIRST_POST_SHARE of the text (a news page's date line under a
    long standfirst is never taken for a thread)."""
    blocks = list(body)
    texts = [_text(el) for el in blocks]
    stamps = []
    seen_paragraph = False
    for index, text in enumerate(texts):
        if len(text) >= _PARAGRAPH_CHARS:
            seen_paragraph = True
        elif seen_paragraph and _STAMP.search(text):
            stamps.append(index)
    if len(stamps) < 2:
        return
    kept = sum(len(text) for text in texts[:stamps[0]])
    if kept < _FIRST_POST_SHARE * sum(len(text) for text in texts):
        return
    for el in blocks[stamps[0]:]:
        el.drop_tree()


def _text(el: lxml_html.HtmlElement) -> str:
    return "".join("".join(el.itertext()).split())


def _is_cjk(text: str) -> bool:
    # (counted by runs: a match object per character cost a whole body's worth of them on every page)
    return sum(map(len, _CJK_RUNS.findall(text))) * 3 > len("".join(text.split()))


def _is_navigation(el: lxml_html.HtmlElement) -> bool:
    """Empty (no text, no picture), or at least half of its text is link text."""
    text = _text(el)
    if not text:
        return el.tag != "img" and next(el.iter("img"), None) is None
    links = sum(len(_text(a)) for a in el.iter("a"))
    return links * 2 >= len(text)


def _is_figure(el: lxml_html.HtmlElement) -> bool:
    """A picture with at most a caption's worth of text ("图1 附件：下载本文")."""
    if el.tag != "img" and next(el.iter("img"), None) is None:
        return False
    return len(_text(el)) < _PARAGRAPH_CHARS


def _is_short(el: lxml_html.HtmlElement) -> bool:
    """Some text, under a quarter of a paragraph, and not a finished sentence ("沿线居民表示欢迎。" is the
    article's; "责任编辑：王明" is not). A picture is not short text."""
    text = _text(el)
    if not 0 < len(text) * 4 < _PARAGRAPH_CHARS:
        return False
    end = text.rstrip("”’\"'」』)）")
    return not end.endswith(_SENTENCE_ENDS) or end.endswith("..")  # "Loading comments..."


def _is_meta_line(el: lxml_html.HtmlElement) -> bool:
    """Under a paragraph, not a finished sentence, and naming a date, a time, a source, an author or the page's
    place in the site."""
    text = _text(el)
    end = text.rstrip("”’\"'」』)）")
    return 0 < len(text) < _PARAGRAPH_CHARS and not end.endswith(_SENTENCE_ENDS) and bool(_META_LINE.search(text))


def _is_copyright(el: lxml_html.HtmlElement, cjk: bool) -> bool:
    """A copyright or reprint notice: any length on a Chinese page (a "反侵权公告" runs to three paragraphs), a
    short line on an English one."""
    text = _text(el)
    return bool(_COPYRIGHT.search(text)) and (cjk or len(text) < 2 * _PARAGRAPH_CHARS)
