"""R's ``timefix``: survival times that differ only by floating-point noise are tied.

Times computed as differences of fractional dates (or months = days / 30.4375
after a round trip) can differ in the 15th digit; R's survival (>= 2.39)
treats them as one time (``aeqSurv``) so that such "ties" do not split a risk
set. Rule, as ``survival::aeqSurv`` with its default tolerance sqrt(machine
epsilon) ~ 1.5e-8: sort the distinct finite times y; consecutive times with
``dy <= tol`` or ``dy / mean(|y|) <= tol`` are tied, and every time of a run
becomes the first (smallest) of the run. On in the ``r`` profile
(``Conventions.timefix``), off elsewhere (Stata, SAS and SPSS compare times
exactly).

>>> import numpy as np
>>> merge_noise_ties(np.array([1.0, 1.0 + 1e-12, 2.0]))[0].tolist()
[1.0, 1.0, 2.0]
"""
from __future__ import annotations

import numpy as np

TOLERANCE = float(np.sqrt(np.finfo(np.float64).eps))


def merge_noise_ties(*times: np.ndarray | None, tolerance: float = TOLERANCE) -> tuple:
    """The given time arrays (e.g. start and stop) with noise-level differences merged, on one scale."""
    present = [np.asarray(t, dtype=np.float64) for t in times if t is not None]
    if not present:
        return times
    y = np.unique(np.concatenate(present))
    y = y[np.isfinite(y)]
    if len(y) < 2:
        return times
    dy = np.diff(y)
    tied = (dy <= tolerance) | (dy / np.mean(np.abs(y)) <= tolerance)
    if not tied.any():
        return times
    cuts = y[np.concatenate(([True], ~tied))]
    out = []
    for t in times:
        if t is None:
            out.append(None)
            continue
        t = np.asarray(t, dtype=np.float64)
        idx = np.searchsorted(cuts, t, side="right") - 1      # R's findInterval
        fixed = np.where(np.isfinite(t) & (idx >= 0), cuts[np.clip(idx, 0, None)], t)
        out.append(fixed)
    return tuple(out)
