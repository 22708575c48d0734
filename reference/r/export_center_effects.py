"""Write the demo study's multivariate Cox frames (time, event, center, covariates) for
reference/r/center_effects.R.  Run from the repo root:

    .venv/bin/python reference/r/export_center_effects.py && Rscript reference/r/center_effects.R

The frame is the analysis' input (derived endpoints of the demo); R computes every expected
number from it. tests/test_center_effects_vs_r.py checks the analysis still builds this frame.
"""
import warnings

import rwestudy
from rwestudy.analysis.run import analyze
from rwestudy.demo.generator import make_study
from rwestudy.io.writers import write_csv_folder
import tempfile

with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
    warnings.simplefilter("ignore")
    study = rwestudy.load_study(write_csv_folder(make_study(), f"{tmp}/csv"))
    results = analyze(study)
ep = results.endpoints
centers = ep.patients.set_index("patient_id")["center"]
cox = results.table("cox")
for e in ("OS", "PFS"):
    chosen = sorted(set(cox.loc[(cox["endpoint"] == e) & (cox["model"] == "multivariate"), "variable"]))
    d = ep.endpoint(e)[["patient_id", "time", "event"]].copy()
    p = ep.patients.set_index("patient_id")
    for f in chosen:
        v = d["patient_id"].map(p[f])
        d[f] = (v == "M").astype(int) if f == "sex" else v.astype("Float64").astype(float)
    d["center"] = d["patient_id"].map(centers)
    d.drop(columns="patient_id").to_csv(f"tests/fixtures/r/data/center_effects_{e}.csv", index=False,
                                        float_format="%.17g")
    print(e, chosen, len(d))
