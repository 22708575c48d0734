"""`rwestudy serve import`: one center's existing workbook or CSV folder, into the server.

The file is read and checked by `rwestudy.load_study`, the very validation a
center's spreadsheet gets by e-mail today. What is loaded, and what is refused:

- only the rows of `--center` (the patients whose `center` is that name, and
  their other rows); rows of other centers are left out and counted, so a
  coordinator's merged workbook can be imported center by center;
- nothing at all when the center's rows have a validation error: an error
  means a value could not be read as its type (it would be lost) or the rows
  contradict each other, and either must be fixed in the file first, as
  `rwestudy validate` shows (warnings do not block);
- nothing at all when one of the center's patients is already in the server
  (an import adds patients, it does not overwrite what was entered).

Values are stored as the contract's text (ISO dates, yes/no, plain numbers),
and every row is audited as imported, with the reason "import from <file>".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rwestudy.io.schema import TABLES


class ImportRefused(Exception):
    """The file cannot be imported as it is; the message says why and what to do."""


@dataclass
class CenterRows:
    tables: dict[str, list[dict[str, str]]]
    skipped: dict[str, int] = field(default_factory=dict)  # table -> rows of other centers left out
    warnings: int = 0


def _text(value, kind: str) -> str:
    """A typed value as the contract's text (what a center types in a form)."""
    if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if kind == "date":
        return f"{pd.Timestamp(value):%Y-%m-%d}"
    if kind == "yesno":
        return "yes" if bool(value) else "no"
    if kind == "int":
        return str(int(value))
    if kind == "float":
        return format(float(value), ".15g")
    return str(value)


def _describe(f) -> str:
    where = ", ".join(p for p in (f["table"], f"row {int(f['row'])}" if pd.notna(f["row"]) else "",
                                  f"column {f['column']}" if pd.notna(f["column"]) else "") if p)
    return f"{where}: {f['message']}"


def center_rows(path: Path, center: str) -> CenterRows:
    """The center's rows of the study at `path`, as text, or ImportRefused."""
    from rwestudy.study import load_study

    study = load_study(path)
    patients = study.tables.get("patients")
    if patients is None or "center" not in patients.columns:
        raise ImportRefused(f"{path.name} has no patients table with a center column: "
                            "run `rwestudy validate` on it to see why")
    in_file = sorted(patients["center"].dropna().astype(str).unique())
    if center not in in_file:
        raise ImportRefused(f"no patient of center {center!r} in {path.name} (centers in it: "
                            f"{', '.join(in_file) or 'none'})")
    mine = set(patients.loc[patients["center"] == center, "patient_id"].dropna().astype(str))
    f = study.findings
    ours = f["center"].isna() | (f["center"] == center)
    errors = f.loc[(f["severity"] == "error") & ours]
    if len(errors):
        shown = "; ".join(_describe(e) for _, e in errors.head(5).iterrows())
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise ImportRefused(f"{len(errors)} validation error(s) in the rows of {center} in {path.name}, "
                            f"nothing imported: {shown}{more}. Fix them in the file "
                            f"(`rwestudy validate {path.name}` lists them all) and import again")
    out = CenterRows(tables={}, warnings=int(((f["severity"] == "warning") & ours).sum()))
    for name, frame in study.tables.items():
        spec = [c for c in TABLES[name].columns if c.name in frame.columns]
        keep = frame["patient_id"].astype("string").isin(mine).fillna(False).to_numpy()
        if (~keep).sum():
            out.skipped[name] = int((~keep).sum())
        rows = [{c.name: _text(row[c.name], c.kind) for c in spec} for _, row in frame.loc[keep].iterrows()]
        if rows:
            out.tables[name] = rows
    return out
