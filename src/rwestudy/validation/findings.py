"""Findings: every problem in the data, one row each, with where and why.

A finding names the table (sheet), the spreadsheet row, the column and the
value, says in a sentence what is wrong and what would be right, and carries
the patient and center so the coordinating center can send each center its
own list. Findings are collected as DataFrames (one per rule, built from a
boolean mask) so validation stays vectorised on large tables.
"""
from __future__ import annotations

import pandas as pd

SEVERITIES = ("error", "warning", "info")
COLUMNS = ["severity", "rule", "table", "row", "column", "value", "patient_id", "center", "message"]


_EMPTY = pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})


def empty_findings() -> pd.DataFrame:
    """An empty findings frame (shared; never mutate it)."""
    return _EMPTY


def finding(severity: str, rule: str, table: str, message: str, *, row=None, column=None,
            value=None, patient_id=None) -> pd.DataFrame:
    """A single finding (for table- or file-level problems)."""
    return pd.DataFrame([{
        "severity": severity, "rule": rule, "table": table, "row": row, "column": column,
        "value": None if value is None else str(value), "patient_id": patient_id,
        "center": None, "message": message,
    }], columns=COLUMNS)


def from_mask(frame: pd.DataFrame, mask: pd.Series, *, severity: str, rule: str, table: str,
              column: str | None, message, value=None) -> pd.DataFrame:
    """Findings for the rows of ``frame`` where ``mask`` is true.

    ``message`` is a string or a function of the selected rows returning a
    Series of strings (vectorised string building). ``value`` is the column
    whose raw value is shown (defaults to ``column``). The frame's index is the
    source row number.
    """
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return empty_findings()
    sel = frame.loc[mask.to_numpy()]
    n = len(sel)
    value_col = value if value is not None else column
    if value_col is not None and value_col in sel.columns:
        values = sel[value_col].astype("string").astype(object)
    else:
        values = pd.Series([None] * n, index=sel.index, dtype=object)
    msg = message(sel) if callable(message) else pd.Series([message] * n, index=sel.index)
    pid = sel["patient_id"] if "patient_id" in sel.columns else pd.Series([None] * n, index=sel.index)
    # A patients-table row carries its own center (right even for a duplicated id).
    center = sel["center"] if "center" in sel.columns else pd.Series([None] * n, index=sel.index)
    return pd.DataFrame({
        "severity": severity,
        "rule": rule,
        "table": table,
        "row": sel.index.to_numpy(),
        "column": column,
        "value": values.to_numpy(),
        "patient_id": pid.astype("string").astype(object).to_numpy(),
        "center": center.astype("string").astype(object).to_numpy(),
        "message": pd.Series(msg, index=sel.index).astype(str).to_numpy(),
    }, columns=COLUMNS)


def combine(parts: list[pd.DataFrame], centers: pd.Series | None = None) -> pd.DataFrame:
    """Concatenate findings, attach each patient's center, sort for reading."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_findings()
    out = pd.concat(parts, ignore_index=True)
    if centers is not None and len(centers):
        mapped = out["patient_id"].map(centers)
        out["center"] = out["center"].where(out["center"].notna(), mapped)
    order = out["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    out = out.assign(_o=order, _r=pd.to_numeric(out["row"], errors="coerce"))
    out = out.sort_values(["_o", "table", "_r", "column"], kind="stable", na_position="first")
    out = out.drop(columns=["_o", "_r"]).reset_index(drop=True)
    out["row"] = pd.to_numeric(out["row"], errors="coerce").astype("Int64")
    return out


def center_summary(findings: pd.DataFrame, patients: pd.DataFrame | None) -> pd.DataFrame:
    """Open problems per center: patients, errors, warnings, patients with an error."""
    centers = pd.Series(dtype=object)
    if patients is not None and "center" in patients.columns:
        centers = patients["center"].astype("string").fillna("(no center)")
    base = centers.value_counts().rename("patients")
    f = findings.assign(center=findings["center"].astype("string").fillna("(no center)"))
    counts = pd.crosstab(f["center"], f["severity"]) if len(f) else pd.DataFrame()
    out = pd.DataFrame(base).join(counts, how="outer").fillna(0)
    for s in ("error", "warning", "info"):
        if s not in out.columns:
            out[s] = 0
    err_pat = f.loc[f["severity"] == "error"].groupby("center")["patient_id"].nunique()
    out["patients_with_errors"] = err_pat.reindex(out.index).fillna(0)
    out = out[["patients", "error", "warning", "info", "patients_with_errors"]].astype(int)
    out.index.name = "center"
    return out.sort_values(["error", "warning"], ascending=False).reset_index()
