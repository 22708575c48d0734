"""The patient flow: in, excluded (one line per reason), analysed, for every scope.

Scopes: ``study`` (rows of `patients` -> study patients), each endpoint (study
patients -> analysed), and each child table (rows -> rows used). Each scope
balances: in == excluded + analysed (`flow_summary` checks it).

>>> import pandas as pd
>>> excl = pd.DataFrame({"endpoint": ["OS"], "patient_id": ["B"], "table": ["patients"],
...                      "source_row": [3], "reason": ["missing treatment_start_date"]})
>>> flow = patient_flow([("OS", 2, 1)], excl)
>>> flow_summary(flow)[["scope", "n_in", "n_excluded", "n_analysed", "balanced"]].to_dict("records")
[{'scope': 'OS', 'n_in': 2, 'n_excluded': 1, 'n_analysed': 1, 'balanced': True}]
"""
from __future__ import annotations

import pandas as pd

FLOW_COLUMNS = ["scope", "step", "reason", "n"]


def patient_flow(scopes: list[tuple[str, int, int]], exclusions: pd.DataFrame) -> pd.DataFrame:
    """Long flow table from (scope, n_in, n_analysed) triples and the exclusion records."""
    counts = (exclusions.groupby(["endpoint", "reason"], sort=False).size()
              if len(exclusions) else pd.Series(dtype="int64"))
    rows = []
    for scope, n_in, n_analysed in scopes:
        rows.append((scope, "in", "", n_in))
        if len(exclusions) and scope in counts.index.get_level_values(0):
            for reason, n in counts.loc[scope].items():
                rows.append((scope, "excluded", reason, int(n)))
        rows.append((scope, "analysed", "", n_analysed))
    flow = pd.DataFrame(rows, columns=FLOW_COLUMNS)
    flow["n"] = flow["n"].astype("int64")
    return flow


def flow_summary(flow: pd.DataFrame) -> pd.DataFrame:
    """One row per scope: n_in, n_excluded, n_analysed and whether they balance."""
    wide = flow.pivot_table(index="scope", columns="step", values="n", aggfunc="sum", sort=False)
    wide = wide.reindex(columns=["in", "excluded", "analysed"]).fillna(0).astype("int64")
    out = pd.DataFrame({"scope": wide.index, "n_in": wide["in"].to_numpy(),
                        "n_excluded": wide["excluded"].to_numpy(), "n_analysed": wide["analysed"].to_numpy()})
    out["balanced"] = out["n_in"] == out["n_excluded"] + out["n_analysed"]
    return out
