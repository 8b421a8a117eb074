"""crawler/article_body.py: hidden nodes pruned from a copy of the page, trafilatura's main text as HTML."""

from __future__ import annotations

from lxml import html as lxml_html

from crawler.article_body import main_text, visible_tree

PAGE = """<html><body><!-- a comment --><div hidden>gone one</div><span aria-hidden="true">gone two</span>
<p style="DISPLAY: None">gone three</p> tail stays <article><h2>Heading</h2>
<p>A first paragraph of the article that is long enough to be the main text of this small page, with a
<a href="../x.html">relative link</a> left as written.</p><img src="/i.png"></article></body></html>"""


def test_visible_tree_drops_hidden_elements_and_comments_but_not_tails() -> None:
    root = lxml_html.document_fromstring(PAGE)
    tree = visible_tree(root)
    text = " ".join(tree.text_content().split())
    assert "gone" not in text and "tail stays" in text and "a comment" not in lxml_html.tostring(tree, encoding="unicode")
    assert "gone one" in root.text_content()  # the page itself is untouched


def test_main_text_keeps_paragraphs_links_and_images() -> None:
    body = main_text(visible_tree(lxml_html.document_fromstring(PAGE)))
    assert body is not None
    markup = lxml_html.tostring(body, encoding="unicode")
    assert '<a href="../x.html">relative link</a>' in markup and '<img src="/i.png"' in markup
    assert main_text(lxml_html.document_fromstring("<html><body><p>Too short.</p></body></html>")) is None
