"""Writing config.toml: append a `[[sources]]` block, or point a listing at a healed block, with tomlkit so the
file keeps its comments and layout. Every change is validated with `parse_config` before the file is touched;
`set_listing_block` leaves a backup beside the file. `append_source` can start a config: a missing or empty
file becomes one holding just the new source (every other key takes its default).
"""

from __future__ import annotations

import json
import shutil
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from feedsvc.config.load import parse_config
from feedsvc.config.schema import AppConfig
from feedsvc.errors import ConfigError

NEW_CONFIG_HEADER = ("# feedsvc configuration, started by `feedsvc suggest --write`. Keys left out take their "
                     "defaults;\n# config.example.toml shows every key.\n")


def is_blank(path: Path) -> bool:
    """True when `path` is missing or holds no keys (empty, or comments only): a config still to be started."""
    try:
        return not tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return True
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # there is something: _read and the checks say what is wrong with it


def _read(path: Path, start: bool = False) -> tomlkit.TOMLDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if start:
            return tomlkit.parse(NEW_CONFIG_HEADER)
        raise ConfigError(f"Config file {path} not found; pass --config PATH") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc}") from None
    if start and not text.strip():
        return tomlkit.parse(NEW_CONFIG_HEADER)
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc}") from None


def _checked(text: str, path: Path) -> AppConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: the result would not be valid TOML ({exc}); nothing was written") from None
    try:
        return parse_config(raw, str(path))
    except ConfigError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{first} (in the result; nothing was written)") from None


def append_source(path: Path, block: str) -> AppConfig:
    """Append the `[[sources]]` of `block` (TOML text) to the config at `path`, after checking the result; a
    missing or empty file is started with just this source."""
    doc = _read(path, start=True)
    try:
        new = tomlkit.parse(block)
    except TOMLKitError as exc:
        raise ConfigError(f"the suggested block is not valid TOML: {exc}") from None
    sources: Any = doc.get("sources")
    if sources is None:
        doc.append("sources", new["sources"])
    elif isinstance(sources, tomlkit.items.AoT):
        for table in new["sources"]:
            sources.append(table)
    else:
        raise ConfigError(f"{path}: 'sources' is not written as [[sources]] tables; add the block by hand")
    text = tomlkit.dumps(doc)
    cfg = _checked(text, path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot write config file {path}: {exc}") from None
    return cfg


def set_listing_block(path: Path, source_id: str, listing_id: str, block: str, at: datetime,
                      field: str = "block") -> Path:
    """Point a listing at `block` (a selector; or a heading text with field="heading"), dropping the other key,
    keeping a backup beside the file; returns the backup's path."""
    doc = _read(path)
    listing = _find_listing(doc, source_id, listing_id, path)
    old = " ".join(f"{key} = {json.dumps(str(listing[key]), ensure_ascii=False)}" for key in ("heading", "block")
                   if key in listing)
    listing.pop("heading", None)
    listing.pop("block", None)
    listing[field] = block
    listing[field].comment(f"healed {at:%Y-%m-%d}: was {old}")
    text = tomlkit.dumps(doc)
    _checked(text, path)
    backup = path.with_name(f"{path.name}.{at:%Y%m%d%H%M%S}.bak")
    shutil.copy2(path, backup)
    path.write_text(text, encoding="utf-8")
    return backup


def _find_listing(doc: tomlkit.TOMLDocument, source_id: str, listing_id: str, path: Path) -> Any:
    for source in doc.get("sources") or []:
        if source.get("id") == source_id:
            for listing in source.get("listings") or []:
                if listing.get("id") == listing_id:
                    return listing
            raise ConfigError(f"{path}: source {source_id!r} has no listing {listing_id!r}")
    raise ConfigError(f"{path}: no source {source_id!r}")
