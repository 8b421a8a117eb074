"""crawler/article_tables.py: layout tables become blocks before the main text is chosen; data tables stay."""

from __future__ import annotations

from lxml import html as lxml_html
from parsel import Selector

from crawler.article import extract_article
from crawler.article_tables import unwrap_layout_tables
from feedsvc.config import ArticleSelectors

BASE = "http://biz.portal.test/05/0114/17/1A2B3C.html"
_NAV = "".join(f'<td><a href="/{n}/">{name}</a></td>' for n, name in enumerate(
    ["首页", "新闻", "体育", "娱乐", "财经", "汽车", "房产", "科技"]))
_PICKS = "".join(f'<tr><td>·<a href="/pick/{n}.html">{title}</a></td></tr>' for n, title in enumerate(
    ["空姐隆胸失败成伤残 月薪少5000", "全国武术冠军改行学擦皮鞋(图)", "农民工和他的日记", "外国人心目中的十大中国名牌"]))
# A 2005 portal article page as the old Chinese portals built them (163.com, yahoo.cn, sohu.com): a layout table
# for the whole page, one row for the navigation, one with the article's cell beside a "今日推荐" column, one for
# the footer; no article container trafilatura knows. Its article text starts with a bare run between <br>s.
PORTAL = f"""<html><head><title>利益集团左右电力体制改革_网易商业报道</title></head><body>
<table width="760" border="0"><tr><td>
  <table width="100%"><tr>{_NAV}</tr></table>
</td></tr>
<tr><td>
  <table width="100%"><tr>
    <td width="560" valign="top">
      <table width="100%"><tr><td class="title">利益集团左右电力体制改革</td></tr>
      <tr><td>2005-01-14 17:02:30 来源: 21世纪经济报道</td></tr></table>
      <font class="text">
      一个简单的推断是：超发电价的上调，实际上就意味着上网电价上调，“最为直接的影响是，销售电价必将再次面临上涨的压力”。<br>
      <p>言茂松认为，现在的电力体制改革偏离改革的初衷，渐渐成为利益集团利益再分配的过程。</p>
      <p>1月4日，浙江东南发电股份有限公司接到了浙江省物价局的一份通知，统调燃煤发电机组的超发电价上调。</p>
      <p>该人士付之一笑：“这样的说法没有道理，所有的改革难道不都是利益再分配的过程吗？”</p>
      </font>
    </td>
    <td width="200" valign="top"><table width="100%"><tr><td><b>今日推荐</b></td></tr>{_PICKS}</table></td>
  </tr></table>
</td></tr>
<tr><td>
  <table width="100%"><tr><td>关于网易 | 广告服务 | 联系方法 | 网易公司版权所有 ©1997-2005 未经书面许可，不得转载。</td></tr></table>
</td></tr></table>
</body></html>"""


def _body_text(page: str) -> str:
    content = extract_article(Selector(text=page), ArticleSelectors(), BASE)
    return "".join(Selector(text=content.content_html or "<p></p>").xpath("string(.)").get("").split())


def test_a_page_laid_out_in_tables_gives_the_article_cell_only() -> None:
    body = _body_text(PORTAL)
    assert "一个简单的推断是" in body  # the bare run before the first <p> is kept
    assert "所有的改革难道不都是利益再分配的过程吗" in body
    for furniture in ("首页", "体育", "今日推荐", "全国武术冠军"):
        assert furniture not in body


def test_a_data_table_in_the_article_stays_a_table() -> None:
    rows = "".join(f"<tr><td>{year}</td><td>{price}</td><td>{change}</td></tr>"
                   for year, price, change in [("2003", "0.33", "+2%"), ("2004", "0.35", "+6%"), ("2005", "0.38", "+9%")])
    page = PORTAL.replace("<p>言茂松认为",
                          f"<table><tr><th>年份</th><th>上网电价</th><th>涨幅</th></tr>{rows}</table><p>言茂松认为")
    content = extract_article(Selector(text=page), ArticleSelectors(), BASE)
    assert "<table" in (content.content_html or "") and "上网电价" in (content.content_html or "")


def test_layout_and_data_tables_are_told_apart() -> None:
    tree = lxml_html.document_fromstring(
        '<html><body>'
        '<table id="nav"><tr><td><a href="/a">新闻</a></td><td><a href="/b">体育</a></td></tr></table>'
        '<table id="figure"><tr><td><img src="chip.png"></td></tr><tr><td>SLG46620V block diagram</td></tr></table>'
        '<table id="data"><tr><th>Year</th><th>Price</th></tr><tr><td>2004</td><td>0.35</td></tr></table>'
        '<table id="frame"><tr><td>左栏文字，一段足够长的说明文字。</td><td>右栏文字，另一段足够长的说明文字。</td></tr></table>'
        '</body></html>')
    unwrap_layout_tables(tree)
    tags = {el.get("id"): el.tag for el in tree.iter() if el.get("id")}
    # Navigation in cells and a two-cell frame become blocks; a picture above its caption (one cell of text) and a
    # table with header cells stay tables.
    assert tags == {"nav": "div", "figure": "table", "data": "table", "frame": "div"}


def test_bare_text_runs_in_a_layout_cell_become_paragraphs() -> None:
    tree = lxml_html.document_fromstring(
        '<html><body><table><tr><td><a href="/">首页</a></td><td id="cell">一、培养目标：培养德智体美全面发展的高级人才。<br>'
        '二、报考条件：热爱祖国，品德优良，身体健康。<hr><a href="/more">更多</a><p>三、收费标准：每人每年12000元。</p>'
        '</td></tr></table></body></html>')
    unwrap_layout_tables(tree)
    cell = tree.get_element_by_id("cell")
    assert [child.tag for child in cell] == ["p", "hr", "a", "p"]
    assert "".join(cell[0].itertext()).startswith("一、培养目标") and cell[0][0].tag == "br"
    assert cell[1].tail is None and cell[2].text == "更多"  # a short link run is left as it was
