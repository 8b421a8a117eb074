"""crawler/blocks.py: finding a listing's block by CSS, XPath or the heading shown above it, on real markup."""

from __future__ import annotations

from parsel import Selector

from crawler.block_items import detect_items
from crawler.blocks import find_block, heading_and_block, is_xpath

PAGE = Selector(text="""<html><body>
<div class="box"><div class="bar"><span>【推荐文稿】</span><a href="/more">更多>></a></div>
  <ul class="rec"><li><a href="/a/1">One</a></li><li><a href="/a/2">Two</a></li><li><a href="/a/3">Three</a></li></ul>
</div>
<h2>Latest posts:</h2>
<div class="cards"><article><h3><a href="/p/1">P1</a></h3></article><article><h3><a href="/p/2">P2</a></h3></article>
  <article><h3><a href="/p/3">P3</a></h3></article></div>
<p>Latest posts are great</p>
</body></html>""")


def _links(block: Selector | None) -> list[str]:
    assert block is not None
    return block.css("a::attr(href)").getall()


def test_block_by_css_or_xpath_selector() -> None:
    assert is_xpath("//ul") and is_xpath("(//ul)[1]") and not is_xpath("ul.rec")
    assert _links(find_block(PAGE, "ul.rec", None, None)) == ["/a/1", "/a/2", "/a/3"]
    assert _links(find_block(PAGE, "//ul[@class='rec']", None, None)) == ["/a/1", "/a/2", "/a/3"]
    assert find_block(PAGE, "ul.missing", None, None) is None


def test_block_by_decorated_heading_skips_the_more_link() -> None:
    assert _links(find_block(PAGE, None, "推荐文稿", "li")) == ["/a/1", "/a/2", "/a/3"]
    assert _links(find_block(PAGE, None, "latest posts", None)) == ["/p/1", "/p/2", "/p/3"]
    assert find_block(PAGE, None, "Nowhere", "li") is None


def test_repeated_items_are_detected_and_heading_and_block_returns_both() -> None:
    found = heading_and_block(PAGE, "Latest posts", None)
    assert found is not None
    heading, block = found
    assert heading.tag == "h2" and block.get("class") == "cards"
    assert [el.tag for el in detect_items(block)] == ["article", "article", "article"]
