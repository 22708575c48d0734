"""Per-gene mutation frequencies, and OS/PFS of mutated vs wild-type patients per gene
(log-rank, Benjamini-Hochberg q-values across the genes tested for each endpoint).

The denominator is the patients tested (sequenced), not only those with a variant: a
tested patient without a kept variant in a gene is wild-type for it. A gene is tested
when at least `MIN_MUTATED` tested patients with the endpoint carry it and at least as
many do not; each row states n and events in both groups.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rwestudy.stats.group_tests import compare_survival

MIN_MUTATED = 3


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (R's ``p.adjust(p, "BH")``); NaN stays NaN, outside the count."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    n = int(ok.sum())
    if n == 0:
        return q
    order = np.argsort(p[ok], kind="stable")
    ranked = p[ok][order] * n / np.arange(1, n + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(ranked, 1.0)
    q[ok] = out
    return q


def gene_frequencies(mutations: pd.DataFrame, tested: list[str]) -> pd.DataFrame:
    """gene, n_mutated, n_tested, percent, and the count of each alteration class; most frequent first."""
    m = mutations[mutations["patient_id"].isin(tested)]
    n = max(len(set(tested)), 1)
    per = m.groupby("gene")["patient_id"].nunique().rename("n_mutated")
    classes = m.pivot_table(index="gene", columns="alteration", values="patient_id", aggfunc="nunique",
                            fill_value=0)
    out = pd.concat([per, classes], axis=1).fillna(0).reset_index().rename(columns={"index": "gene"})
    out.insert(2, "n_tested", len(set(tested)))
    out.insert(3, "percent", 100.0 * out["n_mutated"] / n)
    return out.sort_values(["n_mutated", "gene"], ascending=[False, True], kind="stable").reset_index(drop=True)


def survival_by_gene(mutations: pd.DataFrame, survival: pd.DataFrame, tested: list[str],
                     endpoints=("OS", "PFS"), min_mutated: int = MIN_MUTATED) -> pd.DataFrame:
    """One row per endpoint and gene tested: n and events per group, log-rank p, BH q (per endpoint)."""
    rows = []
    tested = set(tested)
    for ep in endpoints:
        s = survival[(survival["endpoint"] == ep) & survival["patient_id"].isin(tested)].dropna(
            subset=["time", "event"]).drop_duplicates("patient_id")
        if s.empty:
            continue
        part = []
        for gene, g in mutations.groupby("gene", sort=True):
            mutated = s["patient_id"].isin(set(g["patient_id"]))
            n_mut, n_wt = int(mutated.sum()), int((~mutated).sum())
            row = {"endpoint": ep, "gene": gene, "n_mutated": n_mut, "events_mutated": int(s.loc[mutated, "event"].sum()),
                   "n_wild_type": n_wt, "events_wild_type": int(s.loc[~mutated, "event"].sum()),
                   "logrank_p": np.nan, "q_bh": np.nan, "tested": False}
            if n_mut >= min_mutated and n_wt >= min_mutated and s["event"].sum() > 0:
                df = s.assign(group=np.where(mutated, "mutated", "wild-type"))
                row["logrank_p"] = compare_survival(df, "time", "event", "group", test="logrank").p
                row["tested"] = True
            part.append(row)
        frame = pd.DataFrame(part)
        frame["q_bh"] = benjamini_hochberg(frame["logrank_p"].where(frame["tested"]))
        rows.append(frame)
    cols = ["endpoint", "gene", "n_mutated", "events_mutated", "n_wild_type", "events_wild_type", "logrank_p",
            "q_bh", "tested"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)
