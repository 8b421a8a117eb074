"""Config validation: the example is complete and valid; mistakes are reported with their key path."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
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


def test_database_url_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDSVC_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert parse_config({"database": {"url": "sqlite:///x.db"}}).database.url == "postgresql+psycopg://u@h/db"


def test_config_path_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text('[server]\nport = 9999\n', encoding="utf-8")
    monkeypatch.setenv("FEEDSVC_CONFIG", str(path))
    assert load_config().server.port == 9999


def test_toml_syntax_error_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[crawl\nx = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid TOML"):
        load_config(path)


def test_check_command_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    raw = EXAMPLE.read_text(encoding="utf-8").replace('heading = "推荐文稿"', 'heading = "推荐文稿"\n  block = "div.x"')
    path = tmp_path / "config.toml"
    path.write_text(raw, encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = subprocess.run([sys.executable, "-m", "feedsvc", "check", "--config", str(path)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert "sources[0].listings[0]: set exactly one of 'heading'" in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_check_command_summarises_valid_config(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "feedsvc", "check", "--config", str(EXAMPLE)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "gwsite" in result.stdout and "recommended" in result.stdout
    assert tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["sources"][0]["id"] == "gwsite"


def test_cron_weekday_7_is_sunday_in_config_and_schedule() -> None:
    # README promises crontab's weekdays: 0 and 7 are Sunday. The config check and the jobs share one parser.
    from datetime import UTC, datetime

    from feedsvc.config import cron_trigger

    cfg = parse_config({"sources": [_minimal_source(schedule="15 6 * * 7")]}, "config.toml")
    trigger = cron_trigger(cfg.sources[0].schedule or "", "UTC")
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 27, tzinfo=UTC))  # a Friday
    assert fire == datetime(2026, 11, 29, 6, 15, tzinfo=UTC) and fire.weekday() == 6
    assert {f.name: str(f) for f in cron_trigger("0 9 * * 5-7").fields}["day_of_week"] == "fri-sun"
    with pytest.raises(ConfigError, match="invalid cron"):
        parse_config({"sources": [_minimal_source(schedule="0 9 * * 8")]}, "config.toml")


def test_parse_now_is_aware_utc() -> None:
    from datetime import UTC, datetime

    from feedsvc.config import parse_now

    assert parse_now(None) is None and parse_now("") is None
    assert parse_now("2026-01-05T08:00:00+08:00") == datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    assert parse_now("2026-01-05T08:00:00") == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    with pytest.raises(ConfigError, match="not an ISO 8601 time"):
        parse_now("yesterday")
