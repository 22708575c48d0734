"""Reading the user's TOML files (study mapping, analysis plan) with clear errors."""
from __future__ import annotations

import tomllib
from pathlib import Path


def read_toml(path: str | Path, what: str, error: type[Exception]) -> dict:
    """Parse ``path``; a missing or malformed file raises ``error`` with one sentence."""
    p = Path(path)
    if not p.is_file():
        raise error(f"{what} file not found: {p}")
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{what} file {p} is not valid TOML: {exc}") from None
