"""Findings: every problem in the data, one row each, with where and why.

A finding names the table (sheet), the spreadsheet row, the column and the
value, says in a sentence what is wrong and what would be right, and carries
the patient and center so the coordinating center can send each center its
own list. Findings are collected as DataFrames (one per rule, built from a
boolean mask) so validation stays vectorised on large tables.

Findings at scale: a check that fires on every row of a 2-million-row AE table
lists its first `CAP` findings one by one; the rows after those are counted, one
summary finding per patient ("and 20,833 more rows like this ..."), whose
``count`` column says how many rows it stands for. Counts (`count_by_severity`,
`center_summary`) add up ``count``, so they stay exact; only the listing is short.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SEVERITIES", "COLUMNS", "CAP", "SUMMARY_PATIENTS_CAP", "empty_findings", "finding", "from_mask",
           "count_by_severity", "combine", "center_summary"]

SEVERITIES = ("error", "warning", "info")
# count: how many source rows the finding stands for (1, or more for a summary finding).
COLUMNS = ["severity", "rule", "table", "row", "column", "value", "patient_id", "center", "message", "count"]
# Findings of one check (rule, table, column) listed one by one; the rest are counted per patient.
CAP = 1_000
# Beyond this many patients in one check's summaries, they are counted per center instead
# (the patients-with-errors count of the center then counts only the patients named).
SUMMARY_PATIENTS_CAP = 100_000


_EMPTY = pd.DataFrame({c: pd.Series(dtype="int64" if c == "count" else "object") for c in COLUMNS})


def empty_findings() -> pd.DataFrame:
    """An empty findings frame (shared; never mutate it)."""
    return _EMPTY


def finding(severity: str, rule: str, table: str, message: str, *, row=None, column=None,
            value=None, patient_id=None) -> pd.DataFrame:
    """A single finding (for table- or file-level problems)."""
    return pd.DataFrame([{
        "severity": severity, "rule": rule, "table": table, "row": row, "column": column,
        "value": None if value is None else str(value), "patient_id": patient_id,
        "center": None, "message": message, "count": 1,
    }], columns=COLUMNS)


def _text(values) -> np.ndarray:
    return pd.Series(values).astype("string").astype(object).to_numpy()


def from_mask(frame: pd.DataFrame, mask: pd.Series, *, severity: str, rule: str, table: str,
              column: str | None, message, value=None, cap: int = CAP) -> pd.DataFrame:
    """Findings for the rows of ``frame`` where ``mask`` is true.

    ``message`` is a string or a function of the selected rows returning a
    Series of strings (vectorised string building). ``value`` is the column
    whose raw value is shown (defaults to ``column``). The frame's index is the
    source row number. Only the first ``cap`` rows become findings of their own
    (their messages are the only ones built); the others are counted, see `_summaries`.
    """
    hits = np.flatnonzero(mask.fillna(False).astype(bool).to_numpy())
    if not len(hits):
        return empty_findings()
    sel = frame.iloc[hits[:cap]]
    n = len(sel)
    value_col = value if value is not None else column
    if value_col is not None and value_col in sel.columns:
        values = _text(sel[value_col])
    else:
        values = np.full(n, None, dtype=object)
    msg = message(sel) if callable(message) else pd.Series([message] * n, index=sel.index)
    pid = _text(sel["patient_id"]) if "patient_id" in sel.columns else np.full(n, None, dtype=object)
    # A patients-table row carries its own center (right even for a duplicated id).
    center = _text(sel["center"]) if "center" in sel.columns else np.full(n, None, dtype=object)
    listed = pd.DataFrame({
        "severity": severity,
        "rule": rule,
        "table": table,
        "row": sel.index.to_numpy(),
        "column": column,
        "value": values,
        "patient_id": pid,
        "center": center,
        "message": pd.Series(msg, index=sel.index).astype(str).to_numpy(),
        "count": 1,
    }, columns=COLUMNS)
    if len(hits) <= cap:
        return listed
    rest = _summaries(frame, hits[cap:], severity=severity, rule=rule, table=table, column=column, cap=cap)
    return pd.concat([listed, rest], ignore_index=True)


def _summaries(frame: pd.DataFrame, rest: np.ndarray, *, severity: str, rule: str, table: str,
               column: str | None, cap: int) -> pd.DataFrame:
    """The rows of one check after its first ``cap``: one finding per patient, with their count.

    Per patient, so each center's list (and its counts) stays its own; ``row`` is the
    first of the rows the finding stands for. No message per row is built.
    """
    def col(name):
        return frame[name].to_numpy()[rest] if name in frame.columns else np.full(len(rest), None, dtype=object)

    pid, center, rows = col("patient_id"), col("center"), frame.index.to_numpy()[rest]
    p_code, p_names = pd.factorize(pid, use_na_sentinel=False)  # integer codes: no per-row objects
    collapsed = len(p_names) > SUMMARY_PATIENTS_CAP
    if collapsed:  # too many patients to name one by one: counted per center
        p_code, p_names = np.zeros(len(rest), dtype="int64"), np.array([None], dtype=object)
    c_code, c_names = pd.factorize(center, use_na_sentinel=False)
    # One group per (patient, center), numbered in order of first appearance (source order).
    group, _ = pd.factorize(p_code.astype("int64") * max(len(c_names), 1) + c_code)
    size = np.bincount(group)
    at = np.arange(len(rest))
    first = np.full(len(size), len(rest), dtype="int64")
    np.minimum.at(first, group, at)
    last = np.zeros(len(size), dtype="int64")
    np.maximum.at(last, group, at)
    g = pd.DataFrame({"patient_id": np.asarray(p_names, dtype=object)[p_code[first]],
                      "center": np.asarray(c_names, dtype=object)[c_code[first]],
                      "size": size, "first": rows[first], "last": rows[last]})
    unnamed = "in this center" if collapsed else "in rows without a patient id"
    message = [f"and {n:,} more {'row' if n == 1 else 'rows'} with this problem "
               f"{unnamed if pd.isna(p) else 'for this patient'} "
               f"({f'row {a}' if n == 1 else f'rows {a} to {b}'}), not listed one by one: each check "
               f"lists its first {cap:,} findings"
               for p, n, a, b in zip(g["patient_id"], g["size"], g["first"], g["last"])]
    return pd.DataFrame({
        "severity": severity, "rule": rule, "table": table, "row": g["first"].to_numpy(), "column": column,
        "value": None, "patient_id": _text(g["patient_id"]), "center": _text(g["center"]),
        "message": message, "count": g["size"].astype("int64").to_numpy(),
    }, columns=COLUMNS)


def count_by_severity(findings: pd.DataFrame) -> dict[str, int]:
    """Findings per severity, each counted as the rows it stands for (``count``)."""
    n = _counts(findings)
    return {s: int(n[findings["severity"].to_numpy() == s].sum()) for s in SEVERITIES}


def _counts(findings: pd.DataFrame) -> np.ndarray:
    if "count" not in findings.columns:
        return np.ones(len(findings), dtype="int64")
    return pd.to_numeric(findings["count"], errors="coerce").fillna(1).astype("int64").to_numpy()


def combine(parts: list[pd.DataFrame], centers: pd.Series | None = None) -> pd.DataFrame:
    """Concatenate findings, attach each patient's center, sort for reading."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_findings()
    out = pd.concat(parts, ignore_index=True)
    out["count"] = _counts(out)  # a part built without the column: one row, one finding
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
    """Open problems per center: patients, errors, warnings, patients with an error.

    Errors, warnings and notes count every row (a summary finding adds its ``count``).
    """
    centers = pd.Series(dtype=object)
    if patients is not None and "center" in patients.columns:
        centers = patients["center"].astype("string").fillna("(no center)")
    base = centers.value_counts().rename("patients")
    f = findings.assign(center=findings["center"].astype("string").fillna("(no center)"), _n=_counts(findings))
    counts = f.pivot_table(index="center", columns="severity", values="_n", aggfunc="sum", fill_value=0) \
        if len(f) else pd.DataFrame()
    out = pd.DataFrame(base).join(counts, how="outer").fillna(0)
    for s in ("error", "warning", "info"):
        if s not in out.columns:
            out[s] = 0
    err_pat = f.loc[f["severity"] == "error"].groupby("center")["patient_id"].nunique()
    out["patients_with_errors"] = err_pat.reindex(out.index).fillna(0)
    out = out[["patients", "error", "warning", "info", "patients_with_errors"]].astype(int)
    out.index.name = "center"
    return out.sort_values(["error", "warning"], ascending=False).reset_index()
