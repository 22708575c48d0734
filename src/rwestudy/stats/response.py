"""Response tables: best / final response, ORR and CR rate with CIs.

Denominator (study spec): all treated patients, i.e. every row of
``patients``. Patients whose response is NE or missing count in the
denominator and never as responders; missing responses get their own
"not assessed" row (0 when nothing is missing). ORR = CR + PR. CIs come from
:func:`rwestudy.stats.proportions.proportion_ci` with the conventions'
method (exact Clopper-Pearson by default).

Example
-------
>>> import pandas as pd
>>> p = pd.DataFrame({"best_response": ["CR", "PR", "PD", "NE", None]})
>>> t = response_table(p).set_index("category")
>>> int(t.loc["ORR (CR+PR)", "n"]), int(t.loc["ORR (CR+PR)", "denominator"]), float(t.loc["ORR (CR+PR)", "pct"])
(2, 5, 40.0)
>>> int(t.loc["not assessed", "n"])
1
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rwestudy.stats.association import ComparisonResult, compare_categorical
from rwestudy.stats.conventions import Conventions
from rwestudy.stats.proportions import NA_LABEL, proportion_ci, proportion_table

RESPONSES = ("CR", "PR", "SD", "PD", "NE")
NOT_ASSESSED = "not assessed"
ORR_LABEL, CR_LABEL = "ORR (CR+PR)", "CR rate"
GROUP_NA = "NA"
_COLUMNS = ["category", "row_type", "n", "denominator", "pct", "ci_low", "ci_high", "ci_method", "conf_level"]


def _rate_row(label: str, x: int, n: int, method, conventions) -> dict:
    ci = proportion_ci(x, n, method=method, conventions=conventions)
    return {"category": label, "row_type": "rate", "n": x, "denominator": n, "pct": 100.0 * ci.estimate,
            "ci_low": 100.0 * ci.low, "ci_high": 100.0 * ci.high, "ci_method": ci.method,
            "conf_level": ci.conf_level}


def response_table(
    patients: pd.DataFrame,
    column: str = "best_response",
    *,
    categories: tuple[str, ...] = RESPONSES,
    conventions: Conventions | None = None,
    method: str | None = None,
) -> pd.DataFrame:
    """One row per response category, a "not assessed" row, then ORR and CR rate.

    Columns: category, row_type ("category", "missing" or "rate"), n,
    denominator (all patients), pct, ci_low, ci_high (0-100), ci_method,
    conf_level. A value outside ``categories`` raises ``ValueError``.
    """
    if "CR" not in categories or "PR" not in categories:
        raise ValueError("categories must include CR and PR to compute ORR and CR rate")
    try:
        cats = proportion_table(patients[column], categories=list(categories), method=method,
                                conventions=conventions)
    except ValueError as err:
        raise ValueError(f"{column}: {err}; allowed codes: {', '.join(categories)}") from None
    cats = cats.rename(columns={"method": "ci_method"})
    cats["row_type"] = (cats["category"] == NA_LABEL).map({True: "missing", False: "category"})
    cats["category"] = cats["category"].replace(NA_LABEL, NOT_ASSESSED)
    counts = dict(zip(cats["category"], cats["n"]))
    total = len(patients)
    rates = pd.DataFrame([_rate_row(ORR_LABEL, counts["CR"] + counts["PR"], total, method, conventions),
                          _rate_row(CR_LABEL, counts["CR"], total, method, conventions)])
    table = pd.concat([cats[_COLUMNS], rates[_COLUMNS]], ignore_index=True)
    # label columns as the default string dtype (object in pandas 2, str in 3)
    for col in ("category", "row_type", "ci_method"):
        table[col] = table[col].astype(str)
    table.attrs["denominator"] = (f"all {total} treated patients; NE and not assessed count in the denominator "
                                  "and never as responders")
    table.attrs["column"] = column
    return table


@dataclass(frozen=True, eq=False)
class ResponseByGroup:
    """ORR and CR rate per level of ``by``, and one association test per endpoint."""

    table: pd.DataFrame
    tests: pd.DataFrame
    orr_test: ComparisonResult
    cr_test: ComparisonResult


def response_by_group(
    patients: pd.DataFrame,
    column: str,
    by: str,
    *,
    categories: tuple[str, ...] = RESPONSES,
    conventions: Conventions | None = None,
    method: str | None = None,
) -> ResponseByGroup:
    """ORR and CR rate per level of ``by`` with CIs, and a chi-square / Fisher test.

    Within each group the denominator is every patient of the group (NE and
    missing response included, as non-responders). Patients with a missing
    group get their own "NA" level in ``table`` and are excluded from the
    test (its ``n_excluded``). The test is
    :func:`rwestudy.stats.association.compare_categorical` of responder yes/no
    by group; ``tests`` names the test and the rule that chose it.

    >>> p = pd.DataFrame({"best_response": ["CR", "PR", "PD", "CR", "SD", "PD"], "arm": list("AAABBB")})
    >>> r = response_by_group(p, "best_response", "arm")
    >>> r.table.query("endpoint == 'ORR (CR+PR)'")[["group", "n", "denominator"]].to_dict("list")
    {'group': ['A', 'B'], 'n': [2, 1], 'denominator': [3, 3]}
    >>> r.tests["test"].tolist()
    ["Fisher's exact test", "Fisher's exact test"]
    """
    values = patients[column]
    unknown = sorted(set(values.dropna()) - set(categories), key=str)
    if unknown:
        raise ValueError(f"{column}: values not in categories: {unknown}")
    data = pd.DataFrame({
        ORR_LABEL: values.isin(["CR", "PR"]).map({True: "yes", False: "no"}),
        CR_LABEL: values.eq("CR").fillna(False).map({True: "yes", False: "no"}),
        by: patients[by],
    })
    group = data[by]
    levels = list(group.cat.categories) if isinstance(group.dtype, pd.CategoricalDtype) else \
        sorted(pd.unique(group.dropna()), key=lambda v: (str(type(v)), v))
    label = group.astype(object).where(group.notna(), GROUP_NA)
    rows = []
    for endpoint in (ORR_LABEL, CR_LABEL):
        yes = (data[endpoint] == "yes").groupby(label).agg(["sum", "size"])
        for lev in [*levels, *([GROUP_NA] if group.isna().any() else [])]:
            x, n = (int(yes.loc[lev, "sum"]), int(yes.loc[lev, "size"])) if lev in yes.index else (0, 0)
            row = _rate_row(endpoint, x, n, method, conventions)
            rows.append({"endpoint": endpoint, "group": lev, **{k: v for k, v in row.items()
                                                                 if k not in ("category", "row_type")}})
    table = pd.DataFrame(rows)
    results = [compare_categorical(data, endpoint, by, conventions) for endpoint in (ORR_LABEL, CR_LABEL)]
    tests = pd.DataFrame([{"endpoint": e, "test": r.test, "statistic": r.statistic, "df": r.df, "p": r.p,
                           "p_method": r.p_method, "rule": r.rule, "n_used": r.n_used, "n_excluded": r.n_excluded}
                          for e, r in zip((ORR_LABEL, CR_LABEL), results)])
    table.attrs["denominator"] = "all patients of each group; NE and not assessed count as non-responders"
    return ResponseByGroup(table, tests, *results)


__all__ = ["CR_LABEL", "NOT_ASSESSED", "ORR_LABEL", "RESPONSES", "ResponseByGroup",
           "response_by_group", "response_table"]
