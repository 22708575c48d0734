"""Read numbers written with thousands separators or a decimal comma.

Centers write `1,250`, `12,500,000`, `1.250.000`, `12,5` or `1 250`. Each
text value has one or two readings: "English" (`.` decimal, `,` thousands)
and "European" (`,` decimal, `.` thousands). A value with one reading is read
by it; `1,250` and `1.250` have two (1250 and 1.25). Those are settled, per
column, by

1. the column's own convention, when its other values show exactly one
   (`12,75` shows a decimal comma; `1.5` or `12,500,000` show a decimal dot),
2. else the column's hard range, when only one reading lies within it
   (`age_at_diagnosis` of 1250 is impossible),
3. else not at all: a comma is an error (both readings are local habits and
   a factor of 1000 in LDH changes the IPI, so the value is left empty
   rather than guessed); a dot is read as the decimal mark of the CSV format
   and of every spreadsheet number, with a warning naming the other reading.

Every reading that is not the plain one is reported: thousands separators
and inferred readings value by value, decimal commas once per column (their
meaning is not in doubt; one note per cell would bury the rest). Cells that
a workbook already stores as numbers are numbers, never re-read.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rwestudy.io.schema import Column

_ENGLISH_GROUPED = r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?"     # 1,250  12,500,000  1,250.5
_EUROPEAN_GROUPED = r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?"    # 1.250  1.250.000   1.250,5
_COMMA_DECIMAL = r"[+-]?\d*,\d+"                                 # 12,5  0,250  ,5  1,250
_SPACE_GROUPED = r"[+-]?[1-9]\d{0,2}(?:[ \u00a0\u202f']\d{3})+(?:[.,]\d+)?"  # 1 250  12 500,5
_DOT_THREE = r"[+-]?[1-9]\d{0,2}\.\d{3}"                         # 1.250: plain, yet maybe 1250


class ColumnNote:
    """A problem reported once for the column (count, first rows), not per row."""

    def __init__(self, describe):
        self.describe = describe  # (n rows, first raw value, rows shown) -> message


def read_numbers(raw: pd.Series, text: pd.Series, col: Column):
    """(float64 numbers, problems, ambiguous mask or None) for one column.

    ``raw`` holds the cells (NA where blank), ``text`` their stripped text.
    Problems are (severity, rule, mask, message) like coerce's; a message is
    a string, a Series (per value) or a ColumnNote.
    """
    plain = pd.to_numeric(text, errors="coerce").astype("float64")
    if pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        is_text = raw.notna().to_numpy()
    else:  # workbook: a number cell is already a number
        is_text = raw.map(lambda x: isinstance(x, str)).to_numpy(dtype=bool)
    failed = is_text & np.isnan(plain.to_numpy())
    # Fast path, the usual column: every value plain, and no '1.250' whose dot could be a
    # thousands separator, or one beside values such as '245.5' that settle it.
    if not failed.any():
        read = text[is_text]
        dots = read[read.str.contains(".", regex=False).to_numpy(dtype=bool)]
        if dots.empty or not dots.head(200).str.fullmatch(_DOT_THREE).all():
            return plain, [], None
    is_text = pd.Series(is_text, index=raw.index)
    failed = pd.Series(failed, index=raw.index)
    none = pd.Series(False, index=raw.index)
    t = text.where(is_text)
    dotted = is_text & plain.notna()
    dotted[dotted] = t[dotted].str.contains(".", regex=False).to_numpy(dtype=bool)
    dot_three = dotted.copy()
    dot_three[dotted] = t[dotted].str.fullmatch(_DOT_THREE).to_numpy(dtype=bool)
    has_dot_decimal = dotted & ~dot_three
    if not failed.any() and (has_dot_decimal.any() or not dot_three.any()):
        return plain, [], none
    candidates = failed | dot_three
    c = t[candidates]
    english, european, spaced = _readings(c, plain[candidates])
    e_ok, u_ok = english.notna(), european.notna()
    english_only = e_ok & ~u_ok
    european_only = u_ok & ~e_ok
    two = e_ok & u_ok & (english != european)
    shows_english = bool(has_dot_decimal.any() or english_only.any())
    shows_european = bool(european_only.any())
    num = plain.copy()
    num[english_only.index[english_only]] = english[english_only]
    num[european_only.index[european_only]] = european[european_only]
    num[spaced.index[spaced.notna()]] = spaced.dropna()

    def full(mask_c: pd.Series) -> pd.Series:
        return mask_c.reindex(raw.index, fill_value=False).astype(bool)

    problems = []
    comma_decimal = european_only & c.str.fullmatch(_COMMA_DECIMAL).astype(bool)
    grouped = english_only | (european_only & ~comma_decimal) | spaced.notna()
    problems.append(("info", "number-thousands", full(grouped), "read as "
                     + num[candidates].map(_fmt).astype(object) + _why(c, english_only, european_only, spaced)))
    problems.append(("info", "number-decimal-comma", full(comma_decimal), ColumnNote(
        lambda n, ex, rows: f"{n} value{'s' if n > 1 else ''} of '{col.name}' written with a decimal comma "
        f"{'were' if n > 1 else 'was'} read as decimals (e.g. '{ex}' as {_fmt(float(ex.replace(',', '.')))}; "
        f"row{'s' if n > 1 else ''} {rows})")))
    # Values with two readings: the column's convention, then its range, then a finding.
    if two.any():
        settled, how = _settle(c[two], english[two], european[two], col, shows_english, shows_european,
                               _example(c, has_dot_decimal, english_only, european_only, t))
        num[settled.index] = settled
        # Reported where the reading is not the plain one ('1.250' read as 1.25 is not news).
        inferred = how.ne("ambiguous") & ~(settled == plain[settled.index])
        problems.append(("info", "number-separator-inferred", full(inferred.reindex(c.index, fill_value=False)),
                         ("read as " + settled.map(_fmt).astype(object) + ": " + how).reindex(c.index)))
        comma = c[two].str.contains(",", regex=False).astype(bool)
        undecided = how.eq("ambiguous")
        sep = pd.Series(np.where(comma, "','", "'.'"), index=comma.index)
        thousands = english[two].where(comma, european[two]).map(_fmt).astype(object)
        decimal = european[two].where(comma, english[two]).map(_fmt).astype(object)
        both = ("could be " + thousands + " (" + sep + " between thousands) or " + decimal + " ("
                + sep + " as the decimal mark)")
        problems.append(("error", "number-ambiguous", full((undecided & comma).reindex(c.index, fill_value=False)),
                         (both + "; left empty: write it as " + thousands + " or " + decimal).reindex(c.index)))
        problems.append(("warning", "number-ambiguous",
                         full((undecided & ~comma).reindex(c.index, fill_value=False)),
                         (both + "; read with '.' as the decimal mark: please check").reindex(c.index)))
        ambiguous = full((undecided & comma).reindex(c.index, fill_value=False))
    else:
        ambiguous = none
    return num, problems, ambiguous


def _readings(c: pd.Series, plain: pd.Series):
    """English, European and space-grouped readings (NaN: not valid that way)."""
    no_sep = ~c.str.contains(r"[.,]", regex=True)
    eng_grouped = c.str.fullmatch(_ENGLISH_GROUPED)
    english = plain.where(plain.notna(), _num(c.where(eng_grouped).str.replace(",", "", regex=False)))
    eu_grouped = c.str.fullmatch(_EUROPEAN_GROUPED)
    eu_text = c.where(eu_grouped).str.replace(".", "", regex=False)
    eu_text = eu_text.where(eu_grouped, c.where(c.str.fullmatch(_COMMA_DECIMAL)))
    european = _num(eu_text.str.replace(",", ".", regex=False))
    european = european.where(european.notna(), plain.where(no_sep))
    sp = c.str.fullmatch(_SPACE_GROUPED)
    spaced = _num(c.where(sp).str.replace(r"[ \u00a0\u202f']", "", regex=True).str.replace(",", ".", regex=False))
    return english, european, spaced


def _settle(c, english, european, col: Column, shows_english: bool, shows_european: bool, examples):
    """Reading and reason for each value with two readings ('ambiguous': none)."""
    eng_ex, eu_ex = examples
    if shows_english and not shows_european:
        return english, pd.Series(f"elsewhere this column writes '.' as the decimal mark and ',' between "
                                  f"thousands (as in '{eng_ex}')", index=c.index)
    if shows_european and not shows_english:
        return european, pd.Series(f"elsewhere this column writes ',' as the decimal mark and '.' between "
                                   f"thousands (as in '{eu_ex}')", index=c.index)
    e_in, u_in = _possible(english, col), _possible(european, col)
    how = pd.Series("ambiguous", index=c.index, dtype=object)
    how[e_in & ~u_in] = "the other reading, " + european[e_in & ~u_in].map(_fmt).astype(object) + ", is impossible here"
    how[u_in & ~e_in] = "the other reading, " + english[u_in & ~e_in].map(_fmt).astype(object) + ", is impossible here"
    # Undecided: a dot is read as the decimal mark (plain reading), a comma is left empty.
    dot = ~c.str.contains(",", regex=False)
    value = english.where(e_in & ~u_in | (dot & ~(u_in & ~e_in)), european.where(u_in & ~e_in))
    return value, how


def _possible(x: pd.Series, col: Column) -> pd.Series:
    ok = x.notna()
    if col.lo is not None:
        ok &= x >= col.lo
    if col.hi is not None:
        ok &= x <= col.hi
    if col.kind == "int":
        ok &= x % 1 == 0
    return ok.fillna(False).astype(bool)


def _example(c, has_dot_decimal, english_only, european_only, t):
    eng = t[has_dot_decimal].dropna()
    eng = eng.iloc[0] if len(eng) else (c[english_only].iloc[0] if english_only.any() else "")
    eu = c[european_only].iloc[0] if european_only.any() else ""
    return eng, eu


def _why(c, english_only, european_only, spaced) -> pd.Series:
    out = pd.Series("", index=c.index, dtype=object)
    dot, comma = c.str.contains(".", regex=False).astype(bool), c.str.contains(",", regex=False).astype(bool)
    out[english_only] = " (',' separates thousands)"
    out[english_only & dot] = " (',' separates thousands, '.' marks decimals)"
    out[european_only] = " ('.' separates thousands)"
    out[european_only & comma] = " ('.' separates thousands, ',' marks decimals)"
    out[spaced.notna()] = " (a space or apostrophe separates thousands)"
    return out


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").astype("float64")


def _fmt(x) -> str:
    if x is None or x != x:
        return ""
    return f"{x:.15g}"
