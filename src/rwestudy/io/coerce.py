"""Turn raw cells into typed columns, reporting every value that does not fit.

Each column kind has one vectorised converter. A value that cannot be
converted becomes NA in the typed table *and* a finding with the raw value, so
nothing disappears without a trace.
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from rwestudy.io.dates import parse_dates
from rwestudy.io.numbers import ColumnNote, read_numbers
from rwestudy.io.schema import NA_TOKENS, Column, Table
from rwestudy.core.findings import empty_findings, finding, from_mask

from rwestudy.core.yesno import NO as _NO, YES as _YES


def _as_text(values: pd.Series) -> pd.Series:
    """Raw cells as stripped strings (numbers from a workbook: 2.0 -> '2')."""
    s = values.astype(object)
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):  # CSV: all text, fast path
        return s.astype("string").str.strip()
    is_float = s.map(type).isin([float, np.float64])
    if is_float.any():
        f = pd.to_numeric(s[is_float], errors="coerce")
        whole = f.notna() & np.isfinite(f) & (f % 1 == 0) & (f.abs() < 1e15)
        s = s.copy()
        s.loc[whole[whole].index] = f[whole].astype("int64").astype(str)
    return s.astype("string").str.strip()


def blank_to_na(values: pd.Series, keep: tuple[str, ...] = ()) -> pd.Series:
    """Replace NA tokens (empty, 'NA', 'N/A', 'ND', 'unknown', '-') by None."""
    text = values.astype("string").str.strip().str.lower()
    tokens = NA_TOKENS - {k.lower() for k in keep}
    na = values.isna() | text.isin(tokens).fillna(False)
    return values.astype(object).where(~na.astype(bool), None)


def coerce_table(raw: pd.DataFrame, spec: Table, *, codes: dict[str, dict[str, str]],
                 date_format: str, partial_dates: str,
                 only: frozenset[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed copy of ``raw`` following ``spec``, plus findings.

    ``raw``'s index is the source row number and is kept. Columns not in the
    contract are kept as text. ``codes`` maps column -> {user value (lower
    case) -> canonical code} from the study mapping. ``only``: type just these
    columns (the capture server types one column at a time; the row's
    patient_id and center stay in ``raw`` because findings carry them).
    """
    out = pd.DataFrame(index=raw.index)
    findings = [empty_findings()]
    for name in raw.columns:
        if only is not None and name not in only:
            continue
        col = spec.by_name.get(name)
        values = raw[name]
        if col is None:
            out[name] = blank_to_na(values).astype("string")
            continue
        typed, problems = _convert(values, col, codes.get(name, {}), date_format, partial_dates)
        out[name] = typed
        problems = [p for p in problems if p[2].any()]
        if problems:
            # Only the offending rows are formatted for display.
            any_bad = np.logical_or.reduce([p[2].to_numpy() for p in problems])
            sub = raw.loc[any_bad]
            frame = pd.DataFrame({name: _as_text(sub[name]), "patient_id": sub.get("patient_id"),
                                  "center": sub.get("center")}, index=sub.index)
        for sev, rule, mask, message in problems:
            if isinstance(message, ColumnNote):
                findings.append(_column_note(frame, mask[any_bad], sev, rule, spec.name, name, message))
                continue
            findings.append(from_mask(frame, mask[any_bad], severity=sev, rule=rule, table=spec.name,
                                      column=name, message=message))
    findings = [f for f in findings if len(f)]
    return out, (pd.concat(findings, ignore_index=True) if findings else empty_findings())


def _column_note(frame: pd.DataFrame, mask: pd.Series, severity: str, rule: str, table: str, column: str,
                 note: ColumnNote) -> pd.DataFrame:
    """One finding for all the rows in ``mask``, at the first of them."""
    rows = frame.index[mask.to_numpy()]
    first = frame.loc[rows[0], column]
    shown = ", ".join(str(r) for r in rows[:5]) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
    return finding(severity, rule, table, note.describe(len(rows), str(first), shown), row=int(rows[0]),
                   column=column, value=first)


def _convert(values: pd.Series, col: Column, user_codes: dict[str, str], date_format: str,
             partial_dates: str):
    """Convert the distinct values once, then broadcast (dates, codes and numbers
    repeat a lot: 6 million AE rows hold a few thousand distinct dates)."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    if len(uniques) == 0:
        # An empty column (most optional columns of one patient's rows, as the capture server
        # checks them at every save): its typed form without running the converters, which
        # cost ~50 pandas calls a column whatever its length.
        return _empty_typed(col, date_format, partial_dates).reindex(values.index), []
    if len(uniques) > 0.5 * len(values):
        typed, problems = _convert_values(values, col, user_codes, date_format, partial_dates)
        out = []
        for sev, rule, mask, message in problems:
            mask = mask.fillna(False).astype(bool)
            if isinstance(message, pd.Series):
                message = (lambda sel, m=message: m.reindex(sel.index))
            out.append((sev, rule, mask, message))
        return typed, out
    u = pd.Series(uniques, dtype=object)
    typed_u, problems_u = _convert_values(u, col, user_codes, date_format, partial_dates)
    valid = codes >= 0
    take = np.where(valid, codes, 0)
    typed = typed_u.iloc[take].set_axis(values.index).where(valid)
    problems = []
    for sev, rule, mask_u, message in problems_u:
        mask = pd.Series(mask_u.fillna(False).to_numpy(dtype=bool)[take] & valid, index=values.index)
        if isinstance(message, pd.Series):
            full = pd.Series(message.reindex(u.index).to_numpy(dtype=object)[take], index=values.index)
            message = (lambda sel, m=full: m.loc[sel.index])
        problems.append((sev, rule, mask, message))
    return typed, problems


@functools.lru_cache(maxsize=None)
def _empty_typed(col: Column, date_format: str, partial_dates: str) -> pd.Series:
    """The typed column of no values, as the converters make it (so the dtype is theirs)."""
    typed, _ = _convert_values(pd.Series([], dtype=object), col, {}, date_format, partial_dates)
    return typed


def _convert_values(values: pd.Series, col: Column, user_codes: dict[str, str], date_format: str,
                    partial_dates: str):
    keep = col.codes if col.kind == "code" else ()
    v = blank_to_na(values, keep=keep)
    present = v.notna()
    problems = []
    if col.kind == "date":
        typed, prob = parse_dates(v, date_format=date_format, partial=partial_dates)
        for (sev, rule), grp in prob.groupby(["severity", "rule"], sort=False):
            mask = pd.Series(False, index=values.index)
            mask.loc[grp.index] = True
            problems.append((sev, rule, mask, grp["message"]))
        return typed, problems
    text = _as_text(v)
    if col.kind in ("id", "text"):
        return text, problems
    if col.kind == "yesno":
        lookup: dict[str, bool] = {t: True for t in _YES} | {t: False for t in _NO}
        for user, canon in user_codes.items():
            if str(canon).lower() in lookup:
                lookup[user] = lookup[str(canon).lower()]
        typed = text.str.lower().map(lookup).astype("boolean")
        bad = present & typed.isna()
        problems.append(("error", "code-unknown", bad,
                         f"'{col.name}' must be yes or no (also y/n, 1/0, true/false); "
                         "map other spellings in the study mapping"))
        return typed, problems
    if col.kind == "code":
        lookup = {c.lower(): c for c in col.codes}
        lookup.update(user_codes)
        low = text.str.lower()
        if col.free_text_after_colon:
            low = low.str.replace(r"(?s)\s*:.*$", "", regex=True)
        typed = low.map(lookup).astype("string")
        if col.free_text_after_colon:
            detail = text.str.extract(r"(?s):\s*(.*?)\s*$", expand=False).astype("string")
            typed = typed.where(detail.isna() | typed.isna(), typed + ": " + detail)
        bad = present & typed.isna()
        problems.append(("error", "code-unknown", bad,
                         f"unknown code for '{col.name}'; allowed: {', '.join(col.codes)} "
                         "(or map it in the study mapping)"))
        return typed, problems
    if col.kind == "drugs":
        norm = text.str.lower().str.replace(r"\s*\+\s*", "+", regex=True)
        return norm.astype("string"), problems
    # numbers
    num_text = text
    if col.aliases:
        alias = dict(col.aliases)
        num_text = text.where(~text.str.lower().isin(alias).fillna(False), text.str.lower().map(alias))
    num, problems, ambiguous = read_numbers(v, num_text, col)
    not_number = present & num.isna() if ambiguous is None else present & num.isna() & ~ambiguous
    problems.append(("error", "type-number", not_number, f"'{col.name}' must be a number"))
    infinite = present & num.notna() & ~np.isfinite(num)
    problems.append(("error", "range", infinite, f"'{col.name}' must be a finite number"))
    num = num.where(np.isfinite(num))
    if col.kind == "int":
        frac = num.notna() & (num % 1 != 0)
        problems.append(("error", "type-integer", frac, f"'{col.name}' must be a whole number"))
        num = num.where(~frac)
    out_range = _outside(num, col.lo, col.hi)
    if col.lo is not None or col.hi is not None:
        problems.append(("error", "range", out_range,
                         f"'{col.name}' must be between {_fmt(col.lo)} and {_fmt(col.hi)}"))
        num = num.where(~out_range)
    if col.warn_lo is not None or col.warn_hi is not None:
        problems.append(("warning", "implausible", _outside(num, col.warn_lo, col.warn_hi),
                         f"'{col.name}' outside the plausible range {_fmt(col.warn_lo)}-{_fmt(col.warn_hi)}; "
                         "please check"))
    if col.kind == "int":
        return num.round().astype("Int64"), problems
    return num, problems


def _outside(num: pd.Series, lo: float | None, hi: float | None) -> pd.Series:
    """True where a number is below lo or above hi (a missing bound never fires)."""
    low = num < lo if lo is not None else pd.Series(False, index=num.index)
    high = num > hi if hi is not None else pd.Series(False, index=num.index)
    return (low | high).fillna(False)


def _fmt(x) -> str:
    if x is None:
        return "any"
    return f"{x:g}"
