"""Private: the reconstruction algorithm of Guyot, Ades, Ouwens & Welton (2012).

Input: a cleaned digitised curve (T_k, S_k), k = 0..K-1 with T_0 = 0, S_0 = 1,
non-decreasing T and non-increasing S, and the published numbers at risk
n_i at times t_i (t_0 = 0), every t_i present among the T_k.

Within each interval [t_i, t_{i+1}):

1. guess the number censored: c = round(n_i S(t_{i+1}) / S(t_i) - n_{i+1});
2. spread the c censorings evenly over the interval;
3. walk the digitised points: at risk n_k (n_i at the start), events
   d_k = round(n_k (1 - S_k / KM_last)), KM_last the reconstructed
   Kaplan-Meier at the previous event; n_{k+1} = n_k - d_k - (censored in [T_k, T_{k+1}));
4. if the walk ends with n != n_{i+1}, add the difference to c and redo.

The last interval has no published count at its end: its censorings come
from the total number of events when that is published (the c whose events
come closest), otherwise from the censoring rate per patient-month of the
earlier intervals.  Patients still at risk after the last point are
censored there.
"""
from __future__ import annotations

import numpy as np

MAX_ITER = 200


def _walk(T, S, lo, hi, n_start, km_last, cens_times):
    """Events at points lo..hi and the number still at risk at hi + 1."""
    n = n_start
    d = np.zeros(hi - lo + 1, dtype=np.int64)
    # censorings between consecutive points: [T_k, T_{k+1})
    slot = np.searchsorted(T[lo:hi + 1], cens_times, side="right") - 1
    per_point = np.bincount(slot, minlength=hi - lo + 1)
    for j, k in enumerate(range(lo, hi + 1)):
        if n > 0 and km_last > 0:
            dk = int(np.clip(np.round(n * (1.0 - S[k] / km_last)), 0, n))
            if dk > 0:
                d[j] = dk
                km_last *= 1.0 - dk / n
        n = n - d[j] - per_point[j]
    return d, n, km_last


def _spread(t0, t1, c):
    return t0 + np.arange(1, c + 1) * (t1 - t0) / (c + 1)


def reconstruct(T, S, risk_t, risk_n, total_events=None):
    """Pseudo-patient (time, event) arrays and per-interval notes."""
    lower = np.searchsorted(T, risk_t, side="left")
    m = len(risk_t)
    times, events, notes = [], [], []
    km_last = 1.0
    cens_done, person_time = 0, 0.0
    for i in range(m):
        lo = lower[i]
        last = i == m - 1
        hi = (lower[i + 1] - 1) if not last else len(T) - 1
        n_i = int(risk_n[i])
        if last:
            t_end = T[hi]
            rate = cens_done / person_time if person_time > 0 else 0.0
            c = _last_censoring(T, S, lo, hi, n_i, km_last, rate, total_events, sum(events))
            cens = _spread(T[lo], t_end, c)
            d, n_end, km_new = _walk(T, S, lo, hi, n_i, km_last, cens)
        else:
            t_next = T[lower[i + 1]]
            s_ratio = S[lower[i + 1]] / S[lo] if S[lo] > 0 else 0.0
            c = max(0, int(np.round(n_i * s_ratio - risk_n[i + 1])))
            seen = set()
            for _ in range(MAX_ITER):
                cens = _spread(T[lo], t_next, c)
                d, n_end, km_new = _walk(T, S, lo, hi, n_i, km_last, cens)
                gap = n_end - int(risk_n[i + 1])
                if gap == 0 or c in seen:
                    break
                seen.add(c)
                c = max(0, c + gap)
            if n_end != risk_n[i + 1]:
                notes.append(f"interval [{risk_t[i]:g}, {risk_t[i + 1]:g}): reconstructed {n_end} at risk at its end, "
                             f"published {int(risk_n[i + 1])}")
            cens_done += c
            person_time += n_i * (t_next - T[lo])
        km_last = km_new
        for j, k in enumerate(range(lo, hi + 1)):
            events.extend([1] * int(d[j]))
            times.extend([T[k]] * int(d[j]))
        times.extend(cens.tolist())
        events.extend([0] * len(cens))
        if last and n_end > 0:
            times.extend([T[hi]] * int(n_end))
            events.extend([0] * int(n_end))
    return np.asarray(times, dtype=float), np.asarray(events, dtype=np.int64), notes


def _last_censoring(T, S, lo, hi, n_i, km_last, rate, total_events, events_before):
    """Censorings inside the last interval (end-of-follow-up censorings come on top)."""
    if total_events is None:
        return int(np.clip(np.round(rate * n_i * (T[hi] - T[lo])), 0, n_i))
    want = int(total_events) - int(events_before)

    def events_with(c):
        d, _, _ = _walk(T, S, lo, hi, n_i, km_last, _spread(T[lo], T[hi], c))
        return int(d.sum())

    # events fall as censoring rises: bisect for the c whose events come closest
    a, b = 0, n_i
    while b - a > 1:
        mid = (a + b) // 2
        if events_with(mid) > want:
            a = mid
        else:
            b = mid
    return min((a, b), key=lambda c: (abs(events_with(c) - want), c))
