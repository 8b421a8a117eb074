"""feeds/sanitize.py: entry HTML a reader can show safely; links pass through as stored (the crawler made them
absolute: tests/test_crawler_article.py)."""

from __future__ import annotations

import lxml.html

from feedsvc.feeds.sanitize import clean_html


def test_clean_html_removes_scripts_and_handlers_and_keeps_stored_links() -> None:
    dirty = ('<div onclick="steal()" style="x"><p>Hi <a href="http://gw.test/a/b/c.html" onmouseover="x()">rel</a>'
             '<img src="http://gw.test/i.png" onerror="alert(1)"><script>alert(1)</script><style>p{}</style>'
             '<iframe src="http://evil"></iframe><a href="javascript:alert(1)">js</a></p></div>')
    cleaned = clean_html(dirty)
    tree = lxml.html.fragment_fromstring(cleaned, create_parent="div")
    assert not tree.findall(".//script") and not tree.findall(".//style") and not tree.findall(".//iframe")
    attrs = {name for el in tree.iter() for name in el.attrib}
    assert not {a for a in attrs if a.startswith("on")} and "style" not in attrs
    links = tree.findall(".//a")
    assert links[0].get("href") == "http://gw.test/a/b/c.html"
    assert links[0].get("rel") == "noopener noreferrer"
    assert links[1].get("href") is None  # javascript: dropped
    img = tree.find(".//img")
    assert img is not None and img.get("src") == "http://gw.test/i.png"
    assert "alert" not in cleaned


def test_clean_html_keeps_prose_and_drops_control_characters() -> None:
    assert clean_html("") == ""
    cleaned = clean_html('<p>a\x01 &amp; <b>b</b> <!-- c --> <a href="http://gw.test/a/1.html#n">n</a> 混合</p>')
    assert "\x01" not in cleaned and "<!--" not in cleaned
    assert "<b>b</b>" in cleaned and "&amp;" in cleaned and "混合" in cleaned
    assert 'href="http://gw.test/a/1.html#n"' in cleaned
