"""Design matrices for regression models (Cox, logistic, ...).

Numeric columns enter as they are; categorical columns (pandas ``category``,
string/object, ``bool``) are expanded with treatment coding: one indicator per
non-reference level, named ``column[level]`` (e.g. ``ecog[2-3]``). The
reference is the first level (category order, else sorted values) unless the
caller names one.

Rows with a missing value in any used column are excluded, never silently:
:class:`Design` records how many rows each column made unusable so a results
table can say "n = 213 (14 excluded: wt.loss missing)".

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({"age": [60, 70, None, 55], "ecog": ["0", "1", "1", "2-3"]})
>>> d = build_design(df, ["age", "ecog"])
>>> d.columns
('age', 'ecog[1]', 'ecog[2-3]')
>>> d.n_excluded, dict(d.missing_by_column)
(1, {'age': 1})
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Term:
    """One user-level covariate and the design columns it produced."""

    name: str
    kind: str  # "numeric" or "categorical"
    columns: tuple[str, ...]
    levels: tuple[Any, ...] = ()        # all levels, reference first (categorical only)
    reference: Any = None

    @property
    def df(self) -> int:
        return len(self.columns)


@dataclass(frozen=True)
class Design:
    """Design matrix on the complete-case rows, with an audit of exclusions."""

    matrix: np.ndarray                 # (n_used, p) float64
    columns: tuple[str, ...]
    terms: tuple[Term, ...]
    row_mask: np.ndarray               # bool over the input rows: True = used
    missing_by_column: Mapping[str, int] = field(default_factory=dict)

    @property
    def n_used(self) -> int:
        return int(self.row_mask.sum())

    @property
    def n_excluded(self) -> int:
        return int((~self.row_mask).sum())

    def term_slices(self) -> dict[str, slice]:
        """Column positions of each term in :attr:`matrix`."""
        out, start = {}, 0
        for t in self.terms:
            out[t.name] = slice(start, start + t.df)
            start += t.df
        return out

    def exclusion_note(self) -> str:
        if not self.n_excluded:
            return "no rows excluded"
        parts = ", ".join(f"{c}: {k}" for c, k in self.missing_by_column.items() if k)
        return f"{self.n_excluded} row(s) excluded for missing values ({parts})"


def is_categorical(series: pd.Series) -> bool:
    """Category, string/object and bool columns are categorical; numbers are not."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return True
    return not pd.api.types.is_numeric_dtype(dtype)


def _levels(series: pd.Series, reference: Any) -> tuple[Any, ...]:
    """Observed levels in a stable order, reference first."""
    present = pd.unique(series.dropna())
    if isinstance(series.dtype, pd.CategoricalDtype):
        # keep the declared category order; drop levels with no rows (no estimable coefficient)
        levels = [c for c in series.cat.categories if c in set(present)]
    else:
        try:
            levels = sorted(present)
        except TypeError:  # mixed types: order of appearance
            levels = list(present)
    if reference is not None:
        if reference not in levels:
            raise ValueError(f"reference level {reference!r} not found among {levels}")
        levels.remove(reference)
        levels.insert(0, reference)
    return tuple(levels)


def build_design(
    df: pd.DataFrame,
    covariates: Sequence[str],
    reference: Mapping[str, Any] | None = None,
    required: Sequence[str] = (),
) -> Design:
    """Build the treatment-coded design matrix on complete cases.

    ``required`` are further columns (time, event, strata, ...) whose missing
    values also exclude a row; they are audited but not put in the matrix.
    """
    reference = dict(reference or {})
    unknown = [c for c in [*covariates, *required, *reference] if c not in df.columns]
    if unknown:
        raise KeyError(f"column(s) not in data: {unknown}")
    if len(set(covariates)) != len(covariates):
        raise ValueError(f"duplicate covariates in {list(covariates)}")

    used = list(dict.fromkeys([*required, *covariates]))
    na = df[used].isna()
    row_mask = ~na.any(axis=1).to_numpy()
    missing = {c: int(na[c].sum()) for c in used if na[c].any()}
    sub = df.loc[row_mask]

    blocks, names, terms = [], [], []
    for col in covariates:
        s = sub[col]
        if is_categorical(s):
            levels = _levels(s, reference.get(col))
            values = s.to_numpy(dtype=object)
            cols = tuple(f"{col}[{lvl}]" for lvl in levels[1:])
            for lvl in levels[1:]:
                blocks.append((values == lvl).astype(np.float64))
            terms.append(Term(col, "categorical", cols, levels, levels[0] if levels else None))
            names.extend(cols)
        else:
            if col in reference:
                raise ValueError(f"reference given for numeric column {col!r}")
            blocks.append(s.to_numpy(dtype=np.float64, na_value=np.nan))
            terms.append(Term(col, "numeric", (col,)))
            names.append(col)
    matrix = np.column_stack(blocks) if blocks else np.empty((int(row_mask.sum()), 0))
    return Design(np.ascontiguousarray(matrix, dtype=np.float64), tuple(names), tuple(terms),
                  row_mask, missing)
