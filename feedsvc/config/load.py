"""Reading the config: `load_config(path) -> AppConfig`, the only reader of the config file and its environment
variables (FEEDSVC_CONFIG, FEEDSVC_DATABASE_URL).

Every error names its key path (`sources[1].listings[0].block`) and what is wrong, so an admin can fix the
TOML without reading code. Nothing here writes anywhere.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from feedsvc.config.fields import SLUG_HINT
from feedsvc.config.schema import AppConfig
from feedsvc.errors import ConfigError

DEFAULT_CONFIG_PATH = "config.toml"
CONFIG_ENV = "FEEDSVC_CONFIG"
DATABASE_URL_ENV = "FEEDSVC_DATABASE_URL"


def database_setting() -> str:
    """Where the database URL in use was set, for error messages: the environment variable overrides the file."""
    if os.environ.get(DATABASE_URL_ENV):
        return f"the environment variable {DATABASE_URL_ENV} (it overrides [database] url)"
    return "[database] url in the config"


def default_config_path() -> str:
    return os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-after", "function-before", "model")):
            continue  # pydantic's validator wrappers are noise for an admin
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _describe(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """`sources[2] "gwsite"` style context so an admin finds the block fast."""
    if len(loc) >= 2 and loc[0] in ("sources", "topics") and isinstance(loc[1], int):
        entries = raw.get(str(loc[0]))
        if isinstance(entries, list) and loc[1] < len(entries) and isinstance(entries[loc[1]], dict):
            name = entries[loc[1]].get("id")
            if isinstance(name, str):
                return f' ({loc[0]}[{loc[1]}] is "{name}")'
    return ""


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is missing"
    if kind == "extra_forbidden":
        return "is not a known key (check its spelling against config.example.toml)"
    if kind == "string_pattern_mismatch":
        return f"{error.get('input')!r} is not a valid id: {SLUG_HINT}"
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


def parse_config(raw: dict[str, Any], path: str = "") -> AppConfig:
    """Validate a parsed TOML document; raises ConfigError listing every problem, one per line."""
    data = dict(raw)
    env_url = os.environ.get(DATABASE_URL_ENV)
    if env_url:
        database = dict(data.get("database") or {})
        database["url"] = env_url
        data["database"] = database
    try:
        return AppConfig.model_validate({**data, "path": path})
    except ValidationError as exc:
        label = path or "config"
        lines = [
            f"{label}: {_format_loc(tuple(err['loc']))}: {_message(err)}{_describe(raw, tuple(err['loc']))}"
            for err in exc.errors()
        ]
        raise ConfigError("\n".join(lines) + "\nSee config.example.toml for every key.") from None


def load_config(path: str | os.PathLike[str] | None = None) -> AppConfig:
    """Read and validate the config at `path` (default: $FEEDSVC_CONFIG, else ./config.toml)."""
    config_path = Path(path if path is not None else default_config_path())
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"Config file {config_path} not found. Copy config.example.toml to {config_path}, "
            f"or pass --config PATH (or set {CONFIG_ENV})."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read config file {config_path}: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses per nesting level: `a = [[[[…` thousands deep
        raise ConfigError(f"{config_path}: not valid TOML: nested too deeply") from None
    if not raw:
        raise ConfigError(f"{config_path} is empty. Copy config.example.toml to {config_path} and add a "
                          "[[sources]] entry.")
    return parse_config(raw, str(config_path))
