"""The Kaplan-Meier / log-rank cell kernel (issue 17): every path gives the hand-counted table.

risk_cells has three ways to the same (block, time) table: a counting sort
for whole-number times, a value sort of packed (time, event) keys, and an
argsort for many subsets. The oracle is a plain Python count over the rows.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from rwestudy.stats import _km_kernel as kern
from rwestudy.stats.group_tests import compare_survival
from rwestudy.stats.survival import kaplan_meier


def _counted(time, event, block, col, n_cols):
    """(block, time) -> per-column [at, events, at risk], counted row by row."""
    at, ev = Counter(), Counter()
    for t, e, b, c in zip(time, event, block, col):
        at[(b, t, c)] += 1
        ev[(b, t, c)] += e
    cells = sorted({(b, t) for b, t, _ in at})
    out = {}
    for b, t in cells:
        risk = [sum(k for (bb, tt, cc), k in at.items() if bb == b and tt >= t and cc == c) for c in range(n_cols)]
        out[(b, t)] = ([at[(b, t, c)] for c in range(n_cols)], [ev[(b, t, c)] for c in range(n_cols)], risk)
    return out


def _assert_matches(cells, expected):
    got = {(int(b), float(t)): (list(a), list(e), list(r))
           for b, t, a, e, r in zip(cells.block, cells.time, cells.n_at, cells.n_event, cells.n_risk)}
    assert list(got) == list(expected)           # same cells, in block-then-time order
    for key, (a, e, r) in expected.items():
        assert got[key] == (a, e, r), key


def _data(n, n_blocks, n_cols, whole, seed):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 12, n).astype(float)
    if not whole:
        t = t / 7.0          # tied, but not whole numbers
    e = (rng.random(n) < 0.6).astype(float)
    return t, e, rng.integers(0, n_blocks, n), rng.integers(0, n_cols, n)


@pytest.mark.parametrize("whole", [True, False], ids=["whole-days", "fractional"])
@pytest.mark.parametrize("n_blocks,n_cols", [(1, 1), (1, 2), (2, 2), (3, 3), (1, 7), (4, 5)])
def test_every_path_gives_the_hand_counted_cells(whole, n_blocks, n_cols):
    # (1,1) one subset; (1,2)/(2,2) masked subsets; (3,3)/(1,7)/(4,5) the radix-grouped subsets
    t, e, b, c = _data(300, n_blocks, n_cols, whole, seed=n_blocks * 10 + n_cols)
    cells = kern.risk_cells(t, e, b if n_blocks > 1 else None, c if n_cols > 1 else None, n_cols)
    _assert_matches(cells, _counted(t, e, b if n_blocks > 1 else [0] * len(t), c if n_cols > 1 else [0] * len(t), n_cols))


def test_argsort_fallback_gives_the_same_cells(monkeypatch):
    t, e, b, c = _data(300, 3, 3, whole=False, seed=7)
    monkeypatch.setattr(kern, "MAX_KEY_SORT_SUBSETS", 0)   # force the many-subsets path
    _assert_matches(kern.risk_cells(t, e, b, c, 3), _counted(t, e, b, c, 3))


def test_minus_zero_ties_with_zero_and_event_order_within_a_time():
    # -0.0 passes the ">= 0" check; it must share the cell of 0.0 (as == does)
    t = np.array([0.5, -0.0, 0.0, 0.5, 0.25])
    e = np.array([1.0, 1.0, 0.0, 0.0, 1.0])
    cells = kern.risk_cells(t, e)
    assert cells.time.tolist() == [0.0, 0.25, 0.5]
    assert cells.n_at[:, 0].tolist() == [2, 1, 2]
    assert cells.n_event[:, 0].tolist() == [1, 1, 1]
    assert cells.n_risk[:, 0].tolist() == [5, 3, 2]


def test_packed_keys_sort_like_time_then_event():
    rng = np.random.default_rng(3)
    t = np.concatenate([rng.random(50) * 1e6, [0.0, 5e-324, 1e300, 1.0, 1.0]])
    e = rng.integers(0, 2, t.size).astype(float)
    keys = np.sort(kern._time_event_keys(t, e))
    pairs = sorted(zip(t.tolist(), e.tolist()))
    assert (keys >> np.uint64(1)).view(np.float64).tolist() == [p[0] for p in pairs]
    assert (keys & np.uint64(1)).tolist() == [int(p[1]) for p in pairs]


def test_small_range_integer_groups_keep_their_values_as_levels():
    s = pd.Series([5, -3, 5, 12, -3, 12, 12])
    codes, levels = kern.factor_codes(s)
    assert levels == [-3, 5, 12]
    assert codes.tolist() == [1, 0, 1, 2, 0, 2, 2]
    codes, levels = kern.factor_codes(pd.Series([0, 10**12, 0]))   # wide range: hash path
    assert levels == [0, 10**12] and codes.tolist() == [0, 1, 0]


def test_integer_and_string_arms_give_the_same_test():
    t, e, _, c = _data(200, 1, 2, whole=False, seed=11)
    df = pd.DataFrame({"t": t, "d": e.astype(int), "arm": c, "arm_s": np.where(c == 1, "b", "a")})
    by_int = compare_survival(df, "t", "d", "arm", test="gehan")
    by_str = compare_survival(df, "t", "d", "arm_s", test="gehan")
    assert by_int.table["group"].tolist() == [0, 1]
    assert by_int.statistic == pytest.approx(by_str.statistic, rel=1e-14)


@pytest.mark.parametrize("values,message", [
    ([1, 2], "1 row\\(s\\) have 'd' not coded 0/1"),       # integer column, out of range
    ([1, -1], "1 row\\(s\\) have 'd' not coded 0/1"),
    ([1.0, 0.5], "1 row\\(s\\) have 'd' not coded 0/1"),   # float column, not whole
])
def test_bad_event_codes_are_counted(values, message):
    with pytest.raises(ValueError, match=message):
        kaplan_meier(pd.DataFrame({"t": [1.0, 2.0], "d": values}), "t", "d")


@pytest.mark.parametrize("times,message", [
    ([1.0, np.inf, np.inf], "2 row\\(s\\) have an infinite 't'"),
    ([1.0, -2.0, -0.5], "2 row\\(s\\) have a negative 't'"),
    ([1.0, np.nan, 3.0], "1 row\\(s\\) have a missing 't'"),
])
def test_bad_times_are_counted(times, message):
    with pytest.raises(ValueError, match=message):
        kaplan_meier(pd.DataFrame({"t": times, "d": [1, 0, 1]}), "t", "d")


def test_km_on_fractional_times_by_hand():
    # months = days / 30.4375 takes the packed-key path; the curve is the hand-worked one
    df = pd.DataFrame({"t": np.array([30, 30, 61, 91, 91, 122]) / 30.4375, "d": [1, 0, 1, 1, 1, 0]})
    tab = kaplan_meier(df, "t", "d", conf_type="log").table
    assert tab["n_risk"].tolist() == [6, 4, 3, 1]
    # S = 5/6, 5/6 * 3/4, * 1/3, * 1 (censored only)
    np.testing.assert_allclose(tab["surv"], [5 / 6, 5 / 8, 5 / 24, 5 / 24], rtol=1e-14)
