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


def _models_in(annotation: object) -> list[type[BaseModel]]:
    return [c for c in (annotation, *getattr(annotation, "__args__", ()))
            if isinstance(c, type) and issubclass(c, BaseModel)]


def _schema_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every key the config accepts, as a dotted path (`crawl.timeout`, `sources.listings.pages`): a key's name
    alone would let `websub.timeout` pass for `crawl.timeout`."""
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        nested = _models_in(field.annotation)
        for sub in nested:
            keys |= _schema_keys(sub, f"{prefix}{name}.")
        if not nested:
            keys.add(prefix + name)
    return keys


def _example_keys(text: str) -> set[str]:
    """Keys config.example.toml shows, set or commented out, as dotted paths under their table headers."""
    keys: set[str] = set()
    table = ""
    for line in text.splitlines():
        header = re.match(r"^\s*\[\[?([a-z_.]+)\]\]?\s*$", line)
        if header:
            table = header.group(1) + "."
            continue
        key = re.match(r"^\s*#?\s*([a-z_]+)\s*=", line)
        if key:
            keys.add(table + key.group(1))
    return keys


def _docs_keys(text: str) -> set[str]:
    """Keys docs/configuration.md's key table lists: each row is a `[section]` and its keys in backticks."""
    keys: set[str] = set()
    for row in re.findall(r"^\| `\[\[?([a-z_.]+)\]\]?` \|(.*)\|$", text, flags=re.M):
        section, cell = row
        keys |= {f"{section}.{key}" for key in re.findall(r"`([a-z_]+)`", cell)}
    return keys


def test_example_config_documents_every_key() -> None:
    missing = _schema_keys(AppConfig) - _example_keys(EXAMPLE.read_text(encoding="utf-8"))
    assert not missing, f"config.example.toml does not mention: {sorted(missing)}"


def test_configuration_docs_list_every_key() -> None:
    documented = _docs_keys((ROOT / "docs" / "configuration.md").read_text(encoding="utf-8"))
    schema = _schema_keys(AppConfig)
    assert not schema - documented, f"docs/configuration.md does not list: {sorted(schema - documented)}"
    # Values in backticks (`auto`, `latest`) share the cells; only names that are not keys at all are stale.
    sections = {key.rpartition(".")[0] for key in schema}
    stale = {k for k in documented - schema if k.rpartition(".")[0] in sections
             and k.rpartition(".")[2] not in {"auto", "browser", "never", "recommended", "ranking", "latest",
                                              "related"}}
    assert not stale, f"docs/configuration.md lists keys the config does not accept: {sorted(stale)}"


def test_the_example_source_is_disabled_so_a_copied_config_crawls_nothing_by_mistake() -> None:
    cfg = load_config(EXAMPLE)
    assert [s.enabled for s in cfg.sources] == [False]
    assert "enabled = true" in EXAMPLE.read_text(encoding="utf-8")  # and it says how to turn it on


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


@pytest.mark.parametrize("selector", [
    "div.pages a", "h1::text", "a::attr(href)", "li:nth-child(2n+1) > a::text", "a:hover", "p:contains('x')",
    "div[", "a::foo", "a::attr()", "a::attr(href)::text", "a::attr(href, x)", "div >", "#", "a:nth-child(x)",
])
def test_css_selectors_are_checked_as_parsel_reads_them(selector: str) -> None:
    """The config checks selectors with cssselect alone (no lxml in processes that only read a config); what it
    accepts must be exactly what parsel, which runs them, accepts."""
    from parsel.csstranslator import HTMLTranslator

    from feedsvc.config.fields import _check_selector

    try:
        HTMLTranslator().css_to_xpath(selector)
        parsel_accepts = True
    except Exception:
        parsel_accepts = False
    try:
        _check_selector(selector)
        we_accept = True
    except ValueError:
        we_accept = False
    assert we_accept == parsel_accepts


def test_reading_a_config_loads_no_html_parser(tmp_path: Path) -> None:
    """`feedsvc crawl` holds what reading the config loaded through the whole crawl (bench/README.md)."""
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    config.write_text('[[sources]]\nid = "gw"\ntitle = "GW"\nstart_urls = ["http://127.0.0.1:1/"]\n'
                      '[[sources.listings]]\nid = "latest"\nblock = "div.list ul"\nitem = "li"\n'
                      'pagination = "a.next::attr(href)"\n', encoding="utf-8")
    code = ("import sys; from feedsvc.config import load_config; cfg = load_config(sys.argv[1]); "
            "assert cfg.sources[0].listings[0].pagination; "
            "print(sorted(m for m in ('lxml', 'parsel', 'sqlalchemy', 'bs4') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_error_is_reported_at_once() -> None:
    raw = {"crawl": {"retries": -1}, "sources": [_minimal_source(timezone="Nowhere", start_urls=["ftp://x"])]}
    with pytest.raises(ConfigError) as info:
        parse_config(raw, "c.toml")
    lines = [ln for ln in str(info.value).splitlines() if ln.startswith("c.toml:")]
    assert len(lines) == 3
