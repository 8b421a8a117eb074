"""The pure relatedness engine: tokenising, near-duplicate rules, and measured quality on the labelled corpus."""

from __future__ import annotations

import pytest

from feedsvc.related.index import RelatedIndex, batch_keys
from feedsvc.related.scoring import Doc, is_near_duplicate, normalize, plain_text, related, stem, tokenize
from tests.related_corpus import build_corpus, evaluate

# Three topical sentences and two site-boilerplate sentences per item: hard enough that the choice of
# weighting shows (see bench/related_quality.py for the other settings).
CORPUS = build_corpus(sentences=3, boilerplate=2)


def test_tokenize_chinese_bigrams_and_english_stems() -> None:
    assert tokenize("防汛工作") == ["防汛", "汛工", "工作"]
    assert tokenize("The markets are RISING, ＡＩ rules") == ["market", "ris", "ai", "rul"]
    assert tokenize("党") == ["党"]
    assert "防汛" in tokenize("防汛工作", mode="jieba")
    assert stem("running") == "run" and stem("policies") == "policy" and stem("taxes") == "tax"


def test_plain_text_strips_markup_and_repeated_summary() -> None:
    text = plain_text("防汛工作部署", "<p>防汛工作部署 &amp; 检查</p><script>x</script>")
    assert "<" not in text and "&amp;" not in text and "检查" in text
    summary = "第一段" * 30
    assert plain_text(summary, f"<p>{summary}</p><p>第二段</p>") == summary + " 第二段"
    assert plain_text("摘要", None, "") == "摘要"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_precision_at_5_meets_target(lang: str) -> None:
    quality = evaluate(CORPUS)
    assert quality.precision_at_5[lang] >= 0.8, quality


def test_every_near_duplicate_caught_none_recommended_no_false_alarms() -> None:
    quality = evaluate(CORPUS)
    assert quality.duplicate_recall == 1.0
    assert quality.duplicates_recommended == 0
    assert quality.false_duplicates == 0


def test_new_edition_with_same_template_is_related_not_duplicate() -> None:
    docs = [it.doc for it in CORPUS.items]
    index = RelatedIndex(docs)
    for first, second in CORPUS.not_duplicates:
        rel, dups = index.query(docs[second - 1], limit=5)
        assert first not in {d.id for d in dups}
        assert rel[0].id == first and rel[0].score > 0.9


@pytest.mark.parametrize(
    ("a", "b", "cosine", "expected"),
    [
        (("支部党员大会会议记录", "正文"), ("支部党员大会会议记录（转载）", "正文"), 0.97, True),
        (("支部党员大会会议记录", "正文"), ("党风廉政建设责任书", "正文"), 0.99, False),  # template body
        (("2023年工作总结", "正文"), ("2024年工作总结", "正文"), 0.99, False),  # another edition
        (("Budget deficit widens", "text"), ("Budget deficit widens!", "text"), 0.85, True),  # rare new word
        (("Budget deficit widens", "text"), ("Budget deficit widens!", "text"), 0.5, False),  # pre-filter
        (("Budget deficit widens", "Taxes rose and spending fell sharply this year."),
         ("Budget deficit widens", "Spending rose and taxes fell this spring, officials said."), 0.9, False),
        (("关于防汛工作的通知", ""), ("关于防汛工作的通知", ""), 1.0, True),  # title only, identical
        (("通知", ""), ("通知", ""), 1.0, False),  # title only, too short to tell
    ],
)
def test_near_duplicate_table(a: tuple[str, str], b: tuple[str, str], cosine: float, expected: bool) -> None:
    assert is_near_duplicate(Doc(1, *a), Doc(2, *b), cosine) is expected


def test_related_excludes_itself_and_duplicates_and_boosts_only_reorder() -> None:
    target = Doc(1, "防汛工作部署", "水库堤防巡查，防汛物资储备，山洪预警。")
    same = Doc(2, "防汛工作部署（转载）", target.text)
    close = Doc(3, "汛期防汛值班", "防汛值班，水库巡查，山洪灾害预警发布。")
    closer_by_site = Doc(4, "防汛抢险队伍", "抢险队伍集结，堤防巡查，防汛物资。")
    unrelated = Doc(5, "期末考试安排", "期末考试严肃考风考纪。")
    plain = related(target, [target, same, close, closer_by_site, unrelated], limit=5)
    assert [s.id for s in plain][:2] in ([3, 4], [4, 3]) and {1, 2, 5}.isdisjoint(s.id for s in plain)
    boosted = related(target, [target, same, close, closer_by_site, unrelated], limit=5, boosts={4: 0.5, 5: 0.5})
    assert boosted[0].id == 4 and 5 not in {s.id for s in boosted}


@pytest.mark.parametrize("text", [
    "防汛工作部署：汛期值班 2024年 Markets are RISING, the ＡＩ rules; it's 党 and 3 days",
    "",
    "Only English words here, and stopwords of the usual kind.",
])
def test_index_terms_are_the_tokenizer_terms(text: str) -> None:
    normal = normalize(text)
    tokens = tokenize(normal)
    _rows, keys, counts = batch_keys([normal])
    assert len(keys) == len(set(tokens)) and int(counts.sum()) == len(tokens)


def test_new_item_query_finds_related_and_its_duplicate() -> None:
    docs = [it.doc for it in CORPUS.items]
    index = RelatedIndex(docs[:-1])
    target = docs[0]
    copy = Doc(10_000, target.title + "（转载）", target.text)
    rel, dups = index.query(copy, limit=5)
    assert [d.id for d in dups] == [target.id]
    assert target.id not in {r.id for r in rel} and len(rel) == 5
    label = {it.doc.id: it.category for it in CORPUS.items}
    assert sum(label[r.id] == label[target.id] for r in rel) >= 4


def test_neighbours_of_indexed_documents_match_the_rebuild() -> None:
    """A crawl's new items are related from their index rows in blocks: the rebuild's answers for them."""
    docs = [it.doc for it in CORPUS.items]
    index = RelatedIndex(docs)
    everything = {doc.id: (rel, dups) for doc, rel, dups in index.neighbours(limit=8, min_score=0.05)}
    positions = list(range(0, len(docs), 3))
    batched = list(index.neighbours_of(positions, limit=8, min_score=0.05, block=7))
    assert [doc.id for doc, _, _ in batched] == [docs[p].id for p in positions]
    for doc, rel, dups in batched:
        assert (rel, dups) == everything[doc.id]
        # Re-tokenising the document (`query`) finds nearly the same list: only ties at the 64th
        # signature term may be cut differently.
        again, _ = index.query(doc, limit=8, min_score=0.05)
        assert len({s.id for s in again} & {s.id for s in rel}) >= len(rel) - 2
    assert any(dups for _, _, dups in batched) and all(rel for _, rel, _ in batched)
