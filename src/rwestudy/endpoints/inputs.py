"""Accept a `Study` or a dict of canonical tables; return typed tables.

A `Study` is already typed by `load_study`. A plain dict (e.g. straight from
`make_study()`) may still hold ``"yes"``/``"no"`` strings or ISO date text,
so each contract column whose dtype does not match its kind is converted
here. Values that cannot be converted become NA and a note says where, so the
caller sees it (the full validation with findings is `load_study`'s job).

>>> from rwestudy.demo.generator import make_study
>>> tables, cutoff, notes = typed_tables(make_study(n_patients=5, seed=1))
>>> str(tables["patients"]["double_hit"].dtype), cutoff
('boolean', None)
"""
from __future__ import annotations

import pandas as pd

from rwestudy.core.yesno import yes_no
from rwestudy.io.schema import TABLES, Column



def typed_tables(study_or_tables) -> tuple[dict[str, pd.DataFrame], pd.Timestamp | None, list[str]]:
    """(tables, study cut-off date or None, notes) for a Study or a dict of tables."""
    if hasattr(study_or_tables, "tables") and isinstance(study_or_tables.tables, dict):
        config = getattr(study_or_tables, "config", None)
        cutoff = getattr(config, "cutoff_date", None)
        raw = study_or_tables.tables
    elif isinstance(study_or_tables, dict):
        cutoff, raw = None, study_or_tables
    else:
        raise TypeError("derive_endpoints needs a Study or a dict of canonical tables, "
                        f"got {type(study_or_tables).__name__}")
    if "patients" not in raw:
        raise ValueError("the 'patients' table is required to derive endpoints")
    notes: list[str] = []
    tables = {}
    for name, frame in raw.items():
        spec = TABLES.get(name)
        tables[name] = frame if spec is None else _typed(frame, spec.by_name, name, notes)
    return tables, cutoff, notes


def _typed(frame: pd.DataFrame, columns: dict[str, Column], table: str, notes: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        col = columns.get(name)
        if col is None:
            continue
        before = out[name].notna()
        out[name] = _convert(out[name], col.kind)
        lost = int((before & out[name].isna()).sum())
        if lost:
            notes.append(f"{table}.{name}: {lost} value(s) could not be read as {col.kind} and are NA "
                         "(run `load_study` for the row-by-row findings)")
    return out


def _convert(values: pd.Series, kind: str) -> pd.Series:
    if kind == "date":
        if pd.api.types.is_datetime64_any_dtype(values):
            return values.dt.tz_localize(None) if values.dt.tz is not None else values
        return pd.to_datetime(values, errors="coerce", format="ISO8601")
    if kind == "yesno":
        return values if isinstance(values.dtype, pd.BooleanDtype) else yes_no(values)
    if kind == "int":
        return pd.to_numeric(values, errors="coerce").round().astype("Int64")
    if kind == "float":
        return pd.to_numeric(values, errors="coerce").astype("float64")
    # id, text, code, drugs: strings with NA (a Study's are already "string")
    if isinstance(values.dtype, pd.StringDtype):
        return values
    # No whitespace clean-up here: that is the readers' job, and it is slow on big tables.
    return values.astype("string")
