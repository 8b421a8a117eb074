"""feedsvc/related/boilerplate.py: segments repeated across a site's pages are learned and removed, per site."""

from __future__ import annotations

from feedsvc.related.boilerplate import MIN_DOCS, Boilerplate, remove_boilerplate, segments
from feedsvc.related.docs import Doc

FOOTER = "本文仅供学习参考，转载请注明出处。"


def test_segments_are_lines_split_after_sentence_ends() -> None:
    assert segments("第一句。第二句！\n  Share this: now. Next line?  \n\n尾") == [
        "第一句。", "第二句！", "Share this: now.", "Next line?", "尾"]



def test_segments_split_as_the_lookbehind_definition_does() -> None:
    """Split after 。！？；!?; and after '.' before whitespace (which goes): the regex this replaced, kept as the
    reference; random strings of the characters that matter."""
    import random
    import re

    reference = re.compile(r"(?<=[。！？；!?;])|(?<=[.])\s+")
    rng = random.Random(7)
    for _ in range(20_000):
        text = "".join(rng.choice("ab .!?;。！？；\t\u3000\xa0\n") for _ in range(rng.randint(0, 14)))
        expected = [s for line in text.split("\n") for s in (p.strip() for p in reference.split(line)) if s]
        assert segments(text) == expected, repr(text)

def test_a_sites_repeated_segments_go_and_its_articles_stay() -> None:
    docs = [Doc(i, f"t{i}", f"独有的正文第{i}句，内容各不相同。{FOOTER}\nSubscribe to our newsletter today.", source="a")
            for i in range(MIN_DOCS)]
    other_site = Doc(99, "x", f"另一个网站的文章。{FOOTER}", source="b")
    docs.append(other_site)
    found = remove_boilerplate(docs)
    assert found.found["a"] == {hash(FOOTER), hash("Subscribe to our newsletter today.")}
    assert docs[0].text == "独有的正文第0句，内容各不相同。" and docs[0].title == "t0"
    assert docs[-1] is other_site  # one page of site b: nothing is boilerplate there yet


def test_rare_or_short_segments_stay() -> None:
    docs = [Doc(i, "t", f"正文{i}。{FOOTER}" if i < MIN_DOCS - 1 else f"正文{i}。首页") for i in range(MIN_DOCS)]
    docs += [Doc(10 + i, "t", "首页") for i in range(MIN_DOCS)]
    assert Boilerplate.learn(docs).found == {}  # the footer on too few pages; "首页" too short to judge
