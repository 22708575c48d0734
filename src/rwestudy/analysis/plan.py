"""The analysis plan: what `rwestudy analyze` runs, as a TOML file.

Without a plan the defaults reproduce the standard analysis of a real-world
treatment study (the TALOs paper): every endpoint by Kaplan-Meier, OS and PFS
by each baseline factor with log-rank and Wilcoxon-Breslow-Gehan tests,
univariate, multivariate and backward-stepwise Cox, response and AE tables.
`rwestudy plan --init` writes this file with comments.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from rwestudy.io.toml_file import read_toml
from rwestudy.stats.conventions import Conventions, get_conventions

# The factors of the TALOs Cox tables (Tables 2-3), as derived columns.
DEFAULT_FACTORS = [
    "sex", "age_ge70_diagnosis", "age_ge70_start", "double_hit", "stage_3_4", "prior_asct",
    "extranodal", "primary_refractory", "b_symptoms", "ecog_2_3", "bulky", "ldh_increased",
    "refractory_last_line", "toxicity", "dose_reduced",
]
# Factors that happen after the index date: a patient must survive to have them.
POST_BASELINE = ["toxicity", "dose_reduced"]
DEFAULT_BASELINE = [
    "age_at_start", "sex", "histology", "cell_of_origin", "double_hit", "ann_arbor_stage", "b_symptoms",
    "bulky", "extranodal", "ecog", "ldh_increased", "ipi", "n_prior_lines", "primary_refractory",
    "refractory_last_line", "prior_asct", "prior_car_t", "months_from_last_therapy", "cns_involvement",
]
ENDPOINTS = ["OS", "PFS", "DoR", "DFS", "TTNT"]


class PlanError(ValueError):
    """The plan file is wrong (unknown key, bad value)."""


@dataclass(frozen=True)
class Plan:
    profile: str = "rwestudy"
    conventions_overrides: dict = field(default_factory=dict)
    days_per_month: float = 30.4375
    ae_window_days: int = 30
    cutoff: str | None = None
    endpoints: list[str] = field(default_factory=lambda: list(ENDPOINTS))
    landmarks: list[float] = field(default_factory=lambda: [6.0, 12.0, 24.0])
    # "wilcoxon" takes the profile's meaning: Breslow-Gehan (Stata, SAS, SPSS, rwestudy), Peto-Peto (R).
    group_tests: list[str] = field(default_factory=lambda: ["logrank", "wilcoxon"])
    factor_endpoints: list[str] = field(default_factory=lambda: ["OS", "PFS"])
    factors: list[str] = field(default_factory=lambda: list(DEFAULT_FACTORS))
    multivariate: str = "significant"  # "significant" (univariate p < threshold) or "all"
    stepwise_threshold: float = 0.05
    stepwise_test: str = "wald"
    post_baseline: list[str] = field(default_factory=lambda: list(POST_BASELINE))
    landmark_months: float = 3.0
    baseline: list[str] = field(default_factory=lambda: list(DEFAULT_BASELINE))
    baseline_by: str | None = None
    response_outcomes: list[str] = field(default_factory=lambda: ["orr_best", "cr_best"])
    # Published studies (registry ids) for the report's Context section; MAIC against one of them.
    context_studies: list[str] = field(default_factory=list)
    context_maic: str | None = None
    registry_dir: str | None = None
    source: str | None = None

    @property
    def conventions(self) -> Conventions:
        return get_conventions(self.profile, days_per_month=self.days_per_month, **self.conventions_overrides)

    def to_dict(self) -> dict:
        return asdict(self)


_SECTIONS = {
    "conventions": {"profile": "profile"},
    "endpoints": {"days_per_month": "days_per_month", "ae_window_days": "ae_window_days", "cutoff": "cutoff",
                  "analyse": "endpoints"},
    "survival": {"landmarks": "landmarks", "tests": "group_tests"},
    "factors": {"endpoints": "factor_endpoints", "variables": "factors", "multivariate": "multivariate",
                "stepwise_threshold": "stepwise_threshold", "stepwise_test": "stepwise_test",
                "post_baseline": "post_baseline", "landmark_months": "landmark_months"},
    "baseline": {"variables": "baseline", "by": "baseline_by"},
    "response": {"outcomes": "response_outcomes"},
    "context": {"studies": "context_studies", "maic": "context_maic", "registry_dir": "registry_dir"},
}


def load_plan(path: str | Path | None = None, **overrides) -> Plan:
    """Read a plan TOML (None = defaults); unknown keys are errors, not ignored."""
    values: dict = {}
    source = None
    if path is not None:
        data = read_toml(path, "plan", PlanError)
        source = str(path)
        for section, body in data.items():
            if section not in _SECTIONS:
                raise PlanError(f"unknown section [{section}] in the plan; sections: {', '.join(_SECTIONS)}")
            for key, value in body.items():
                if section == "conventions" and key != "profile":
                    values.setdefault("conventions_overrides", {})[key] = value
                    continue
                if key not in _SECTIONS[section]:
                    raise PlanError(f"unknown key '{key}' in [{section}]; keys: {', '.join(_SECTIONS[section])}")
                values[_SECTIONS[section][key]] = value
    values.update({k: v for k, v in overrides.items() if v is not None})
    if values.get("cutoff") == "":
        values["cutoff"] = None
    if values.get("baseline_by") == "":
        values["baseline_by"] = None
    if isinstance(values.get("context_studies"), str):
        values["context_studies"] = [values["context_studies"]]
    _check_types(values)
    plan = Plan(**values, source=source)
    try:
        plan.conventions  # validates profile and overrides
    except ValueError as exc:
        raise PlanError(str(exc)) from None
    for e in plan.endpoints + plan.factor_endpoints:
        if e not in ENDPOINTS:
            raise PlanError(f"unknown endpoint {e!r}; endpoints: {', '.join(ENDPOINTS)}")
    if plan.multivariate not in ("significant", "all"):
        raise PlanError("[factors] multivariate must be 'significant' or 'all'")
    if plan.stepwise_test not in ("wald", "lr"):
        raise PlanError("[factors] stepwise_test must be 'wald' or 'lr'")
    bad = set(plan.group_tests) - {"logrank", "gehan", "tarone-ware", "peto-peto", "wilcoxon"}
    if bad:
        raise PlanError(f"[survival] unknown test(s) {sorted(bad)}")
    return plan


_NUMBERS = {"days_per_month": (1, 400), "ae_window_days": (0, 3650), "stepwise_threshold": (0, 1),
            "landmark_months": (0, 1200)}
_NUMBER_LISTS = {"landmarks": (0, 1200)}
_TEXT_LISTS = ("endpoints", "group_tests", "factor_endpoints", "factors", "post_baseline", "baseline",
               "response_outcomes", "context_studies")
_KEY_OF = {field: f"[{sec}] {key}" for sec, keys in _SECTIONS.items() for key, field in keys.items()}


def _check_types(values: dict) -> None:
    """Each plan value has the type and range it needs, said in one sentence naming the key."""
    def is_num(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    for k, (lo, hi) in _NUMBERS.items():
        if k in values and not (is_num(values[k]) and lo <= values[k] <= hi):
            raise PlanError(f"{_KEY_OF.get(k, k)} = {values[k]!r}: expected a number from {lo} to {hi}")
    for k, (lo, hi) in _NUMBER_LISTS.items():
        if k in values:
            v = values[k]
            if not isinstance(v, list) or not all(is_num(x) and lo <= x <= hi for x in v):
                raise PlanError(f"{_KEY_OF.get(k, k)} = {v!r}: expected a list of numbers of months, e.g. [6, 12, 24]")
    for k in _TEXT_LISTS:
        if k in values and not (isinstance(values[k], list) and all(isinstance(x, str) for x in values[k])):
            raise PlanError(f"{_KEY_OF.get(k, k)} = {values[k]!r}: expected a list of names, e.g. [\"sex\", \"ecog\"]")


def _toml_list(xs) -> str:
    return "[" + ", ".join(f'"{x}"' if isinstance(x, str) else f"{x:g}" for x in xs) + "]"


def default_plan_toml() -> str:
    """The default plan, commented (what `rwestudy plan --init` writes)."""
    p = Plan()
    c = p.conventions
    names = {f.name for f in fields(Conventions)} - {"profile"}
    return f"""# rwestudy analysis plan. Every key is optional; delete what you do not change.

[conventions]
# Reproduce the defaults of the tool you come from: rwestudy | r | stata | sas | spss.
profile = "{p.profile}"
# Any single convention can be overridden, e.g.:
# ties = "breslow"              # efron | breslow (Cox ties)
# km_ci_transform = "log"       # log | log-log | plain (Kaplan-Meier CI)
# binomial_ci = "wilson"        # exact | wilson | wilson-cc | wald | wald-cc | jeffreys | agresti-coull
# quantile_type = 2             # R quantile type 2, 6 or 7
# Current values: {", ".join(f"{n}={getattr(c, n)!r}" for n in sorted(names))}

[endpoints]
days_per_month = {p.days_per_month}   # months = days / this
ae_window_days = {p.ae_window_days}          # AEs from treatment start to last dose + this many days
# cutoff = "2025-06-30"       # data cut-off: later events are censored at the cut-off
analyse = {_toml_list(p.endpoints)}

[survival]
landmarks = {_toml_list(p.landmarks)}    # months: survival rates with CI
tests = {_toml_list(p.group_tests)}        # logrank | gehan | tarone-ware | peto-peto | wilcoxon (= profile's meaning)

[factors]
endpoints = {_toml_list(p.factor_endpoints)}
variables = {_toml_list(p.factors)}
multivariate = "{p.multivariate}"       # significant: factors with univariate p < threshold; all: every factor
stepwise_threshold = {p.stepwise_threshold}
stepwise_test = "{p.stepwise_test}"            # wald | lr
# Post-baseline factors get a landmark analysis and a time-dependent Cox model besides the naive one.
post_baseline = {_toml_list(p.post_baseline)}
landmark_months = {p.landmark_months:g}

[baseline]
variables = {_toml_list(p.baseline)}
# by = "sex"                  # optional: Table 1 by group, with p-values

[response]
outcomes = {_toml_list(p.response_outcomes)}  # associations of these with each factor

[context]
# Published studies for the report's Context section (ids from `rwestudy registry list`), e.g.:
# studies = ["lmind-5year", "talos"]
# maic = "talos"              # reweight our cohort to this study's published baseline (unanchored MAIC)
# registry_dir = "my_registry/"   # your own registry files, same format as the shipped ones
"""
