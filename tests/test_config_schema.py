"""feedsvc/config/schema.py: the example is complete and valid; mistakes are reported with their key path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from feedsvc.config import AppConfig, load_config, parse_config
from feedsvc.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"


def _minimal_source(**overrides: object) -> dict[str, object]:
    source: dict[str, object] = {"id": "gw", "title": "GW", "start_urls": ["http://127.0.0.1:1/"],
                                 "listings": [{"id": "latest", "heading": "最新"}]}
    source.update(overrides)
    return source


def test_example_config_is_valid() -> None:
    cfg = load_config(EXAMPLE)
    assert [s.id for s in cfg.sources] == ["gwsite"]
    assert {lst.kind for lst in cfg.sources[0].listings} == {"recommended", "ranking", "latest", "related"}


def _keys(model: type[BaseModel]) -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        keys.add(name)
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                keys |= _keys(candidate)
    return keys


def test_example_config_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\s*#?\s*([a-z_]+)\s*=", text, flags=re.M))
    documented |= set(re.findall(r"^\s*\[\[?([a-z_.]+)\]?\]", text, flags=re.M))
    documented = {part for key in documented for part in key.split(".")}
    missing = _keys(AppConfig) - documented
    assert not missing, f"config.example.toml does not mention: {sorted(missing)}"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"sources": [_minimal_source(start_urls=[])]}, "sources[0].start_urls"),
        ({"sources": [_minimal_source(listings=[{"id": "x"}])]}, "sources[0].listings[0]: set exactly one of"),
        ({"sources": [_minimal_source(listings=[{"id": "x", "block": "div[["}])]}, "sources[0].listings[0].block: invalid CSS"),
        ({"sources": [_minimal_source(listings=[{"id": "x", "block": "//div[", "kind": "latest"}])]}, "invalid XPath"),
        ({"sources": [_minimal_source(timezone="Mars/Olympus")]}, "sources[0].timezone: unknown time zone"),
        ({"sources": [_minimal_source(schedule="every night")]}, "sources[0].schedule: invalid cron"),
        ({"sources": [_minimal_source(id="Bad Id")]}, "sources[0].id: 'Bad Id' is not a valid id"),
        ({"sources": [_minimal_source(), _minimal_source()]}, "source id 'gw' is used twice"),
        ({"sources": [_minimal_source(id="topics")]}, "sources[0].id: 'topics' is reserved"),
        ({"crawl": {"download_dealy": 1}}, "crawl.download_dealy: is not a known key"),
        ({"crawl": {"max_pages": 0}}, "crawl.max_pages"),
        ({"topics": [{"id": "t", "title": "T"}]}, "topics[0]: a topic needs 'keywords' or 'seed_urls'"),
        ({"sources": [_minimal_source(listings=[{"id": "x", "heading": "h", "kind": "popular"}])]}, "sources[0].listings[0].kind"),
    ],
)
def test_invalid_config_names_the_key(raw: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, "config.toml")
    assert expected in str(info.value)
    assert str(info.value).startswith("config.toml: ")


def test_every_error_is_reported_at_once() -> None:
    raw = {"crawl": {"retries": -1}, "sources": [_minimal_source(timezone="Nowhere", start_urls=["ftp://x"])]}
    with pytest.raises(ConfigError) as info:
        parse_config(raw, "c.toml")
    lines = [ln for ln in str(info.value).splitlines() if ln.startswith("c.toml:")]
    assert len(lines) == 3
