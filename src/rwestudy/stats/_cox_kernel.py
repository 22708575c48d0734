"""Vectorised Cox partial-likelihood kernel (Breslow and Efron ties).

The data are sorted once (one argsort; strata by a radix pass on their codes)
by (stratum, stop time descending). A risk set at an event time is then a
prefix of its stratum block. With right-censored data the rows are grouped
into distinct (stratum, time) cells once, before the Newton loop; every step
then sums w and w x per cell (covariates stored per column, so these are
contiguous reductions) and takes risk-set sums as cumulative sums over the
few thousand cells. With (start, stop] data the rows that have not yet
entered (start >= t) are subtracted from row-level cumulative sums over a
second ordering by start time. No Python loop runs over rows or event times.

The information matrix avoids one p x p matrix per event time:
sum_g a_g * S2_g  =  X' diag(w * c) X,  where c_i adds up a_g over the event
times g at which row i is at risk (again a difference of cumulative sums).

An optional weight ``h_g`` per event time gives the score and information of
the model with time-varying covariates x * h(t); :mod:`._cox_zph` uses it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_CHUNK = 1 << 13   # rows per gather chunk in _sorted_covariates (~0.6 MB at p = 10)


@dataclass(frozen=True)
class Cells:
    """Right-censored data: rows grouped by distinct (stratum, time), in sorted order.

    Every risk-set sum is then a cumulative sum over cells (a few thousand)
    instead of rows, so the Newton loop touches each row a fixed number of
    times per step and never re-sorts or re-indexes.
    """

    start: np.ndarray        # (C,) first sorted row of each cell
    size: np.ndarray         # (C,) rows per cell
    first: np.ndarray        # (C,) first cell of the cell's stratum
    group_cell: np.ndarray   # (G,) cell of each event time
    lo: np.ndarray           # (C,) groups [lo, hi) are the event times a row of the cell is at risk at
    hi: np.ndarray
    dead_start: np.ndarray   # (G,) first position in ``dead`` of each event-time group


@dataclass(frozen=True)
class RiskSets:
    """Everything about the data that does not depend on beta."""

    x: np.ndarray            # (n, p) centred covariates, sorted; Fortran order: x.T is a contiguous (p, n)
    order: np.ndarray        # permutation: sorted row -> input row
    efron: bool
    dead: np.ndarray         # positions (sorted rows) of events, grouped by event time
    dead_group: np.ndarray   # event-time group of each dead row
    n_groups: int
    d: np.ndarray            # (G,) deaths per event time
    group_end: np.ndarray    # (G,) C[group_end] - C[group_begin] is the at-risk sum
    group_begin: np.ndarray  # (G,) start of the stratum block (+ rows not yet entered)
    entry_order: np.ndarray | None   # counting process: sorted rows re-sorted by (stratum, start desc)
    entry_begin: np.ndarray | None   # (G,) stratum start in entry order
    entry_end: np.ndarray | None     # (G,) end of rows with start >= t_g in entry order
    row_lo: np.ndarray       # (n,) c_i = CA[row_hi] - CA[row_lo]
    row_hi: np.ndarray
    efron_group: np.ndarray  # (K,) event-time group of each Efron term (K = #deaths)
    efron_frac: np.ndarray   # (K,) k / d_g for k = 0..d_g-1 (all 0 for Breslow)
    dead_x_sum: np.ndarray   # (p,) sum of x over events
    time_of_group: np.ndarray    # (G,) event time of each group
    stratum_of_group: np.ndarray  # (G,)
    cells: Cells | None = None   # set for right-censored data (no start times)


def _rank_times(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Integer ranks of times on a common scale (exact equality = tie)."""
    allt = np.concatenate(arrays)
    uniq, inv = np.unique(allt, return_inverse=True)
    out, pos = [], 0
    for a in arrays:
        out.append(inv[pos:pos + len(a)].astype(np.int64))
        pos += len(a)
    return (*out, len(uniq))


def _small_codes(codes: np.ndarray) -> np.ndarray:
    """Codes as int16 when they fit: numpy's stable sort is then a radix sort (O(n))."""
    return codes.astype(np.int16) if codes.size and 0 <= codes.min() and codes.max() < 2**15 else codes


def _sorted_covariates(x: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Centred covariates in sorted row order, as a Fortran (n, p) array (contiguous per covariate).

    Centring keeps exp(eta) in range and cancels in the likelihood. The rows
    are gathered in cache-sized chunks and each chunk transposed while still in
    cache: a whole-array gather then transpose costs twice the memory traffic.
    """
    x = np.asarray(x, dtype=np.float64)
    n, p = x.shape
    xt = np.empty((p, n))
    for lo in range(0, n, _CHUNK):
        hi = min(lo + _CHUNK, n)
        xt[:, lo:hi] = np.take(x, order[lo:hi], axis=0).T
    if p:
        xt -= xt.mean(axis=1)[:, None]
    return xt.T


def _efron_fracs(ties: str, dead_group: np.ndarray, new_group: np.ndarray, d: np.ndarray) -> np.ndarray:
    if ties == "efron":
        first = np.flatnonzero(new_group)
        k = np.arange(len(dead_group)) - first[dead_group]
        return k / d[dead_group]
    return np.zeros(len(dead_group))


def prepare(x: np.ndarray, stop: np.ndarray, event: np.ndarray, *, start: np.ndarray | None = None,
            strata: np.ndarray | None = None, ties: str = "efron") -> RiskSets:
    """Sort once and precompute the risk-set index structure."""
    if ties not in ("breslow", "efron"):
        raise ValueError(f"ties must be 'breslow' or 'efron', got {ties!r}")
    event = np.asarray(event, dtype=bool)
    stop = np.asarray(stop, dtype=np.float64)
    if start is not None:
        return _prepare_counting(x, stop, event, np.asarray(start, dtype=np.float64), strata, ties)
    n = len(stop)
    # sorted by (stratum asc, time desc): one argsort, then a radix pass on the strata codes
    order = np.argsort(stop)[::-1]
    if strata is not None:
        strata = np.asarray(strata, dtype=np.int64)
        order = order[np.argsort(_small_codes(strata[order]), kind="stable")]
    ts = stop[order]
    strata_s = np.zeros(n, dtype=np.int64) if strata is None else strata[order]
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.not_equal(ts[1:], ts[:-1], out=new[1:])
    if strata is not None:
        new[1:] |= strata_s[1:] != strata_s[:-1]
    cell_start = np.flatnonzero(new)
    n_cells = len(cell_start)
    key_s = np.cumsum(new) - 1          # cell index: ascending = (stratum asc, time desc)
    cell_size = np.diff(np.append(cell_start, n))
    cell_stratum = strata_s[cell_start]
    snew = np.ones(n_cells, dtype=bool)
    snew[1:] = cell_stratum[1:] != cell_stratum[:-1]
    block = np.cumsum(snew) - 1
    block_first = np.flatnonzero(snew)
    cell_first = block_first[block]
    cell_next = np.append(block_first[1:], n_cells)[block]   # first cell of the next stratum

    ev = event[order]
    dead = np.flatnonzero(ev)
    dkey = key_s[dead]
    new_group = np.ones(len(dead), dtype=bool)
    new_group[1:] = dkey[1:] != dkey[:-1]
    dead_group = np.cumsum(new_group) - 1
    gkey = dkey[new_group]
    d = np.bincount(dead_group, minlength=len(gkey)).astype(np.float64)
    cell_lo = np.searchsorted(gkey, np.arange(n_cells), side="left")
    cell_hi = np.searchsorted(gkey, cell_next, side="left")
    cells = Cells(start=cell_start, size=cell_size, first=cell_first, group_cell=gkey, lo=cell_lo,
                  hi=cell_hi, dead_start=np.flatnonzero(new_group))
    xs = _sorted_covariates(x, order)
    frac = _efron_fracs(ties, dead_group, new_group, d)
    first_dead = dead[new_group]
    return RiskSets(
        x=xs, order=order, efron=ties == "efron", dead=dead, dead_group=dead_group, n_groups=len(gkey),
        d=d, group_end=(cell_start + cell_size)[gkey], group_begin=cell_start[cell_first[gkey]],
        entry_order=None, entry_begin=None, entry_end=None,
        row_lo=np.repeat(cell_lo, cell_size), row_hi=np.repeat(cell_hi, cell_size),
        efron_group=dead_group, efron_frac=frac, dead_x_sum=xs.T @ ev.astype(np.float64),
        time_of_group=ts[first_dead], stratum_of_group=strata_s[first_dead], cells=cells,
    )


def _prepare_counting(x, stop, event, start, strata, ties) -> RiskSets:
    """(start, stop] data: risk sets also lose the rows that have not entered yet."""
    n = len(stop)
    strata = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, dtype=np.int64)
    stop_r, start_r, n_t = _rank_times(stop, start)
    # key ascending = (stratum asc, time desc)
    key = strata * (n_t + 1) + (n_t - stop_r)
    order = np.argsort(key, kind="stable")
    key_s = key[order]
    ev = event[order]
    xs = _sorted_covariates(x, order)

    dead = np.flatnonzero(ev)
    dkey = key_s[dead]
    new_group = np.ones(len(dead), dtype=bool)
    new_group[1:] = dkey[1:] != dkey[:-1]
    dead_group = np.cumsum(new_group) - 1
    gkey = dkey[new_group]
    G = len(gkey)
    d = np.bincount(dead_group, minlength=G).astype(np.float64)

    strata_s = strata[order]
    gstrat = strata_s[dead[new_group]]
    # rows at risk at t_g (before removing late entries): positions [stratum start, last row with key <= gkey]
    group_end = np.searchsorted(key_s, gkey, side="right")
    group_begin = np.searchsorted(key_s, gstrat * (n_t + 1), side="left")

    # permutation of the *sorted* rows by (stratum, start desc)
    ekey = strata_s * (n_t + 1) + (n_t - start_r[order])
    entry_order = np.argsort(ekey, kind="stable")
    ekey_s = ekey[entry_order]
    entry_begin = np.searchsorted(ekey_s, gstrat * (n_t + 1), side="left")
    # rows with start >= t_g, i.e. key <= stratum*(n_t+1) + (n_t - t_g)
    entry_end = np.searchsorted(ekey_s, gkey, side="right")

    # groups at which row i is at risk: same stratum, t_g <= stop_i, t_g > start_i.
    # Groups are ordered like gkey (stratum asc, time desc).
    row_lo = np.searchsorted(gkey, key_s, side="left")
    row_hi = np.searchsorted(gkey, ekey, side="left")
    frac = _efron_fracs(ties, dead_group, new_group, d)
    time_rank = n_t - (gkey - gstrat * (n_t + 1))
    all_times = np.unique(np.concatenate([stop, start]))
    return RiskSets(
        x=xs, order=order, efron=ties == "efron", dead=dead,
        dead_group=dead_group, n_groups=G, d=d, group_end=group_end, group_begin=group_begin,
        entry_order=entry_order, entry_begin=entry_begin, entry_end=entry_end,
        row_lo=row_lo, row_hi=row_hi, efron_group=dead_group, efron_frac=frac,
        dead_x_sum=xs[dead].sum(axis=0), time_of_group=all_times[time_rank],
        stratum_of_group=gstrat,
    )


@dataclass(frozen=True)
class Moments:
    loglik: float
    score: np.ndarray          # (p,)
    information: np.ndarray    # (p, p)


def _risk_sums(rs: RiskSets, w: np.ndarray, wx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum of w and w*x over the risk set of every event time."""
    c0 = np.concatenate([[0.0], np.cumsum(w)])
    c1 = np.vstack([np.zeros((1, wx.shape[1])), np.cumsum(wx, axis=0)])
    s0 = c0[rs.group_end] - c0[rs.group_begin]
    s1 = c1[rs.group_end] - c1[rs.group_begin]
    if rs.entry_order is not None:   # remove rows that enter at or after t_g
        we, wxe = w[rs.entry_order], wx[rs.entry_order]
        e0 = np.concatenate([[0.0], np.cumsum(we)])
        e1 = np.vstack([np.zeros((1, wx.shape[1])), np.cumsum(wxe, axis=0)])
        s0 = s0 - (e0[rs.entry_end] - e0[rs.entry_begin])
        s1 = s1 - (e1[rs.entry_end] - e1[rs.entry_begin])
    return s0, s1


def moments(rs: RiskSets, beta: np.ndarray, h: np.ndarray | None = None,
            want_info: bool = True, work: np.ndarray | None = None) -> Moments:
    """Log partial likelihood, score and information at ``beta``.

    With ``h`` (one weight per event time), the score is sum_g h_g (x - mean)
    and the information sum_g h_g V_g; the log-likelihood is unweighted.
    ``work``: an optional (p, n) float64 scratch array reused across calls
    (the Newton loop passes one, so no step allocates n x p memory).
    """
    if rs.cells is not None and h is None:
        return _moments_by_cell(rs, np.asarray(beta, dtype=np.float64), want_info, work)
    return _moments_by_row(rs, beta, h, want_info)


def _moments_by_cell(rs: RiskSets, beta: np.ndarray, want_info: bool, work: np.ndarray | None) -> Moments:
    """Right-censored data: risk-set sums from per-(stratum, time) cell sums.

    Per step each row is touched by: eta = beta'x, w = exp(eta), w x (summed per
    cell), and, for the information, the weight c_i; X' diag(w c) X is computed
    as Y Y' with Y = X' diag(sqrt(w c)) (a symmetric rank-k update, half a GEMM).
    Efron's K per-death terms are folded into per-event-time sums before any
    p x p work, so the p x p work is O(G p^2), not O(K p^2).
    """
    xt, cl, dead = rs.x.T, rs.cells, rs.dead
    eta = beta @ xt
    w = np.exp(eta)
    wxt = np.multiply(xt, w, out=work)
    cw = np.add.reduceat(w, cl.start)
    cwx = np.add.reduceat(wxt, cl.start, axis=1)
    gc, first = cl.group_cell, cl.first[cl.group_cell]
    c0 = np.concatenate([[0.0], np.cumsum(cw)])
    c1 = np.concatenate([np.zeros((cwx.shape[0], 1)), np.cumsum(cwx, axis=1)], axis=1)
    s0 = c0[gc + 1] - c0[first]
    s1 = (c1[:, gc + 1] - c1[:, first]).T          # (G, p)
    eta_dead = float(eta[dead].sum())
    if rs.efron:
        g, frac, ds = rs.dead_group, rs.efron_frac, cl.dead_start
        s0d = np.add.reduceat(w[dead], ds)
        s1d = np.add.reduceat(wxt[:, dead], ds, axis=1).T
        denom = s0[g] - frac * s0d[g]
        inv = 1.0 / denom
        loglik = eta_dead - float(np.log(denom).sum())
        a = np.add.reduceat(inv, ds)
        b = np.add.reduceat(frac * inv, ds)
        score = rs.dead_x_sum - a @ s1 + b @ s1d
    else:
        d = rs.d
        loglik = eta_dead - float(d @ np.log(s0))
        mean = s1 / s0[:, None]
        a, b = d / s0, None
        score = rs.dead_x_sum - d @ mean
    if not want_info:
        return Moments(loglik, score, np.empty((0, 0)))
    if rs.efron:
        # sum_k m_k m_k' with m_k = (s1 - f_k s1d) / denom_k, grouped per event time
        inv2 = inv * inv
        a2, ab, b2 = (np.add.reduceat(v, ds) for v in (inv2, frac * inv2, frac * frac * inv2))
        cross = s1.T @ (ab[:, None] * s1d)
        between = s1.T @ (a2[:, None] * s1) - cross - cross.T + s1d.T @ (b2[:, None] * s1d)
    else:
        between = (mean * d[:, None]).T @ mean
    ca = np.concatenate([[0.0], np.cumsum(a)])
    c = np.repeat(ca[cl.hi] - ca[cl.lo], cl.size)
    if b is not None:   # Efron: the dead rows enter the k-th term with weight (1 - k/d)
        c[dead] -= b[rs.dead_group]
    wc = np.multiply(w, c, out=c)
    np.sqrt(np.maximum(wc, 0.0, out=wc), out=wc)   # c >= 0 exactly; clip rounding noise
    y = np.multiply(xt, wc, out=wxt)
    info = y @ y.T - between
    return Moments(loglik, score, info)


def _moments_by_row(rs: RiskSets, beta: np.ndarray, h: np.ndarray | None, want_info: bool) -> Moments:
    """Any data (also (start, stop] and per-event-time weights ``h``): row-level cumulative sums."""
    x = rs.x
    eta = x @ beta
    w = np.exp(eta)
    wx = x * w[:, None]
    s0, s1 = _risk_sums(rs, w, wx)

    dead_w = w[rs.dead]
    s0d = np.bincount(rs.dead_group, weights=dead_w, minlength=rs.n_groups)
    g, frac = rs.efron_group, rs.efron_frac
    if rs.efron:
        s1d = _group_sum(wx[rs.dead], rs.dead_group, rs.n_groups)
        denom = s0[g] - frac * s0d[g]
        mean = (s1[g] - frac[:, None] * s1d[g]) / denom[:, None]
        hk = None if h is None else h[g]
        loglik = float(eta[rs.dead].sum() - np.log(denom).sum())
        a = np.bincount(g, weights=(1.0 if h is None else hk) / denom, minlength=rs.n_groups)
        b = np.bincount(g, weights=(1.0 if h is None else hk) * frac / denom, minlength=rs.n_groups)
        mean_w = np.ones(len(g)) if h is None else hk
    else:
        mean = s1 / s0[:, None]
        loglik = float(eta[rs.dead].sum() - (rs.d * np.log(s0)).sum())
        hg = rs.d if h is None else rs.d * h
        a = hg / s0
        b = None
        mean_w = hg

    dead_term = rs.dead_x_sum if h is None else h[rs.dead_group] @ x[rs.dead]
    score = dead_term - mean_w @ mean
    if not want_info:
        return Moments(loglik, score, np.empty((0, 0)))

    ca = np.concatenate([[0.0], np.cumsum(a)])
    c = ca[rs.row_hi] - ca[rs.row_lo]
    if b is not None:   # Efron: the dead rows enter the k-th term with weight (1 - k/d)
        c[rs.dead] -= b[rs.dead_group]
    info = (x * (w * c)[:, None]).T @ x - (mean * mean_w[:, None]).T @ mean
    return Moments(loglik, score, info)


def _group_sum(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Row sums of ``values`` within consecutive groups (group ids sorted)."""
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    out = np.zeros((n_groups, values.shape[1]))
    if len(values):
        out[group[starts]] = np.add.reduceat(values, starts, axis=0)
    return out


@dataclass(frozen=True)
class NewtonResult:
    beta: np.ndarray
    moments: Moments           # at beta
    null: Moments              # at beta = 0
    iterations: int
    converged: bool
    last_step: np.ndarray      # Newton step that would follow beta (diverging terms keep it large)


def newton_raphson(rs: RiskSets, p: int, *, max_iter: int = 50, rel_tol: float = 1e-12,
                   step_tol: float = 1e-10, beta0: np.ndarray | None = None) -> NewtonResult:
    """Maximise the partial likelihood by Newton-Raphson with step-halving."""
    beta = np.zeros(p) if beta0 is None else np.asarray(beta0, float).copy()
    work = np.empty(rs.x.T.shape) if rs.cells is not None else None   # one scratch array for every step
    cur = moments(rs, beta, work=work)
    null = cur if beta0 is None else moments(rs, np.zeros(p), work=work)
    converged, it = p == 0, 0
    step = np.zeros(p)
    while not converged and it < max_iter:
        it += 1
        step = _solve(cur.information, cur.score)
        new_beta = beta + step
        new = moments(rs, new_beta, work=work)
        halvings = 0
        # step-halving: never accept a decrease of the log-likelihood
        while (not np.isfinite(new.loglik) or new.loglik < cur.loglik - 1e-12 * abs(cur.loglik)) and halvings < 30:
            step = step / 2
            new_beta = beta + step
            new = moments(rs, new_beta, work=work)
            halvings += 1
        rel = abs(new.loglik - cur.loglik) / max(abs(new.loglik), 1e-300)
        beta, cur = new_beta, new
        converged = rel < rel_tol or np.max(np.abs(step)) < step_tol
    last_step = _solve(cur.information, cur.score) if p else step
    return NewtonResult(beta, cur, null, it, bool(converged), last_step)


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        c = np.linalg.cholesky(a)
        y = np.linalg.solve(c, b)
        return np.linalg.solve(c.T, y)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


class _PrefixRankCounter:
    """Count values below a threshold among rows whose segment is below a bound.

    ``segment`` is a non-decreasing integer per row (e.g. how many risk-set
    boundaries precede it). A merge-sort tree over segments: level l holds the
    rows sorted by value within blocks of 2**l segments, so the rows with
    segment < s are one block per set bit of s and a query costs one
    vectorised searchsorted per level. With heavily tied times there are few
    segments and few levels.
    """

    def __init__(self, values: np.ndarray, segment: np.ndarray):
        values = values.astype(np.int64)
        segment = segment.astype(np.int64)
        n_seg = int(segment[-1]) + 1 if len(segment) else 1
        self.scale = int(values.max()) + 2 if len(values) else 1
        # first row of each segment (and one past the end)
        self.seg_start = np.searchsorted(segment, np.arange(n_seg + 1), side="left")
        self.n_seg = n_seg
        self.levels = []
        for lev in range(int(np.ceil(np.log2(n_seg + 1))) + 1):
            k = (segment >> lev) * self.scale + values
            k.sort(kind="stable")   # blocks of the previous level are sorted runs
            self.levels.append(k)

    def count_below(self, prefix: np.ndarray, value: np.ndarray) -> np.ndarray:
        """#{i : segment[i] < prefix[q], values[i] < value[q]} for every query q."""
        prefix = np.asarray(prefix, dtype=np.int64)
        value = np.asarray(value, dtype=np.int64)
        out = np.zeros(len(prefix), dtype=np.int64)
        for lev, k in enumerate(self.levels):
            hit = np.flatnonzero((prefix >> lev) & 1)
            if not len(hit):
                continue
            block = (prefix[hit] >> lev) - 1
            first = self.seg_start[np.minimum(block << lev, self.n_seg)]
            out[hit] += np.searchsorted(k, block * self.scale + value[hit], side="left") - first
        return out

    def count_range(self, lo: np.ndarray, hi: np.ndarray, value: np.ndarray) -> np.ndarray:
        """#{lo <= segment < hi : values < value}."""
        return self.count_below(hi, value) - self.count_below(lo, value)


def _segments(n: int, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment id per position, and the segment prefix equal to each row-prefix bound."""
    b = np.unique(bounds)
    seg = np.searchsorted(b, np.arange(n), side="right")   # boundaries <= position
    return seg, np.searchsorted(b, bounds, side="left") + 1


def linear_predictor(x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """x @ beta with equal rows giving bit-equal results (concordance counts exact ties).

    BLAS gemv may round a row differently depending on where it falls in a
    SIMD block; one elementwise multiply-add per column rounds every row alike.
    """
    eta = np.zeros(x.shape[0])
    for j, b in enumerate(np.asarray(beta, dtype=np.float64)):
        eta += x[:, j] * b
    return eta


def concordance(rs: RiskSets, eta: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Harrell's C of a Cox linear predictor, as R's ``coxph`` reports it.

    A pair is comparable when one row has an event and the other is still at
    risk at that time (later exit, or censored at the same time); higher risk
    dying first is concordant, equal risk scores count 1/2, pairs of events at
    the same time are not compared. Strata and (start, stop] risk sets are
    respected. The standard error is the infinitesimal-jackknife one:
    var = sum_i U_i^2 with U_i the derivative of C with respect to row i's weight.

    Returns (counts [concordant, discordant, tied_x, tied_y, tied_xy], C, se).
    """
    n = len(eta)
    _, r = np.unique(eta, return_inverse=True)      # exact ties in eta are ties
    r = r.astype(np.int64)
    dead, g = rs.dead, rs.dead_group
    rdead = r[dead]

    # --- each event against the rows at risk at its time -------------------
    # rows at risk at group g: positions [group_begin, group_end) minus, with
    # (start, stop] data, entry-order positions [entry_begin, entry_end)
    seg, pref = _segments(n, np.concatenate([rs.group_begin, rs.group_end]))
    rows = _PrefixRankCounter(r, seg)
    G = rs.n_groups
    lo_seg, hi_seg = pref[:G][g], pref[G:][g]
    if rs.entry_order is not None:
        eseg, epref = _segments(n, np.concatenate([rs.entry_begin, rs.entry_end]))
        entries = _PrefixRankCounter(r[rs.entry_order], eseg)
        elo_seg, ehi_seg = epref[:G][g], epref[G:][g]

    def at_risk_below(v):
        c = rows.count_range(lo_seg, hi_seg, v)
        if rs.entry_order is not None:   # rows not yet entered are not at risk
            c = c - entries.count_range(elo_seg, ehi_seg, v)
        return c

    # deaths, segmented by their event-time group
    dcount = _PrefixRankCounter(rdead, g)
    same_below = dcount.count_range(g, g + 1, rdead)   # deaths of the same group are not compared
    same_le = dcount.count_range(g, g + 1, rdead + 1)
    hi_pos, lo_pos = rs.group_end[g], rs.group_begin[g]
    n_at_risk = (hi_pos - lo_pos) - (0 if rs.entry_order is None else rs.entry_end[g] - rs.entry_begin[g])
    below = at_risk_below(rdead) - same_below
    le = at_risk_below(rdead + 1) - same_le
    ev_conc = below                                   # event has the higher risk score
    ev_tiex = le - below
    ev_disc = (n_at_risk - rs.d[g].astype(np.int64)) - le

    # --- each row as the comparator of the events whose risk set holds it ---
    # groups [row_lo, row_hi) are the event times at which the row is at risk
    ev_below = dcount.count_range(rs.row_lo, rs.row_hi, r)          # events with lower score
    ev_le = dcount.count_range(rs.row_lo, rs.row_hi, r + 1)
    d_lo = np.searchsorted(g, rs.row_lo, side="left")
    d_hi = np.searchsorted(g, rs.row_hi, side="left")
    n_ev = (d_hi - d_lo).astype(np.int64)
    # a dead row is not compared with the other deaths of its own group
    own = np.zeros(n, dtype=np.int64)
    own_below = np.zeros(n, dtype=np.int64)
    own_le = np.zeros(n, dtype=np.int64)
    own[dead] = rs.d[g].astype(np.int64)
    own_below[dead] = same_below
    own_le[dead] = same_le
    cmp_disc = ev_below - own_below                       # event scored lower than this row
    cmp_tiex = (ev_le - own_le) - (ev_below - own_below)
    cmp_conc = (n_ev - own) - (ev_le - own_le)

    conc = float(ev_conc.sum())
    disc = float(ev_disc.sum())
    tiex = float(ev_tiex.sum())
    tied_total = float(((same_le - same_below) - 1).sum()) / 2   # same time, same score
    ty_all = float((rs.d[g] - 1).sum()) / 2
    counts = np.array([conc, disc, tiex, ty_all - tied_total, tied_total])
    m = conc + disc + tiex
    if m == 0:
        return counts, float("nan"), float("nan")
    cstat = (conc + tiex / 2) / m

    # influence of each row's weight on C (pairs it belongs to, as event or comparator)
    dc = cmp_conc.astype(float)
    dd = cmp_disc.astype(float)
    dt = cmp_tiex.astype(float)
    dc[dead] += ev_conc
    dd[dead] += ev_disc
    dt[dead] += ev_tiex
    u = (dc + dt / 2 - cstat * (dc + dd + dt)) / m
    return counts, cstat, float(np.sqrt(np.sum(u**2)))
