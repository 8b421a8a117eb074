"""feedsvc/related/docs.py: how an item becomes the text relatedness reads."""

from __future__ import annotations

from datetime import UTC, datetime

from feedsvc.related.docs import MAX_BODY_BYTES, Doc, doc_text, item_text, to_doc
from feedsvc.related.tokens import term_counts
from feedsvc.store.related import ItemText


def test_plain_text_strips_markup_and_repeated_summary() -> None:
    text = item_text("防汛工作部署", "<p>防汛工作部署 &amp; 检查</p><script>x</script>")
    assert "<" not in text and "&amp;" not in text and "检查" in text
    summary = "第一段" * 30
    assert item_text(summary, f"<p>{summary}</p><p>第二段</p>") == summary + "\n第二段"
    assert item_text("<div>版权所有<br>地址： 某路 1 号</div><p>第<b>一</b>段</p>") == "版权所有\n地址： 某路 1 号\n第 一 段"
    assert item_text("摘要", None, "") == "摘要"
    assert len(item_text("<p>" + "长" * 5000 + "</p>")) == MAX_BODY_BYTES // 3  # a byte budget
    assert len(item_text("<p>" + "long " * 5000 + "</p>")) == MAX_BODY_BYTES


def test_doc_text_weighs_the_title_and_never_joins_title_and_body() -> None:
    doc = Doc(1, "防汛", "工作")
    counts = term_counts(doc_text(doc))
    assert counts == term_counts("防汛 防汛 工作")  # title twice; no 汛工 bigram across the line break


def test_to_doc_orders_by_first_seen() -> None:
    seen = datetime(2026, 1, 2, tzinfo=UTC)
    doc = to_doc(ItemText(7, "标题", "摘要", "<p>正文</p>", seen, None, "gw"))
    assert doc == Doc(7, "标题", "摘要\n正文", seen.timestamp(), "gw")


def test_rows_and_docs_survive_the_trip_to_worker_processes() -> None:
    """A rebuild pickles rows to its worker processes and Docs back (as constructor calls, for speed)."""
    import pickle

    row = ItemText(7, "Title", "Summary", "<p>Body</p>", datetime(2026, 1, 1, tzinfo=UTC), None, "site")
    assert pickle.loads(pickle.dumps(row)) == row
    doc = to_doc(row)
    assert pickle.loads(pickle.dumps(doc)) == doc and pickle.loads(pickle.dumps(Doc(1, "t"))) == Doc(1, "t")
