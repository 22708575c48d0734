"""Clinical date parsing with explicit formats: never a guess.

``pd.to_datetime(format="mixed", dayfirst=True)`` silently swaps day and
month (" 2020-03-04 " -> 2020-04-03) and completes partial dates; dateparser
fills in the current month. Here every accepted shape is a named regular
expression parsed with an explicit format, and everything else is reported:

* ISO ``YYYY-MM-DD`` (optionally followed by a time, which is dropped);
* date cells of a workbook (already typed by the reader);
* Excel serial numbers (a date cell that lost its format), reported as info;
* ``DD/MM/YYYY`` (or ``.``/``-`` separators) only when the study declares a
  day-first format, ``MM/DD/YYYY`` only when it declares month-first; without
  a declaration such a value is an error (ambiguous);
* partial dates ``YYYY-MM``, ``MM/YYYY`` and ``YYYY`` only with a declared
  imputation rule, and each imputed value is reported as a warning.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

DATE_FORMATS = {"iso": None, "DD/MM/YYYY": "dmy", "MM/DD/YYYY": "mdy"}
PARTIAL_RULES = ("none", "mid", "first")

_ISO = r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_SLASHED = r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})"
_YEAR_MONTH = r"(\d{4})-(\d{1,2})"
_MONTH_YEAR = r"(\d{1,2})[/.\-](\d{4})"
_YEAR = r"(\d{4})"
_SERIAL = r"\d{1,7}(?:\.0+)?"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_SERIAL_MIN, _SERIAL_MAX = 1, 109574  # 1900-01-01 .. 2199-12-31


@dataclass(frozen=True)
class DateProblem:
    kind: str  # error | warning | info
    rule: str
    message: str


def _assemble(year, month, day) -> pd.Series:
    """Build dates from integer parts; impossible dates (Feb 30) become NaT."""
    parts = pd.DataFrame({"year": year, "month": month, "day": day}).astype("float64")
    ok = parts.notna().all(axis=1) & parts["month"].between(1, 12) & parts["day"].between(1, 31)
    out = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[ns]")
    if ok.any():
        good = parts.loc[ok].astype("int64")
        out.loc[ok] = pd.to_datetime(good, errors="coerce")
    return out


def parse_dates(values: pd.Series, *, date_format: str = "iso", partial: str = "none"):
    """Parse a column of raw cell values into dates.

    Returns ``(dates, problems)`` where ``dates`` is a datetime64 Series on the
    same index (NaT for NA and for anything that is not a valid date) and
    ``problems`` is a DataFrame indexed like the offending rows with columns
    ``severity``, ``rule``, ``message``. NA tokens must already be None.

    >>> s = pd.Series(["2020-03-04", " 2020-03-04 ", "04/03/2020", "2021-02-30", None])
    >>> d, p = parse_dates(s)
    >>> [str(x.date()) if pd.notna(x) else None for x in d]
    ['2020-03-04', '2020-03-04', None, None, None]
    >>> sorted(p["rule"])
    ['date-ambiguous', 'date-impossible']
    """
    if date_format not in DATE_FORMATS:
        raise ValueError(f"date_format must be one of {list(DATE_FORMATS)}, got {date_format!r}")
    if partial not in PARTIAL_RULES:
        raise ValueError(f"partial date rule must be one of {PARTIAL_RULES}, got {partial!r}")
    order = DATE_FORMATS[date_format]
    values = pd.Series(values, dtype=object)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    problems: list[pd.DataFrame] = []

    def report(mask, severity, rule, message):
        if mask.any():
            msg = message if isinstance(message, pd.Series) else pd.Series(message, index=values.index)
            problems.append(pd.DataFrame({"severity": severity, "rule": rule, "message": msg[mask]},
                                         index=values.index[mask]))

    present = values.notna()
    # Typed cells from a workbook: datetime/date objects and numbers.
    kinds = values[present].map(type)
    is_dt = pd.Series(False, index=values.index)
    is_dt.loc[kinds.index] = kinds.isin([_dt.datetime, _dt.date, pd.Timestamp])
    if is_dt.any():
        out.loc[is_dt] = pd.to_datetime(values[is_dt], errors="coerce").dt.normalize()
        report(is_dt & out.isna(), "error", "date-invalid", "date cell out of the supported range (1677-2262)")
    is_num = pd.Series(False, index=values.index)
    is_num.loc[kinds.index] = kinds.isin([int, float, np.int64, np.float64])
    text = values.where(present & ~is_dt & ~is_num).astype("string").str.strip()
    none = pd.Series(False, index=values.index)
    has_text = bool(text.notna().any())  # a workbook's date column is often all date cells
    serial_text = text.str.fullmatch(_SERIAL).fillna(False).astype(bool) if has_text else none
    serial = pd.to_numeric(values.where(is_num), errors="coerce")
    serial = serial.where(is_num, pd.to_numeric(text.where(serial_text), errors="coerce"))
    is_serial = is_num | serial_text
    # A 4-digit number in a text cell is a year, not a serial.
    year_only = text.str.fullmatch(_YEAR).fillna(False).astype(bool) if has_text else none.copy()
    is_serial &= ~year_only
    if is_serial.any():
        good = is_serial & serial.between(_SERIAL_MIN, _SERIAL_MAX) & (serial % 1 == 0)
        out.loc[good] = _EXCEL_EPOCH + pd.to_timedelta(serial[good], unit="D")
        report(good, "info", "date-excel-serial",
               "Excel serial number read as " + out.dt.strftime("%Y-%m-%d").astype("string").fillna("")
               + " (the cell has no date format)")
        report(is_serial & ~good, "error", "date-invalid",
               pd.Series("a number that is not a valid Excel date serial; write the date as YYYY-MM-DD",
                         index=values.index))

    remaining = text.notna() & ~is_serial & ~year_only
    # Fast path for the canonical shape (C parser, exact match); everything
    # else goes through the named patterns below.
    if remaining.any():
        fast = pd.to_datetime(text.where(remaining), format="%Y-%m-%d", errors="coerce")
        fast = fast.where(text.str.len().eq(10))
        hit = fast.notna() & remaining
        out.loc[hit] = fast[hit]
        remaining &= ~hit
    # The named patterns only for what is left (a workbook's date cells and ISO text are done by now;
    # each extract over the column costs more than the fast path itself).
    if remaining.any():
        iso = text.str.extract(f"^{_ISO}$")
        m_iso = iso[0].notna() & remaining
        if m_iso.any():
            d = _assemble(iso.loc[m_iso, 0], iso.loc[m_iso, 1], iso.loc[m_iso, 2])
            out.loc[m_iso] = d
            report(m_iso & out.isna(), "error", "date-impossible",
                   "not a real calendar date (check day and month)")
        remaining &= ~m_iso

        sl = text.str.extract(f"^{_SLASHED}$")
        m_sl = sl[0].notna() & remaining
        if m_sl.any():
            if order is None:
                report(m_sl, "error", "date-ambiguous",
                       "day/month order is ambiguous: write YYYY-MM-DD or declare date_format "
                       "'DD/MM/YYYY' (or 'MM/DD/YYYY') in the study mapping")
            else:
                day, month = (sl[0], sl[1]) if order == "dmy" else (sl[1], sl[0])
                d = _assemble(sl.loc[m_sl, 2], month[m_sl], day[m_sl])
                out.loc[m_sl] = d
                report(m_sl & out.isna(), "error", "date-impossible",
                       f"not a real calendar date when read as {date_format}")
        remaining &= ~m_sl

    if remaining.any() or year_only.any():
        ym = text.str.extract(f"^{_YEAR_MONTH}$")
        my = text.str.extract(f"^{_MONTH_YEAR}$")
        m_ym = ym[0].notna() & remaining
        m_my = my[0].notna() & remaining & ~m_ym
        m_y = year_only & text.notna()
        partial_mask = m_ym | m_my | m_y
        if partial_mask.any():
            if partial == "none":
                report(partial_mask, "error", "date-partial",
                       "partial date: give the full date, or declare partial_dates = 'mid' or 'first' "
                       "in the study mapping to impute it (the imputation is reported)")
            else:
                mid = partial == "mid"
                year = ym[0].where(m_ym, my[1].where(m_my, text.where(m_y)))
                month = ym[1].where(m_ym, my[0].where(m_my))
                month = month.where(~m_y, "7" if mid else "1")
                day = pd.Series("15" if mid else "1", index=values.index).where(~m_y, "1")
                d = _assemble(year[partial_mask], month[partial_mask], day[partial_mask])
                out.loc[partial_mask] = d
                rule_txt = "mid-month (15th), mid-year (1 July)" if mid else "first day of the month/year"
                report(partial_mask & out.notna(), "warning", "date-imputed",
                       "partial date imputed as " + out.dt.strftime("%Y-%m-%d").astype("string").fillna("")
                       + f" (rule: {rule_txt})")
                report(partial_mask & out.isna(), "error", "date-impossible", "not a real month")
        remaining &= ~partial_mask
    report(remaining, "error", "date-invalid",
           "not a date: write YYYY-MM-DD" + (f" or {date_format}" if order else ""))

    if problems:
        prob = pd.concat(problems)
    else:
        prob = pd.DataFrame(columns=["severity", "rule", "message"])
    return out, prob
