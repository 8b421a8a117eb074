"""feeds/sanitize.py: entry HTML a reader can show safely, with links made absolute against the item's URL."""

from __future__ import annotations

import lxml.html

from feedsvc.feeds.sanitize import clean_html


def test_clean_html_removes_scripts_handlers_and_absolutises_links() -> None:
    dirty = ('<div onclick="steal()" style="x"><p>Hi <a href="../b/c.html" onmouseover="x()">rel</a>'
             '<img src="/i.png" onerror="alert(1)"><script>alert(1)</script><style>p{}</style>'
             '<iframe src="http://evil"></iframe><a href="javascript:alert(1)">js</a></p></div>')
    cleaned = clean_html(dirty, "http://gw.test/a/x/page.html")
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
    assert clean_html("", "http://x/") == ""
    cleaned = clean_html('<p>a\x01 &amp; <b>b</b> <!-- c --> <a href="#n">n</a> 混合</p>', "http://gw.test/a/1.html")
    assert "\x01" not in cleaned and "<!--" not in cleaned
    assert "<b>b</b>" in cleaned and "&amp;" in cleaned and "混合" in cleaned
    assert 'href="http://gw.test/a/1.html#n"' in cleaned
