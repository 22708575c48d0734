"""Number formatting for tables and text: one place, so Word, HTML, Excel and prose agree.

>>> fmt_p(0.0004), fmt_p(0.04567), fmt_pct(25, 96), fmt_ci(1.2345, 2.5)
('<0.001', '0.046', '25 (26.0%)', '1.23-2.50')
"""
from __future__ import annotations

import math

__all__ = ["fmt_num", "fmt_median", "fmt_int", "fmt_p", "fmt_pct", "fmt_ci", "fmt_estimate_ci", "fmt_hr"]


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def fmt_num(x, digits: int = 1, missing: str = "NA") -> str:
    """``digits`` decimals; a missing value prints ``missing`` (NA: not available)."""
    return missing if _missing(x) else f"{float(x):.{digits}f}"


def fmt_median(x, digits: int = 1) -> str:
    """A Kaplan-Meier median, quartile or one of their CI bounds: missing means NR, not reached.

    >>> fmt_median(11.56), fmt_median(None), fmt_num(None)
    ('11.6', 'NR', 'NA')
    """
    return fmt_num(x, digits, missing="NR")


def fmt_int(x) -> str:
    return "" if _missing(x) else f"{int(round(float(x)))}"


def fmt_p(p) -> str:
    """Three decimals, '<0.001' below; journals' most common rule."""
    if _missing(p):
        return "NA"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_pct(n, denominator, digits: int = 1) -> str:
    if _missing(n):
        return ""
    if not denominator:
        return f"{int(n)}"
    return f"{int(n)} ({100.0 * n / denominator:.{digits}f}%)"


def fmt_ci(low, high, digits: int = 2, missing: str = "NA") -> str:
    return f"{fmt_num(low, digits, missing)}-{fmt_num(high, digits, missing)}"


def fmt_estimate_ci(est, low, high, digits: int = 1, missing: str = "NR") -> str:
    """'11.6 (7.1-13.1)'; by default for medians: an unreached median or bound prints NR (not reached)."""
    return f"{fmt_num(est, digits, missing)} ({fmt_ci(low, high, digits, missing)})"


def fmt_hr(hr, low, high, monotone: bool = False) -> str:
    if monotone:
        return "not estimable (monotone likelihood)"
    if _missing(hr):
        return "NA"
    return f"{hr:.2f} ({fmt_ci(low, high, 2)})"
