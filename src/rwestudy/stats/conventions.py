"""Conventions profiles: the defaults of the tool a user comes from.

Stata, SAS, R and SPSS give different numbers on the same data because their
defaults differ (Cox ties, Kaplan-Meier confidence transform, median CI,
binomial CI, quantile definition, what "Wilcoxon" means, chi-square
continuity correction). A :class:`Conventions` object pins every one of these
choices; it is written into ``results.json`` and the report so a reader knows
exactly what was computed.

Our default profile (``rwestudy``) and why:

* Efron ties: the more accurate approximation to the exact partial
  likelihood with tied times (R's default); tied dates are common in charts.
* log-log ("exponential Greenwood") Kaplan-Meier CI: stays inside [0, 1] and
  has better small-sample coverage than plain or log (SAS, Stata, lifelines).
* Median CI by Brookmeyer-Crowley on the same log-log scale (SAS LIFETEST).
* Exact Clopper-Pearson binomial CI for ORR/CR (Stata; what trials report).
* Quantiles by R type 7 (linear interpolation; numpy/pandas/R default).
* "Wilcoxon" means Wilcoxon-Breslow-Gehan, weights = number at risk (Stata,
  SAS, SPSS; the meaning the TALOs paper uses).
* Chi-square without Yates correction; Fisher's exact test when any expected
  count is below 5 (the modern gtsummary rule).

Example
-------
>>> from rwestudy.stats.conventions import get_conventions
>>> get_conventions("stata").ties
'breslow'
>>> get_conventions("r", binomial_ci="wilson").binomial_ci
'wilson'
"""
from __future__ import annotations
from rwestudy.core.defaults import DAYS_PER_MONTH

from dataclasses import asdict, dataclass, fields, replace
from typing import Literal, get_args

Ties = Literal["breslow", "efron"]
KMTransform = Literal["log", "log-log", "plain"]
MedianCI = Literal["brookmeyer-crowley", "spss-symmetric"]
BinomialCI = Literal["exact", "wilson", "wilson-cc", "wald", "wald-cc", "jeffreys", "agresti-coull"]
Wilcoxon = Literal["gehan", "peto-peto"]
CoxP = Literal["wald", "lr"]

_CHOICES = {"ties": Ties, "km_ci_transform": KMTransform, "median_ci": MedianCI, "binomial_ci": BinomialCI,
            "wilcoxon": Wilcoxon, "cox_p": CoxP}

# numpy.quantile ``method`` names for R's sample quantile types
QUANTILE_TYPES = {
    2: "averaged_inverted_cdf",  # SAS PCTLDEF=5, Stata summarize
    6: "weibull",                # SPSS HAVERAGE, Minitab
    7: "linear",                 # R, numpy, pandas default
}


@dataclass(frozen=True)
class Conventions:
    """Every convention that changes a printed number."""

    profile: str = "rwestudy"
    ties: Ties = "efron"
    km_ci_transform: KMTransform = "log-log"
    median_ci: MedianCI = "brookmeyer-crowley"
    binomial_ci: BinomialCI = "exact"
    quantile_type: int = 7
    wilcoxon: Wilcoxon = "gehan"
    chisq_correction: bool = False
    fisher_expected_min: float = 5.0
    cox_p: CoxP = "wald"
    conf_level: float = 0.95
    monte_carlo_seed: int = 20240611
    monte_carlo_resamples: int = 100_000
    days_per_month: float = DAYS_PER_MONTH
    timefix: bool = False    # R's aeqSurv: times differing by float noise are tied (stats.timefix)

    def __post_init__(self) -> None:
        for name, kind in _CHOICES.items():
            allowed = get_args(kind)
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if self.quantile_type not in QUANTILE_TYPES:
            raise ValueError(
                f"quantile_type must be one of {sorted(QUANTILE_TYPES)}, got {self.quantile_type}"
            )
        if not 0.5 < self.conf_level < 1:
            raise ValueError(f"conf_level must be between 0.5 and 1, got {self.conf_level}")

    @property
    def quantile_method(self) -> str:
        """The ``numpy.quantile`` method implementing :attr:`quantile_type`."""
        return QUANTILE_TYPES[self.quantile_type]

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> list[str]:
        """Sentences for a Methods footnote."""
        ci = int(round(self.conf_level * 100))
        return [
            f"Conventions profile: {self.profile}.",
            f"Cox regression ties: {self.ties.capitalize()}; p-values: {'Wald' if self.cox_p == 'wald' else 'likelihood ratio'}.",
            f"Kaplan-Meier {ci}% CI: Greenwood variance, {self.km_ci_transform} transform.",
            (
                f"Median survival CI: Brookmeyer-Crowley on the {self.km_ci_transform} scale."
                if self.median_ci == "brookmeyer-crowley"
                else "Median survival CI: symmetric (median +/- z x SE), as SPSS."
            ),
            f"Binomial {ci}% CI: {self.binomial_ci}.",
            f"Quantiles: R type {self.quantile_type}.",
            "Wilcoxon test: "
            + ("Breslow-Gehan (weights = number at risk)." if self.wilcoxon == "gehan" else "Peto-Peto (weights = S(t-))."),
            "Chi-square: " + ("with Yates continuity correction for 2x2." if self.chisq_correction else "without continuity correction")
            + f"; Fisher's exact test when any expected count < {self.fisher_expected_min:g}.",
            *(["Survival times differing by floating-point noise (< 1.5e-8 relative) treated as tied, "
               "as R's timefix."] if self.timefix else []),
        ]


PROFILES: dict[str, Conventions] = {
    "rwestudy": Conventions(),
    # R: coxph(ties="efron"), survfit(conf.type="log"), quantile.survfit,
    # binom.test (exact), quantile(type=7), survdiff(rho=1) is Peto-Peto,
    # chisq.test(correct=TRUE), summary.coxph Wald p per term, timefix = TRUE.
    "r": Conventions(profile="r", ties="efron", km_ci_transform="log", binomial_ci="exact",
                     quantile_type=7, wilcoxon="peto-peto", chisq_correction=True, timefix=True),
    # Stata: stcox Breslow, sts list log-log CI, ci proportions exact,
    # summarize/centile type 2, sts test wilcoxon = Breslow-Gehan, tabulate chi2 uncorrected.
    "stata": Conventions(profile="stata", ties="breslow", km_ci_transform="log-log", binomial_ci="exact",
                         quantile_type=2, wilcoxon="gehan", chisq_correction=False),
    # SAS: PHREG TIES=BRESLOW, LIFETEST CONFTYPE=LOGLOG with Brookmeyer-Crowley,
    # FREQ exact limits, PCTLDEF=5 (type 2), LIFETEST Wilcoxon = Gehan, Pearson chi-square.
    "sas": Conventions(profile="sas", ties="breslow", km_ci_transform="log-log", binomial_ci="exact",
                       quantile_type=2, wilcoxon="gehan", chisq_correction=False),
    # SPSS: COXREG Breslow, KM plain CI, median +/- 1.96 SE, HAVERAGE (type 6),
    # "Breslow (Generalized Wilcoxon)", Pearson chi-square, Wald interval.
    "spss": Conventions(profile="spss", ties="breslow", km_ci_transform="plain", median_ci="spss-symmetric",
                        binomial_ci="wald", quantile_type=6, wilcoxon="gehan", chisq_correction=False),
}


def get_conventions(profile: str = "rwestudy", **overrides) -> Conventions:
    """Return the named profile, with any field overridden.

    Raises ``ValueError`` naming the valid choices for an unknown profile or field.
    """
    key = profile.lower()
    if key not in PROFILES:
        raise ValueError(f"unknown conventions profile {profile!r}; choose one of {', '.join(PROFILES)}")
    valid = {f.name for f in fields(Conventions)}
    unknown = set(overrides) - valid
    if unknown:
        raise ValueError(f"unknown convention(s) {sorted(unknown)}; valid: {sorted(valid)}")
    return replace(PROFILES[key], **overrides) if overrides else PROFILES[key]
