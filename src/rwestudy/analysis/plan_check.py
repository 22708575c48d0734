"""Every value of an analysis plan checked when the plan is loaded.

A wrong value (``cutoff = "junk"``, ``landmarks = ["six"]``, an unknown
variable, a continuous variable used as a grouping factor) is a `PlanError`
whose sentence names the key, the value given and what is expected, so the
user fixes the plan instead of meeting "internal error" halfway through.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from dataclasses import fields
from typing import Any

from rwestudy.analysis.variables import is_continuous, variable_kinds
from rwestudy.exceptions import RwestudyError


class PlanError(RwestudyError):
    """The plan file is wrong (unknown key, bad value)."""


def _show(value: Any) -> str:
    """The value as the user wrote it in TOML (strings in double quotes)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _fail(where: str, value, expected: str):
    raise PlanError(f"{where} = {_show(value)}: expected {expected}")


def _number(where, v, *, lo=None, hi=None, lo_open=False, integer=False):
    ok = _is_number(v) and (not integer or isinstance(v, int))
    if ok and lo is not None:
        ok = v > lo if lo_open else v >= lo
    if ok and hi is not None:
        ok = v <= hi
    if not ok:
        kind = "a whole number" if integer else "a number"
        rng = "" if lo is None else (f" greater than {lo:g}" if lo_open else f" of at least {lo:g}")
        rng += "" if hi is None else f" and at most {hi:g}"
        _fail(where, v, kind + rng)


def _choice(where, v, choices, what: str = "value"):
    if not isinstance(v, str) or v not in choices:
        raise PlanError(f"{where} = {_show(v)}: unknown {what}; expected one of "
                        + ", ".join(f'"{c}"' for c in choices))


def _names(where, v, example: str) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        _fail(where, v, f"a list of names in double quotes, e.g. {example}")
    return v


def check_cutoff(where: str, v) -> str | None:
    """The data cut-off as "YYYY-MM-DD" (a TOML date is accepted and written so)."""
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        v = v.date()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v.strip()):
        try:
            return dt.date.fromisoformat(v.strip()).isoformat()
        except ValueError:
            pass
    _fail(where, v, 'a date as YYYY-MM-DD, e.g. "2025-06-30" (or leave it out: the latest date in the data)')


FIGURE_FORMATS = ("png", "svg", "pdf")


def check_figure_formats(where: str, v) -> list[str]:
    """Figure file formats: a list (or comma-separated text) of png, svg, pdf; png is always written."""
    names = [x.strip().lower().lstrip(".") for x in v.split(",")] if isinstance(v, str) else v
    if not isinstance(names, list) or not names or not all(isinstance(x, str) for x in names):
        _fail(where, v, 'a list of formats, e.g. ["png", "svg", "pdf"]')
    for x in names:
        _choice(where, x, FIGURE_FORMATS, "figure format")
    if "png" not in names:  # report.docx and report.html embed the PNG
        raise PlanError(f"{where} = {_show(v)}: must include \"png\" (the report embeds it); "
                        'e.g. ["png", "pdf"]')
    return list(dict.fromkeys(names))


def check_conventions(overrides: dict, conventions_cls) -> None:
    """Override types by the Conventions field types (choices are checked by Conventions itself)."""
    types = {f.name: f.type for f in fields(conventions_cls)}
    for key, v in overrides.items():
        where = f"[conventions] {key}"
        kind = str(types.get(key, ""))
        if key not in types or key == "profile":
            continue  # get_conventions names the valid keys
        if kind == "bool" and not isinstance(v, bool):
            _fail(where, v, "true or false")
        elif kind == "int":
            _number(where, v, integer=True)
        elif kind == "float":
            _number(where, v)
        elif kind not in ("bool", "int", "float") and not isinstance(v, str):
            _fail(where, v, "a name in double quotes")


def _check_variables(where: str, names: list[str], kinds: dict[str, str], *, forbid: tuple[str, ...]) -> None:
    known = ", ".join(sorted(n for n, k in kinds.items() if k not in ("id", "date", "text")
                             and not n.endswith("_source")))
    for n in names:
        if n not in kinds:
            close = difflib.get_close_matches(n, list(kinds), n=1)
            hint = f"did you mean {_show(close[0])}? Otherwise, " if close else ""
            raise PlanError(f"{where}: unknown variable {_show(n)}; {hint}use a column of the patients table "
                            f"(docs/study-data.md) or a derived one. Known: {known}")
        if kinds[n] in forbid:
            raise PlanError(f"{where}: {_show(n)} is {_a(kinds[n])} column, not a variable to analyse")


def check_factor_cuts(cuts, kinds: dict[str, str]) -> dict:
    where = "[factors] cuts"
    if not isinstance(cuts, dict):
        _fail(where, cuts, 'a table of cut points, e.g. cuts = { age_at_start = [70] }')
    for name, points in cuts.items():
        w = f"{where}.{name}"
        if name not in kinds or kinds[name] not in ("int", "float", "count"):
            raise PlanError(f"{w}: cut points apply to a number column of the patients table; "
                            f"{_show(name)} is {'unknown' if name not in kinds else _a(kinds[name]) + ' column'}")
        if points == "median":
            continue
        if (not isinstance(points, list) or not points or not all(_is_number(p) for p in points)
                or any(a >= b for a, b in zip(points, points[1:]))):
            _fail(w, points, 'increasing numbers, e.g. [70] (groups < 70 and >= 70) or [60, 70], or "median"')
    return cuts


def check_factors_are_groups(factors: list[str], cuts: dict, where: str = "[factors] variables") -> None:
    """A continuous variable is a factor only with stated cut points."""
    for f in factors:
        if is_continuous(f) and f not in cuts:
            raise PlanError(
                f"{where}: {_show(f)} is a continuous number, not a grouping factor (a log-rank test would "
                f"compare one group per value). State how to group it in [factors], e.g. "
                f'cuts = {{ {f} = [70] }} (groups < 70 and >= 70) or cuts = {{ {f} = "median" }}'
                + ("; or use age_ge70_start / age_ge70_diagnosis" if f.startswith("age_") else ""))


def check_values(values: dict, *, endpoints: list[str], tests: set[str], conventions_cls) -> dict:
    """Check the plan's raw values (keys as the Plan fields); returns them normalised."""
    out = dict(values)
    kinds = variable_kinds()
    if "profile" in out and not isinstance(out["profile"], str):
        _fail("[conventions] profile", out["profile"], 'a profile name, e.g. "stata"')
    check_conventions(out.get("conventions_overrides", {}), conventions_cls)
    if "days_per_month" in out:
        _number("[endpoints] days_per_month", out["days_per_month"], lo=0, lo_open=True)
    if "ae_window_days" in out:
        _number("[endpoints] ae_window_days", out["ae_window_days"], lo=0, integer=True)
    if "cutoff" in out:
        out["cutoff"] = check_cutoff("[endpoints] cutoff", out["cutoff"])
    for key, where in (("endpoints", "[endpoints] analyse"), ("factor_endpoints", "[factors] endpoints")):
        if key in out:
            for e in _names(where, out[key], '["OS", "PFS"]'):
                _choice(where, e, endpoints, "endpoint")
    if "landmarks" in out:
        lm = out["landmarks"]
        if not isinstance(lm, list) or not all(_is_number(x) and x >= 0 for x in lm):
            _fail("[survival] landmarks", lm, "a list of months as numbers, e.g. [6, 12, 24]")
    if "group_tests" in out:
        for t in _names("[survival] tests", out["group_tests"], '["logrank", "wilcoxon"]'):
            _choice("[survival] tests", t, sorted(tests), "test")
    if "multivariate" in out:
        _choice("[factors] multivariate", out["multivariate"], ("significant", "all"))
    if "stepwise_threshold" in out:
        _number("[factors] stepwise_threshold", out["stepwise_threshold"], lo=0, hi=1, lo_open=True)
    if "stepwise_test" in out:
        _choice("[factors] stepwise_test", out["stepwise_test"], ("wald", "lr"))
    if "landmark_months" in out:
        _number("[factors] landmark_months", out["landmark_months"], lo=0, lo_open=True)
    cuts = check_factor_cuts(out.get("factor_cuts", {}), kinds)
    not_analysed = ("id", "date")
    for key, where in (("factors", "[factors] variables"), ("post_baseline", "[factors] post_baseline"),
                       ("baseline", "[baseline] variables"), ("response_outcomes", "[response] outcomes")):
        if key in out:
            _check_variables(where, _names(where, out[key], '["sex", "ecog_2_3"]'), kinds, forbid=not_analysed)
    if "factors" in out:
        check_factors_are_groups(out["factors"], cuts)
    if "response_outcomes" in out:
        check_factors_are_groups(out["response_outcomes"], {}, "[response] outcomes")
    if out.get("baseline_by") is not None:
        by = out["baseline_by"]
        if not isinstance(by, str):
            _fail("[baseline] by", by, 'a variable name, e.g. "sex"')
        _check_variables("[baseline] by", [by], kinds, forbid=not_analysed)
        check_factors_are_groups([by], cuts, "[baseline] by")
    for key, where in (("competing_risks", "[competing_risks] analyse"),
                       ("competing_regression", "[competing_risks] regression")):
        if key in out and not isinstance(out[key], bool):
            _fail(where, out[key], "true or false")
    if "response_source" in out:
        _choice("[response] source", out["response_source"], ("recorded", "lugano"), "source")
    if "center_methods" in out:
        for m in _names("[center_effects] methods", out["center_methods"], '["stratified", "cluster", "frailty"]'):
            _choice("[center_effects] methods", m, ("stratified", "cluster", "frailty"), "method")
    if out.get("rmst_horizon") is not None:
        _number("[rmst] horizon", out["rmst_horizon"], lo=0, lo_open=True)
    if "figure_formats" in out:
        out["figure_formats"] = check_figure_formats("[figures] formats", out["figure_formats"])
    if "figure_dpi" in out:
        _number("[figures] dpi", out["figure_dpi"], lo=72, hi=1200, integer=True)
    if "context_studies" in out:
        _names("[context] studies", out["context_studies"], '["talos"]')
    for key, where in (("context_maic", "[context] maic"), ("registry_dir", "[context] registry_dir")):
        if out.get(key) is not None and not isinstance(out[key], str):
            _fail(where, out[key], "a name in double quotes")
    return out
