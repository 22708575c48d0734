"""results.json: every number of the analysis as tidy records, with a JSON Schema."""
from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

SCHEMA_VERSION = "1.0"


def results_schema() -> dict:
    """The JSON Schema documenting results.json (shipped as package data)."""
    return json.loads(files("rwestudy.data").joinpath("results.schema.json").read_text(encoding="utf-8"))


def write_results(results, out: str | Path) -> Path:
    """Write results.json into folder ``out``; returns its path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = {"schema_version": SCHEMA_VERSION, **results.to_json_dict()}
    path = out / "results.json"
    path.write_text(json.dumps(data, indent=1, allow_nan=False), encoding="utf-8")
    return path
