"""Lugano 2014 response per imaging time point, and the patient's best/final response from them.

Rules: Cheson BD et al., J Clin Oncol 2014;32:3059-68, Table 3 (as reproduced in
PMC5298348 Table 2 and UpToDate topic 97480 "Lugano criteria for response
assessment in lymphoma"; checked against both).

PET-CT (five-point scale, 5PS/Deauville), one category per time point:

- CMR: score 1, 2 or 3, with or without a residual mass; no FDG-avid marrow disease.
- PMR: score 4 or 5 with uptake reduced from baseline, residual mass(es) of any size;
  marrow uptake above normal but reduced from baseline.
- NMR: score 4 or 5 with no significant change in uptake from baseline; marrow unchanged.
- PMD: score 4 or 5 with increased uptake from baseline, and/or new FDG-avid foci
  consistent with lymphoma, and/or new or recurrent FDG-avid marrow foci.
  A new lesion is PMD whatever the score.

CT, on up to 6 target lesions (longest diameter LDi, perpendicular SDi, product PPD,
sum SPD; a lesion too small to measure is entered 5 x 5 mm, a vanished one 0 x 0):

- CR: every target LDi <= 15 mm, no extralymphatic disease, non-measured lesions absent,
  no new lesion, marrow normal.
- PR: SPD decreased by >= 50% from baseline, no new lesion, no progression elsewhere.
- SD: < 50% decrease and no criterion of PD.
- PD: an individual lesion with LDi > 15 mm, PPD >= 1.5 x its nadir PPD and LDi or SDi
  grown from nadir by >= 5 mm (lesion <= 20 mm) or >= 10 mm (> 20 mm); regrowth of a
  resolved lesion (nadir 0 x 0); new lesion; clear progression of non-measured lesions;
  new or recurrent marrow involvement.

Nadir: the smallest value recorded at baseline or any earlier time point (PPD, LDi and
SDi each their own), so progression is measured from the best point, not from baseline.
PET-CT time points' CT measurements count for the nadir too.

Where the published rule needs data the contract does not carry, we say what we do:

- Spleen length (PR: regression > 50% beyond 13 cm; PD: growth by > 50% of its excess,
  or >= 2 cm without baseline splenomegaly; new splenomegaly) is not a column: a center
  records splenic progression as ``nontarget = progression`` and a residual enlargement
  as ``nontarget = present`` (which rules out CR).
- Nodal versus extranodal targets are not distinguished: CR needs every target LDi <=
  15 mm and ``extranodal_disease`` not "yes" (an extranodal target must then be 0 x 0).
- "LDi or SDi from nadir": the lesion's size class (<= 20 mm or > 20 mm) is its nadir LDi.
- SPD only (``spd_mm2`` without per-lesion diameters): CR needs SPD = 0 and PD falls back
  to SPD >= 1.5 x nadir SPD (the 2007 IWG rule), because Lugano's PD is per lesion.
- A target measured at baseline but missing at a later CT time point makes that time
  point not evaluable for CR/PR/SD (PD can still be shown).
- The PET-CT marrow component and the nodal 5PS component are combined as the worse of
  the two (Lugano advises MRI, biopsy or an interval scan for focal marrow uptake in a
  nodal response; we cannot, so a persistent marrow finding caps the response).
- Deauville X (new uptake unlikely to be lymphoma) gives no score for the lymphoma sites:
  the time point is not evaluable unless new lesions or marrow show PMD.
- Sites of high physiologic uptake (Waldeyer's ring, activated marrow after G-CSF) where
  CMR "may be inferred": the center records the score it concluded.
- Missing ``bone_marrow`` / ``extranodal_disease`` / ``nontarget`` mean "none recorded"
  and do not block CR (a data manager sees the time point's reason in the findings).

Baseline: the row marked ``timepoint = baseline`` (the last one), else the last
assessment on or before the treatment start. Earlier rows are not used (info finding).

Patient level (time points after baseline, up to the start of the next line of therapy):
best response = best of CR > PR > SD > PD (CMR = CR, PMR = PR, NMR = SD, PMD = PD), NE
when no time point is evaluable; progression date = the first PD/PMD time point; final
response = PD when progression was documented at or before the end-of-treatment
assessment (``timepoint = end-of-treatment``; without one, at any time point), else the
last evaluable response up to it.

>>> import pandas as pd
>>> a = pd.DataFrame({"patient_id": ["A", "A", "A"], "modality": ["PET-CT"] * 3,
...                   "date": pd.to_datetime(["2022-01-01", "2022-03-01", "2022-06-01"]),
...                   "timepoint": ["baseline", "interim", "end-of-treatment"],
...                   "deauville": ["5", "4", "2"], "uptake_vs_baseline": [None, "decreased", None]})
>>> timepoint_responses(a)["category"].tolist()
['baseline', 'PMR', 'CMR']
>>> patient_responses(timepoint_responses(a))[["best_response", "final_response"]].iloc[0].tolist()
['CR', 'CR']
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rwestudy.endpoints.common import RANK_RESPONSE, RESPONSE_RANK
from rwestudy.validation.findings import from_mask

TARGETS = range(1, 7)
NORMAL_LDI_MM = 15.0      # CR: target LDi <= 1.5 cm; PD: the lesion must be abnormal, LDi > 1.5 cm
SMALL_LESION_MM = 20.0    # PD growth threshold: 5 mm up to 2 cm, 10 mm above
PET_RESPONSE = {"CMR": "CR", "PMR": "PR", "NMR": "SD", "PMD": "PD"}
_PET_RANK = {"CMR": 0, "PMR": 1, "NMR": 2, "PMD": 3}
_MARROW_PET = {"negative": "CMR", "reduced": "PMR", "positive": "NMR", "new": "PMD"}
_A = "assessments"


def _col(frame: pd.DataFrame, name: str, dtype="object") -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype=dtype)


def _num(frame, name) -> np.ndarray:
    return pd.to_numeric(_col(frame, name), errors="coerce").to_numpy(dtype="float64")


def _yes(frame, name) -> np.ndarray:
    return _col(frame, name).astype("boolean").eq(True).fillna(False).to_numpy()


def _text(frame, name) -> pd.Series:
    return _col(frame, name).astype("string")


def _baseline(a: pd.DataFrame, patients: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """Per row: is it the patient's baseline; is it dated before the baseline (unused)."""
    marked = _text(a, "timepoint").eq("baseline").fillna(False)
    cand = marked.copy()
    if patients is not None and {"patient_id", "treatment_start_date"} <= set(patients.columns):
        start = a["patient_id"].map(patients.dropna(subset=["patient_id"]).drop_duplicates("patient_id")
                                    .set_index("patient_id")["treatment_start_date"])
        has_marked = marked.groupby(a["patient_id"]).transform("any")
        cand = marked | (~has_marked & (a["date"] <= pd.to_datetime(start)).fillna(False))
    # a is sorted by patient and date: the last candidate is the baseline.
    last = a.loc[cand].groupby("patient_id").tail(1)
    is_base = pd.Series(a.index.isin(last.index), index=a.index)
    base_date = a["patient_id"].map(last.set_index("patient_id")["date"])
    before = (a["date"] < base_date).fillna(False) & ~is_base
    return is_base, before


def _running_min_before(values: pd.Series, ids: pd.Series) -> np.ndarray:
    """Smallest value at any earlier row of the same patient (NaN rows skipped)."""
    cm = values.groupby(ids.to_numpy()).cummin()
    cm = cm.groupby(ids.to_numpy()).ffill()
    return cm.groupby(ids.to_numpy()).shift(1).to_numpy(dtype="float64")


def timepoint_responses(assessments: pd.DataFrame, patients: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per usable assessments row (its index kept), sorted by patient and date.

    Columns: patient_id, date, modality, timepoint, baseline, before_baseline, evaluated,
    spd, baseline_spd, nadir_spd, category (CMR/PMR/NMR/PMD, CR/PR/SD/PD, NE, baseline or
    not-used), response (CR/PR/SD/PD/NE, NA when not evaluated), reason, reason_column.
    """
    a = assessments.loc[assessments["patient_id"].notna() & pd.to_datetime(assessments["date"]).notna()]
    a = a.assign(date=pd.to_datetime(a["date"]))
    a = a.sort_values(["patient_id", "date"], kind="stable")
    ids = a["patient_id"]
    is_base, before = _baseline(a, patients)
    used = ~before.to_numpy()
    n = len(a)

    ldi = np.column_stack([_num(a, f"target{k}_ldi_mm") for k in TARGETS]) if n else np.empty((0, 6))
    sdi = np.column_stack([_num(a, f"target{k}_sdi_mm") for k in TARGETS]) if n else np.empty((0, 6))
    ppd = ldi * sdi
    has_lesions = ~np.isnan(ldi).all(axis=1)
    spd = np.where(has_lesions, np.nansum(np.where(np.isnan(ppd), 0, ppd), axis=1), _num(a, "spd_mm2"))

    # Nadirs over baseline and later rows only (earlier staging scans are not the reference).
    u_ids = ids.where(used)
    nadir = {}
    for name, mat in (("ppd", ppd), ("ldi", ldi), ("sdi", sdi)):
        nadir[name] = np.column_stack([_running_min_before(pd.Series(np.where(used, mat[:, j], np.nan),
                                                                      index=a.index), u_ids)
                                       for j in range(6)]) if n else np.empty((0, 6))
    nadir_spd = _running_min_before(pd.Series(np.where(used, spd, np.nan), index=a.index), u_ids)
    base_idx = is_base.to_numpy()
    base_frame = pd.DataFrame({"patient_id": ids.to_numpy()[base_idx], "spd": spd[base_idx]})
    base_spd = ids.map(base_frame.set_index("patient_id")["spd"]).to_numpy(dtype="float64")
    base_measured = np.zeros_like(ldi, dtype=bool)
    if base_idx.any():
        lookup = pd.DataFrame(~np.isnan(ldi[base_idx]), index=ids.to_numpy()[base_idx])
        base_measured = lookup.reindex(ids.to_numpy()).fillna(False).to_numpy(dtype=bool)

    new = _yes(a, "new_lesions")
    marrow = _text(a, "bone_marrow")
    marrow_new = marrow.eq("new").fillna(False).to_numpy()
    nontarget = _text(a, "nontarget")
    modality = _text(a, "modality")
    pet = modality.eq("PET-CT").fillna(False).to_numpy()
    ct = modality.eq("CT").fillna(False).to_numpy()

    # ---- CT --------------------------------------------------------------------------
    with np.errstate(invalid="ignore"):
        thr = np.where(nadir["ldi"] <= SMALL_LESION_MM, 5.0, 10.0)
        grown = ((ldi > NORMAL_LDI_MM) & (ppd >= 1.5 * nadir["ppd"]) & (ppd > nadir["ppd"])
                 & ((ldi - nadir["ldi"] >= thr) | (sdi - nadir["sdi"] >= thr)))
        regrown = (nadir["ppd"] == 0) & (ppd > 0)
        lesion_pd = (grown | regrown).any(axis=1)
        spd_pd = ~has_lesions & (spd >= 1.5 * nadir_spd) & (spd > nadir_spd)
        missing_target = (base_measured & np.isnan(ldi)).any(axis=1) & has_lesions
        all_small = has_lesions & ~(ldi > NORMAL_LDI_MM).any(axis=1) & ~missing_target
        cr_size = np.where(has_lesions, all_small, spd == 0)
        halved = (base_spd > 0) & (spd <= 0.5 * base_spd) & ~missing_target
        sized = ~np.isnan(spd) & (base_spd > 0) & ~missing_target
    nt_prog = nontarget.eq("progression").fillna(False).to_numpy()
    nt_clear = nontarget.isna().to_numpy() | nontarget.eq("absent").fillna(False).to_numpy()
    marrow_clear = marrow.isna().to_numpy() | marrow.eq("negative").fillna(False).to_numpy()
    extranodal = _yes(a, "extranodal_disease")
    ct_pd = lesion_pd | spd_pd | new | nt_prog | marrow_new
    ct_cr = cr_size & ~extranodal & nt_clear & marrow_clear
    ct_conditions = [ct_pd, ct_cr, halved, sized]
    ct_category = np.select(ct_conditions, ["PD", "CR", "PR", "SD"], "NE")
    ct_reason = np.select(
        [new, marrow_new, nt_prog, lesion_pd, spd_pd, ct_cr, halved, sized, missing_target,
         np.isnan(spd), True],
        ["new lesion", "new or recurrent marrow involvement", "non-measured lesions progressed",
         "a target lesion grew from its nadir (LDi > 15 mm, PPD +50%, LDi/SDi +5/10 mm) or regrew",
         "SPD grew by 50% from its nadir (SPD only: 2007 rule)",
         "every target LDi <= 15 mm, no other disease", "SPD down by >= 50% from baseline",
         "SPD down by < 50% from baseline", "a target lesion measured at baseline is missing here",
         "no target lesion measurements and no spd_mm2", "no baseline SPD to compare with"], "")
    ct_reason_col = np.select([ct_pd, missing_target | np.isnan(spd) | ~sized], [None, "target1_ldi_mm"], None)

    # ---- PET-CT ----------------------------------------------------------------------
    score = _text(a, "deauville").str.upper()
    uptake = _text(a, "uptake_vs_baseline")
    low = score.isin(["1", "2", "3"]).fillna(False).to_numpy()
    high = score.isin(["4", "5"]).fillna(False).to_numpy()
    up = {k: uptake.eq(k).fillna(False).to_numpy() for k in ("decreased", "unchanged", "increased")}
    nodal = np.select([low, high & up["decreased"], high & up["unchanged"], high & up["increased"]],
                      ["CMR", "PMR", "NMR", "PMD"], "NE")
    marrow_cat = marrow.map(_MARROW_PET).fillna("CMR").to_numpy(dtype=object)
    pmd = new | marrow_new | (nodal == "PMD")
    worse = np.where(pd.Series(marrow_cat).map(_PET_RANK).to_numpy() > pd.Series(nodal).map(_PET_RANK)
                     .fillna(-1).to_numpy(), marrow_cat, nodal)
    pet_category = np.select([pmd, nodal == "NE"], ["PMD", "NE"], worse)
    x = score.eq("X").fillna(False).to_numpy()
    pet_reason = np.select(
        [new, marrow_new, nodal == "PMD", x, high & ~uptake.notna().to_numpy(), nodal == "NE",
         (marrow_cat != "CMR") & (worse == marrow_cat) & (nodal != marrow_cat), True],
        ["new FDG-avid lesion", "new or recurrent FDG-avid marrow foci", "Deauville 4-5 with uptake increased",
         "Deauville X scores no lymphoma site", "Deauville 4-5 needs uptake_vs_baseline",
         "no Deauville score", "marrow uptake caps the response",
         "Deauville " + score.fillna("?").to_numpy(dtype=object) + " " + uptake.fillna("").to_numpy(dtype=object)],
        "")
    pet_reason_col = np.select([pmd, x | (nodal == "NE") & ~high, high & (nodal == "NE")],
                               [None, "deauville", "uptake_vs_baseline"], None)

    evaluated = used & ~base_idx
    category = np.select([before.to_numpy(), base_idx, pet, ct], ["not-used", "baseline", pet_category, ct_category],
                         "NE")
    reason = np.select([before.to_numpy(), base_idx, pet, ct],
                       ["dated before the baseline", "baseline", pet_reason, ct_reason], "modality missing")
    reason_col = np.select([pet, ct], [pet_reason_col, ct_reason_col], "modality")
    response = pd.Series(category, index=a.index).map(lambda c: PET_RESPONSE.get(c, c))
    response = response.where(evaluated, pd.NA).astype("string")
    return pd.DataFrame({
        "patient_id": ids, "date": a["date"], "modality": modality, "timepoint": _text(a, "timepoint"),
        "baseline": base_idx, "before_baseline": before.to_numpy(), "evaluated": evaluated,
        "spd": spd, "baseline_spd": base_spd, "nadir_spd": nadir_spd,
        "category": category, "response": response, "reason": reason,
        "reason_column": pd.Series(reason_col, index=a.index).where(evaluated & (category == "NE"), None),
    }, index=a.index)


def patient_responses(tp: pd.DataFrame, patients: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per patient with assessments: best_response, final_response, progression_date, best_date.

    Time points up to the next line of therapy (``patients.next_treatment_date``) only; a scan
    on the day the next line starts is the one that led to it, so it counts for this line.
    """
    window = tp.loc[tp["evaluated"]]
    if patients is not None and "next_treatment_date" in patients.columns:
        nxt = window["patient_id"].map(patients.dropna(subset=["patient_id"]).drop_duplicates("patient_id")
                                       .set_index("patient_id")["next_treatment_date"])
        window = window.loc[(nxt.isna() | (window["date"] <= pd.to_datetime(nxt))).to_numpy()]
    ids = pd.Index(tp["patient_id"].unique(), name="patient_id")
    rank = window["response"].map(RESPONSE_RANK)
    known = window.loc[rank.lt(RESPONSE_RANK["NE"]).fillna(False).to_numpy()].assign(_rank=rank)
    best_rank = known.groupby("patient_id")["_rank"].min()
    best = best_rank.map(RANK_RESPONSE).reindex(ids).fillna("NE")
    best_date = known.loc[known["_rank"].eq(known["patient_id"].map(best_rank))].groupby("patient_id")["date"].min()
    progression = known.loc[known["response"].eq("PD")].groupby("patient_id")["date"].min()
    eot = window.loc[window["timepoint"].eq("end-of-treatment").fillna(False)].groupby("patient_id")["date"].min()
    cut = known["patient_id"].map(eot)
    upto = known.loc[(cut.isna() | (known["date"] <= cut)).to_numpy()]
    last = upto.groupby("patient_id")["response"].last()
    any_pd = upto["response"].eq("PD").groupby(upto["patient_id"]).any()
    final = last.where(~any_pd.reindex(last.index).fillna(False), "PD").reindex(ids).fillna("NE")
    return pd.DataFrame({"best_response": best.astype("string"), "final_response": final.astype("string"),
                         "progression_date": progression.reindex(ids), "best_date": best_date.reindex(ids),
                         "end_of_treatment_date": eot.reindex(ids)}, index=ids).reset_index()


def _fmt(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.strftime("%Y-%m-%d").fillna("none").astype(str)


def check_lugano(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """Findings: time points that cannot be classified, and every disagreement between the
    Lugano 2014 response derived from `assessments` and the investigator's recorded
    best/final response, progression date and `responses` rows."""
    a, patients = tables.get(_A), tables.get("patients")
    if a is None or patients is None or not {"patient_id", "date", "modality"} <= set(a.columns) or a.empty:
        return []
    tp = timepoint_responses(a, patients)
    out = []
    rows = a.loc[tp.index].assign(_reason=tp["reason"], _col=tp["reason_column"])
    ne = tp["evaluated"] & tp["category"].eq("NE")
    for col, part in rows.loc[ne.to_numpy()].groupby(rows.loc[ne.to_numpy(), "_col"].fillna("modality")):
        out.append(from_mask(part, pd.Series(True, index=part.index), severity="warning",
                             rule="lugano-not-evaluable", table=_A, column=col,
                             message=lambda s: "this time point cannot be classified by Lugano 2014: "
                             + s["_reason"].astype(str)))
    out.append(from_mask(rows, tp["before_baseline"], severity="info", rule="lugano-before-baseline", table=_A,
                         column="date", message="dated before the patient's baseline assessment; not used "
                         "for the Lugano response (mark the right row timepoint = baseline if this is it)"))
    derived = patient_responses(tp, patients).set_index("patient_id")
    pat = patients.loc[patients["patient_id"].isin(derived.index)]
    d = derived.reindex(pat["patient_id"].to_numpy())
    d.index = pat.index
    frame = pat.assign(_best=d["best_response"], _final=d["final_response"], _prog=d["progression_date"],
                       _best_date=_fmt(d["best_date"]))
    for column, mine, extra in (("best_response", "_best", " (first on " + frame["_best_date"] + ")"),
                                ("final_response", "_final", "")):
        if column not in frame.columns:
            continue
        given = frame[column].astype("string")
        bad = given.ne(frame[mine]).fillna(True) & ~(given.isna() & frame[mine].isna())
        out.append(from_mask(frame.assign(_extra=extra), bad, severity="warning",
                             rule=f"lugano-{column.replace('_', '-')}-mismatch", table="patients", column=column,
                             message=lambda s, c=column, m=mine: c + " is " + s[c].astype("string").fillna("empty")
                             + " but the Lugano 2014 time points in assessments give " + s[m].astype(str)
                             + s["_extra"].astype(str) + "; correct one or the other"))
    if "progression_date" in frame.columns:
        given = pd.to_datetime(frame["progression_date"])
        bad = ~((given.isna() & frame["_prog"].isna()) | given.eq(frame["_prog"]).fillna(False))
        out.append(from_mask(frame.assign(_p=_fmt(frame["_prog"])), bad, severity="warning",
                             rule="lugano-progression-date-mismatch", table="patients", column="progression_date",
                             message=lambda s: "progression_date is " + _fmt(s["progression_date"])
                             + " but the first PD/PMD time point in assessments is " + s["_p"]))
    resp = tables.get("responses")
    ev = tp.loc[tp["evaluated"], ["patient_id", "date", "response", "category"]].drop_duplicates(
        ["patient_id", "date"])
    if resp is not None and {"patient_id", "date", "response"} <= set(resp.columns) and len(ev):
        key = pd.MultiIndex.from_frame(ev[["patient_id", "date"]])
        rkey = pd.MultiIndex.from_arrays([resp["patient_id"], pd.to_datetime(resp["date"])])
        pos = key.get_indexer(rkey)
        hit = pos >= 0
        mine = pd.Series(np.where(hit, ev["response"].to_numpy(dtype=object)[pos], None), index=resp.index)
        cat = pd.Series(np.where(hit, ev["category"].to_numpy(dtype=object)[pos], None), index=resp.index)
        bad = pd.Series(hit, index=resp.index) & resp["response"].astype("string").ne(mine.astype("string")).fillna(False)
        out.append(from_mask(resp.assign(_m=mine, _c=cat), bad, severity="warning", rule="lugano-response-mismatch",
                             table="responses", column="response",
                             message=lambda s: "response " + s["response"].astype(str)
                             + " disagrees with the Lugano 2014 time point of the same date in assessments ("
                             + s["_c"].astype(str) + ")"))
    return out
