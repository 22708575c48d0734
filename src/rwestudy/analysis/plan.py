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

from rwestudy.analysis.plan_check import PlanError, check_values
from rwestudy.io.toml_file import read_toml
from rwestudy.stats.conventions import Conventions, get_conventions
from rwestudy.core.defaults import AE_WINDOW_DAYS, DAYS_PER_MONTH

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
GROUP_TESTS = {"logrank", "gehan", "tarone-ware", "peto-peto", "wilcoxon"}


@dataclass(frozen=True)
class Plan:
    profile: str = "rwestudy"
    conventions_overrides: dict = field(default_factory=dict)
    days_per_month: float = DAYS_PER_MONTH
    ae_window_days: int = AE_WINDOW_DAYS
    cutoff: str | None = None
    endpoints: list[str] = field(default_factory=lambda: list(ENDPOINTS))
    landmarks: list[float] = field(default_factory=lambda: [6.0, 12.0, 24.0])
    # "wilcoxon" takes the profile's meaning: Breslow-Gehan (Stata, SAS, SPSS, rwestudy), Peto-Peto (R).
    group_tests: list[str] = field(default_factory=lambda: ["logrank", "wilcoxon"])
    factor_endpoints: list[str] = field(default_factory=lambda: ["OS", "PFS"])
    factors: list[str] = field(default_factory=lambda: list(DEFAULT_FACTORS))
    # Cut points that turn a continuous variable into groups: {"age_at_start": [70]} or "median".
    factor_cuts: dict = field(default_factory=dict)
    multivariate: str = "significant"  # "significant" (univariate p < threshold) or "all"
    stepwise_threshold: float = 0.05
    stepwise_test: str = "wald"
    post_baseline: list[str] = field(default_factory=lambda: list(POST_BASELINE))
    landmark_months: float = 3.0
    baseline: list[str] = field(default_factory=lambda: list(DEFAULT_BASELINE))
    baseline_by: str | None = None
    response_outcomes: list[str] = field(default_factory=lambda: ["orr_best", "cr_best"])
    # "recorded" (the investigator's) or "lugano" (from the assessments time points, Lugano 2014)
    response_source: str = "recorded"
    # Published studies (registry ids) for the report's Context section; MAIC against one of them.
    # Reviewer analyses: competing risks from PFS, center effects of the multivariate Cox, RMST.
    competing_risks: bool = True
    competing_regression: bool = False  # Fine-Gray + cause-specific Cox per factor (4 models each)
    center_methods: list[str] = field(default_factory=lambda: ["stratified", "cluster", "frailty"])
    rmst_horizon: float | None = None   # months; None = the largest landmark
    # PNG goes into report.docx/.html, SVG is the vector copy; PDF (for journals that ask for it)
    # costs about 40% more drawing time, so it is on request.
    figure_formats: list[str] = field(default_factory=lambda: ["png", "svg"])
    figure_dpi: int = 300
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
    "factors": {"endpoints": "factor_endpoints", "variables": "factors", "cuts": "factor_cuts",
                "multivariate": "multivariate",
                "stepwise_threshold": "stepwise_threshold", "stepwise_test": "stepwise_test",
                "post_baseline": "post_baseline", "landmark_months": "landmark_months"},
    "baseline": {"variables": "baseline", "by": "baseline_by"},
    "response": {"outcomes": "response_outcomes", "source": "response_source"},
    "competing_risks": {"analyse": "competing_risks", "regression": "competing_regression"},
    "center_effects": {"methods": "center_methods"},
    "rmst": {"horizon": "rmst_horizon"},
    "figures": {"formats": "figure_formats", "dpi": "figure_dpi"},
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
    if values.get("baseline_by") == "":
        values["baseline_by"] = None
    if isinstance(values.get("context_studies"), str):
        values["context_studies"] = [values["context_studies"]]
    values = check_values(values, endpoints=ENDPOINTS, tests=GROUP_TESTS, conventions_cls=Conventions)
    plan = Plan(**values, source=source)
    try:
        plan.conventions  # validates profile and overrides
    except ValueError as exc:
        raise PlanError(f"[conventions] {exc}") from None
    return plan


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
# A continuous variable (age_at_start, ldh, ...) is a factor only with stated cut points, e.g.
# cuts = {{ age_at_start = [70], ldh = "median" }}    # [70]: groups < 70 and >= 70
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
# recorded: the investigator's responses | lugano: best/final response and progression dates from the
# Lugano 2014 classification of the assessments table (patients without assessments keep theirs)
source = "{p.response_source}"

[competing_risks]
# Progression vs death without progression (from PFS): cumulative incidence, Gray's test by factor.
analyse = {str(p.competing_risks).lower()}
regression = {str(p.competing_regression).lower()}          # also Fine-Gray and cause-specific Cox per factor

[center_effects]
# The multivariate Cox model refitted for center effects, beside the model-based fit of the main tables:
# stratified (a baseline hazard per center) | cluster (sandwich variance, center as cluster) |
# frailty (shared gamma frailty per center, as R's coxph(... + frailty(center))). [] = none.
methods = {_toml_list(p.center_methods)}

[rmst]
# horizon = 24                # months; restricted mean survival time up to here (default: the largest landmark)

[figures]
formats = {_toml_list(p.figure_formats)}     # png (always: the report embeds it) | svg | pdf; "pdf" adds a PDF of each figure
dpi = {p.figure_dpi}                  # resolution of the PNG files

[context]
# Published studies for the report's Context section (ids from `rwestudy registry list`), e.g.:
# studies = ["lmind-5year", "talos"]
# maic = "talos"              # reweight our cohort to this study's published baseline (unanchored MAIC)
# registry_dir = "my_registry/"   # your own registry files, same format as the shipped ones
"""
