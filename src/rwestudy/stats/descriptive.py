"""Descriptive statistics and Table 1.

Percentages use every patient as the denominator, missing values included,
and missing values always get their own row: a reader can add the rows up to
the number of patients. Quantiles use ``Conventions.quantile_type`` (R type
2, 6 or 7).

Example
-------
>>> import pandas as pd
>>> s = summarize_continuous(pd.Series([1.0, 2.0, 3.0, 4.0, None]))
>>> s.n, s.n_missing, s.median, s.q1, s.q3
(4, 1, 2.5, 1.75, 3.25)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from rwestudy.stats.association import compare_categorical, compare_continuous
from rwestudy.stats.conventions import QUANTILE_TYPES, Conventions, get_conventions

NA_LABEL = "(missing)"
OVERALL = "Overall"
# a numeric column with at most this many distinct integer values is categorical
# (ECOG 0-4, stage 1-4, yes/no coded 0/1)
MAX_INTEGER_LEVELS = 5


@dataclass(frozen=True)
class ContinuousSummary:
    """n, missing, mean, SD (n - 1), median, quartiles, range of one variable."""

    n: int
    n_missing: int
    mean: float
    sd: float
    median: float
    q1: float
    q3: float
    min: float
    max: float
    quantile_type: int

    def to_dict(self) -> dict:
        return asdict(self)


def summarize_continuous(
    series: pd.Series, conventions: Conventions | None = None, *, quantile_type: int | None = None
) -> ContinuousSummary:
    """Summary of a numeric series; missing values are counted, not used.

    >>> s = summarize_continuous(pd.Series([1, 2, 3, 4]), quantile_type=2)
    >>> s.q1, s.median, s.q3       # type 2: averages at jumps of the ECDF
    (1.5, 2.5, 3.5)
    """
    conv = conventions if conventions is not None else get_conventions()
    qtype = conv.quantile_type if quantile_type is None else quantile_type
    if qtype not in QUANTILE_TYPES:
        raise ValueError(f"quantile_type must be one of {sorted(QUANTILE_TYPES)}, got {qtype}")
    values = pd.to_numeric(series, errors="raise").astype(float)
    missing = int(values.isna().sum())
    x = values.dropna().to_numpy()
    if len(x) == 0:
        nan = float("nan")
        return ContinuousSummary(0, missing, nan, nan, nan, nan, nan, nan, nan, qtype)
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75], method=QUANTILE_TYPES[qtype])
    sd = float(np.std(x, ddof=1)) if len(x) > 1 else float("nan")
    return ContinuousSummary(len(x), missing, float(x.mean()), sd, float(med), float(q1), float(q3),
                             float(x.min()), float(x.max()), qtype)


def _observed_levels(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    return sorted(pd.unique(series.dropna()), key=lambda v: (str(type(v)), v))


def summarize_categorical(series: pd.Series, levels: list | None = None) -> pd.DataFrame:
    """Counts and percentages per level, over all patients.

    Columns: level, n, pct (0-100), denominator. A ``(missing)`` row is always
    present; ``pct`` is of all patients, missing included (``attrs['denominator']``
    says so). Values not in ``levels`` raise ``ValueError``.

    >>> t = summarize_categorical(pd.Series(["a", "b", "a", None]))
    >>> t.to_dict("list")
    {'level': ['a', 'b', '(missing)'], 'n': [2, 1, 1], 'pct': [50.0, 25.0, 25.0], 'denominator': [4, 4, 4]}
    """
    missing = series.isna()
    observed = series[~missing]
    if levels is None:
        levels = _observed_levels(series)
    else:
        unknown = sorted(set(pd.unique(observed)) - set(levels), key=str)
        if unknown:
            raise ValueError(f"values not in levels: {unknown}")
    counts = observed.value_counts().reindex(levels, fill_value=0).to_numpy()
    n = np.append(counts, missing.sum()).astype(int)
    total = len(series)
    pct = 100.0 * n / total if total else np.full(len(n), np.nan)
    table = pd.DataFrame({"level": pd.Series(list(levels) + [NA_LABEL], dtype=object),
                          "n": n, "pct": pct, "denominator": total})
    table.attrs["denominator"] = f"all {total} patients, missing values included"
    return table


# ------------------------------------------------------------------ Table 1
def _is_categorical(s: pd.Series) -> bool:
    if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(s.dtype):
        return True
    if not pd.api.types.is_numeric_dtype(s.dtype):
        return True  # object / string
    x = s.dropna().to_numpy(dtype=float)
    return bool(len(x)) and bool(np.all(x == np.round(x))) and len(np.unique(x)) <= MAX_INTEGER_LEVELS


def _fmt(v: float, digits: int = 1) -> str:
    return "NA" if not np.isfinite(v) else f"{v:.{digits}f}"


@dataclass(frozen=True)
class TableOne:
    """Table 1 as tidy records and tests.

    ``records``: variable, kind, level_or_statistic, group, n, pct, value, text,
    one row per count or statistic and group (``Overall`` plus each group).
    ``tests``: variable, test, statistic, df, df2, p, rule, n_used, n_excluded.
    """

    records: pd.DataFrame
    tests: pd.DataFrame
    conventions: Conventions
    denominator: str = field(default="all patients in the group, missing values included")

    def display(self) -> pd.DataFrame:
        """Wide table for printing: one row per variable line, one column per group."""
        keys = ["variable", "level_or_statistic"]
        order = pd.MultiIndex.from_frame(self.records[keys].drop_duplicates())
        wide = self.records.pivot(index=keys, columns="group", values="text")
        return wide.reindex(order)[list(pd.unique(self.records["group"]))].reset_index()


def _continuous_records(var: str, group: str, s: pd.Series, conv: Conventions) -> list[dict]:
    sm = summarize_continuous(s, conv)
    total = sm.n + sm.n_missing
    miss_pct = 100.0 * sm.n_missing / total if total else float("nan")
    rows = [("n", sm.n, float(sm.n), str(sm.n)),
            ("mean", None, sm.mean, _fmt(sm.mean)), ("sd", None, sm.sd, _fmt(sm.sd)),
            ("mean (SD)", None, sm.mean, f"{_fmt(sm.mean)} ({_fmt(sm.sd)})"),
            ("median", None, sm.median, _fmt(sm.median)),
            ("q1", None, sm.q1, _fmt(sm.q1)), ("q3", None, sm.q3, _fmt(sm.q3)),
            (f"median (Q1-Q3), type {sm.quantile_type}", None, sm.median,
             f"{_fmt(sm.median)} ({_fmt(sm.q1)}-{_fmt(sm.q3)})"),
            ("min", None, sm.min, _fmt(sm.min)), ("max", None, sm.max, _fmt(sm.max)),
            (NA_LABEL, sm.n_missing, float(sm.n_missing), f"{sm.n_missing} ({_fmt(miss_pct)}%)")]
    return [{"variable": var, "kind": "continuous", "level_or_statistic": stat, "group": group,
             "n": n, "pct": miss_pct if stat == NA_LABEL else None, "value": value, "text": text}
            for stat, n, value, text in rows]


def _categorical_records(var: str, group: str, s: pd.Series, levels: list) -> list[dict]:
    t = summarize_categorical(s, levels)
    return [{"variable": var, "kind": "categorical", "level_or_statistic": str(lv), "group": group,
             "n": int(n), "pct": float(p), "value": float(p), "text": f"{int(n)} ({_fmt(p)}%)"}
            for lv, n, p in zip(t["level"], t["n"], t["pct"])]


def table_one(
    df: pd.DataFrame,
    variables: list[str],
    by: str | None = None,
    conventions: Conventions | None = None,
    tests: bool = True,
    *,
    categorical: list[str] | None = None,
    continuous: list[str] | None = None,
) -> TableOne:
    """Table 1: every variable overall and by group, with a test per variable.

    Types: ``categorical`` / ``continuous`` declare them; otherwise bool,
    category, object and numeric columns with <= 5 distinct integer values are
    categorical and other numeric columns continuous. Patients whose group is
    missing are shown in a ``(missing)`` group column and excluded from tests
    (each test states how many).

    >>> df = pd.DataFrame({"age": [50, 61, 58, 72, 44, 66, 70, 59.5],
    ...                    "sex": ["F", "M", "F", None, "M", "F", "M", "F"],
    ...                    "arm": list("ABABABAB")})
    >>> t1 = table_one(df, ["age", "sex"], by="arm")
    >>> t1.records.query("variable == 'sex' and group == 'Overall'")["text"].tolist()
    ['4 (50.0%)', '3 (37.5%)', '1 (12.5%)']
    >>> t1.tests["test"].tolist()
    ["Welch's t-test", "Fisher's exact test"]
    """
    conv = conventions if conventions is not None else get_conventions()
    categorical, continuous = set(categorical or []), set(continuous or [])
    both = categorical & continuous
    if both:
        raise ValueError(f"declared both categorical and continuous: {sorted(both)}")
    missing_cols = [v for v in [*variables, *([by] if by else [])] if v not in df.columns]
    if missing_cols:
        raise KeyError(f"columns not in the data: {missing_cols}")
    groups: list[tuple[str, pd.Series]] = [(OVERALL, pd.Series(True, index=df.index))]
    if by is not None:
        groups += [(str(g), df[by] == g) for g in _observed_levels(df[by])]
        if df[by].isna().any():
            groups.append((NA_LABEL, df[by].isna()))
    records, results = [], []
    for var in variables:
        s = df[var]
        is_cat = var in categorical or (var not in continuous and _is_categorical(s))
        levels = _observed_levels(s) if is_cat else None
        for label, mask in groups:
            if is_cat:
                records += _categorical_records(var, label, s[mask], levels)
            else:
                records += _continuous_records(var, label, s[mask], conv)
        if tests and by is not None:
            compare = compare_categorical if is_cat else compare_continuous
            results.append(compare(df, var, by, conv).to_dict())
    test_cols = ["variable", "test", "statistic", "df", "df2", "p", "rule", "n_used", "n_excluded", "p_method"]
    test_frame = pd.DataFrame(results, columns=[*test_cols, "by", "statistic_name", "groups"])[test_cols]
    frame = pd.DataFrame(records, columns=["variable", "kind", "level_or_statistic", "group", "n", "pct",
                                           "value", "text"] if not records else None)
    frame["n"] = frame["n"].astype("Int64")  # counts only; NA for statistics rows
    return TableOne(frame, test_frame, conv)


__all__ = ["ContinuousSummary", "TableOne", "summarize_categorical", "summarize_continuous", "table_one"]
