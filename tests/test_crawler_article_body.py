"""crawler/article_body.py: hidden nodes pruned from a copy of the page, trafilatura's main text as HTML."""

from __future__ import annotations

from lxml import html as lxml_html

from crawler.article_body import largest_candidate, main_text, visible_tree

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


def test_lazy_images_get_their_real_source() -> None:
    # The shapes lazy loaders write (WordPress, lazysizes, jQuery lazyload, Chinese CMSs), placeholders in `src`.
    page = """<html><body><article>
    <img src="data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'%3E%3C/svg%3E" data-lazy-src="/up/a.jpg"
      data-lazy-srcset="/up/a-300.jpg 300w, /up/a.jpg 1024w"><noscript><img src="/up/a.jpg" alt="Mill"></noscript>
    <img class="lazy" src="/images/grey.gif" data-original="/up/b.jpg">
    <img class="lazyload" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-srcset="/up/c-480.jpg 480w, /up/c-960.jpg 960w">
    <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" srcset="/up/d.jpg 1x, /up/d@2x.jpg 2x">
    <picture><source srcset="/up/e.webp" type="image/webp"><img alt="no src at all"></picture>
    <img src="/up/f.jpg" srcset="/up/f-small.jpg 320w">
    <p>Before <noscript><img src="/up/g.jpg" alt="Only without scripts"></noscript> after.</p>
    <noscript><img src="https://pixel.test/tr?id=1" width="1" height="1"></noscript>
    </article></body></html>"""
    tree = visible_tree(lxml_html.document_fromstring(page))
    assert [(img.get("src"), img.get("alt")) for img in tree.iter("img")] == [
        ("/up/a.jpg", "Mill"), ("/up/b.jpg", None), ("/up/c-960.jpg", None), ("/up/d@2x.jpg", None),
        ("/up/e.webp", "no src at all"), ("/up/f.jpg", None), ("/up/g.jpg", "Only without scripts"),
        ("https://pixel.test/tr?id=1", None)]
    assert len(tree.xpath("//noscript")) == 1  # the pixel's, left for the cleaners to drop
    assert " ".join(tree.xpath("string(//p)").split()) == "Before after."
    assert largest_candidate("data:image/gif;base64,R0lGOD 1x") is None and largest_candidate("") is None
    assert largest_candidate("/a.jpg 1x,/b.jpg 2x") == "/b.jpg"
