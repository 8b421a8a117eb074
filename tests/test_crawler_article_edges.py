"""crawler/article_edges.py: page furniture before and after the extracted main text."""

from __future__ import annotations

from lxml import html as lxml_html

from crawler.article_edges import trim_edges


def test_trim_edges_drops_navigation_before_and_furniture_after_the_article() -> None:
    body = lxml_html.fragment_fromstring("""<div><p></p><p><a href="/">首页</a> | <a href="/n">新闻直通车</a></p>
    <p>市政府周二宣布，沿江步道将延长四公里，这一计划十年前首次提出，曾因桥梁造价的争议两度推迟。</p><img src="/a.jpg">
    <p>沿线居民表示欢迎。</p><p>责任编辑：王明</p><h3>相关新闻</h3><ul><li><a href="/5">市长辞职</a></li></ul></div>""")
    trim_edges(body)
    assert [" ".join(el.text_content().split())[:6] or el.tag for el in body] == ["市政府周二宣", "img", "沿线居民表示"]
    english = lxml_html.fragment_fromstring("""<div><p><a href="/">Home</a> › <a href="/news">News</a></p>
    <p>The city council voted on Tuesday to extend the river path by four kilometres, a plan first proposed.</p>
    <p>Update: the vote count was published.</p><p><a href="/a/7">The next story</a> Next Article</p>
    <h3>Most read</h3><ul><li><a href="/a/5">Mayor resigns</a></li></ul><img src="/ad.gif"><h3>Comments</h3>
    <p>Loading comments…</p><p></p></div>""")
    trim_edges(english)
    assert [" ".join(el.text_content().split())[:20] or el.tag for el in english] == [
        "The city council vot", "Update: the vote cou", "img"]  # a picture is kept, and the walk goes past it


def test_trim_edges_drops_a_chinese_pages_date_line_and_copyright_notice() -> None:
    # As old Chinese news pages print them: the headline, then a date/source line and the reporters; after the
    # text, the editor and a three-paragraph "反侵权公告".
    body = lxml_html.fragment_fromstring("""<div><h1>土豆变身“致富薯”</h1><p>2022-02-13 09:57 来源：光明日报</p>
    <p>【新春走基层】</p><p>光明日报记者 王建宏 张文攀</p>
    <p>土豆，听名字就“土”得掉渣。可这几天，在中国著名的土豆产区——宁夏固原市西吉县，记者却看到了另外一番景致。</p>
    <p>全县马铃薯良种覆盖率接近100%。</p><p>（松花江网编辑 孙桂芳）</p><p>反侵权公告：</p>
    <p>根据《中华人民共和国著作权法》等法律法规，未经书面许可，擅自转载本报社作品的，将涉嫌侵犯著作权人合法权益。为规范网络转载行为，本报社郑重公告：</p>
    <p>一、任何单位或个人，在任何公开传播平台上使用著作权归属于本报社的原创内容，必须事先取得本报社书面授权；</p>
    <p>二、对侵犯本报社著作权益的违法行为，本报社将采取一切合法措施，追究行为人的侵权责任。</p>
    <p>CopyRight 2012-2021 查报纸网 版权所有 关于我们 | 网站公告 | 联系方式</p></div>""")
    trim_edges(body)
    assert [" ".join(el.text_content().split())[:6] for el in body] == ["土豆变身“致", "土豆，听名字", "全县马铃薯良"]


def test_trim_edges_keeps_an_english_sentence_that_mentions_copyright() -> None:
    body = lxml_html.fragment_fromstring("""<div><p>By Jane Doe, 2015-03-25 10:00</p>
    <p>The council published its plan for the river path on Tuesday, after a decade of delays and disputes.</p>
    <p>This isn't supposed to be a manifesto™© we just think it's pretty cool to share what we've learned.</p>
    <p>Copyright © 2015 Eklektix, Inc.</p></div>""")
    trim_edges(body)
    assert [" ".join(el.text_content().split())[:12] for el in body] == ["By Jane Doe,", "The council ", "This isn't s"]


_REPLY = "楼主写得很中肯，我也喜欢这部电影，张曼玉的表演非常切合人物，音乐与城市的妖艳相衬托，看完久久不能平静。"


def test_trim_edges_keeps_the_first_post_of_a_chinese_forum_thread() -> None:
    # As 网易娱乐's 2005 forum printed a thread: the first post, then each post's signature line and the replies.
    first_post = "".join(f"<p>{'不得不承认，如果没有张曼玉在戛纳封后，就很少有人会去关注《清洁》这部法国电影。' * 3}</p>"
                         for _ in range(4))
    body = lxml_html.fragment_fromstring(f"""<div><p>《清洁》：东方式内敛与摇滚现实绘</p>{first_post}
    <p>------------------------------</p><p>〓 网易娱乐 周黎明留言板 发布时间 2005/05/17 22:11:42 by 眉间尺 〓</p>
    <p>{_REPLY}</p><p>〓 网易娱乐 周黎明留言板 发布时间 2005/07/19 23:32:41 by alex_qiqi 〓</p><p>{_REPLY}</p>
    <p>〓 网易娱乐 周黎明留言板 发布时间 2005/07/22 20:37:55 by 渴睡的湖 〓</p></div>""")
    trim_edges(body)
    text = body.text_content()
    assert text.count("不得不承认") == 12 and "楼主" not in text and "发布时间" not in text


def test_trim_edges_does_not_take_a_news_page_with_update_stamps_for_a_thread() -> None:
    paragraph = "<p>" + "现代集团与广汽的合资谈判历时八个月，双方在商用车领域的合作将全面展开，涉及整车、发动机和零部件。" * 2 + "</p>"
    body = lxml_html.fragment_fromstring(f"""<div>{paragraph}<p>2005-07-18 13:03:17 来源：21世纪经济报道</p>
    {paragraph * 5}<p>（2005-07-18 15:20 更新）</p>{paragraph}<p>（2005-07-19 09:10 更新）</p>{paragraph}</div>""")
    trim_edges(body)
    assert body.text_content().count("现代集团") == 16  # the standfirst is not a first post: nothing is cut
