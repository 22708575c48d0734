"""A seeded synthetic relapsed/refractory DLBCL study in the canonical format.

Made by code from plausible clinical relations, not copied from any paper:
refractory, bulky, high-LDH, poor-ECOG and double-hit patients respond less
and progress sooner; responders (CR most of all) live longer; adverse events
are mostly hematologic and lenalidomide-related; a few patients die of
infection (grade 5). Everything is vectorised so the same generator makes the
1,000,000-patient benchmark study.

>>> from rwestudy.demo.generator import make_study
>>> tables = make_study(n_patients=50, seed=1)
>>> sorted(tables)
['adverse_events', 'assessments', 'mutations', 'patients', 'prior_lines', 'responses', 'subsequent_therapies', 'treatment']
"""
from __future__ import annotations
from rwestudy.core.defaults import DAYS_PER_MONTH

import numpy as np
import pandas as pd

CUTOFF = pd.Timestamp("2025-06-30")
ACCRUAL_START = pd.Timestamp("2021-06-01")
ACCRUAL_END = pd.Timestamp("2024-06-30")
RESPONSES = np.array(["CR", "PR", "SD", "PD", "NE"])

_HEME = [("Neutrophil count decreased", 0.52), ("Platelet count decreased", 0.30), ("Anemia", 0.30),
         ("Febrile neutropenia", 0.07), ("White blood cell decreased", 0.10)]
_EXTRA = [("Fatigue", 0.18), ("Diarrhea", 0.14), ("Rash maculo-papular", 0.10), ("Lung infection", 0.10),
          ("Fever", 0.08), ("Edema limbs", 0.06), ("Infusion related reaction", 0.05),
          ("Upper respiratory infection", 0.06), ("Muscle cramp", 0.05), ("Thromboembolic event", 0.03)]
# CTCAE v5.0 defines no grade 1 (or 2) for these terms.
_GRADE_RANGE = {"Febrile neutropenia": (3, 4), "Lung infection": (2, 4), "Upper respiratory infection": (2, 3)}
_GENES = ["MYD88", "CD79B", "TP53", "KMT2D", "CREBBP", "EZH2", "BCL2", "PIM1", "TNFAIP3", "B2M", "CARD11", "NOTCH2"]
_ALTERATIONS = np.array(["missense", "truncating", "amplification", "deletion", "fusion", "other"])
_LINE1 = np.array(["R-CHOP", "R-CHOP", "R-CHOP", "mini-R-CHOP", "R-COMP", "DA-EPOCH-R"])
_LATER = np.array(["R-GemOx", "R-DHAP", "R-ICE", "R-pola-bendamustine", "R-bendamustine", "R-GDP"])
_NEXT = np.array(["R-GemOx", "glofitamab", "epcoritamab", "CAR-T axi-cel", "R-pola-bendamustine", "palliative RT"])


def _days(x) -> pd.TimedeltaIndex:
    return pd.to_timedelta(np.round(np.asarray(x, dtype="float64")), unit="D")


def _date_or_nat(base: pd.Series | pd.DatetimeIndex, days, keep) -> pd.Series:
    out = pd.Series(pd.DatetimeIndex(base) + _days(np.where(keep, days, 0)))
    return out.where(np.asarray(keep, dtype=bool))


def _yesno(mask) -> np.ndarray:
    return np.where(mask, "yes", "no")


def make_study(n_patients: int = 96, n_centers: int = 26, seed: int = 20240611) -> dict[str, pd.DataFrame]:
    """Return the study as canonical tables (dates as ``datetime64``)."""
    rng = np.random.default_rng(seed)
    n = int(n_patients)
    if n < 1:
        raise ValueError("n_patients must be at least 1")
    n_centers = max(1, min(int(n_centers), n))
    pid = np.char.add("RW-", np.char.zfill(np.arange(1, n + 1).astype(str), max(3, len(str(n)))))
    # Center sizes are skewed (a few large hubs), every center has >= 1 patient.
    weights = rng.dirichlet(np.full(n_centers, 0.8))
    center_idx = np.concatenate([np.arange(n_centers), rng.choice(n_centers, n - n_centers, p=weights)])
    rng.shuffle(center_idx)
    center = np.char.add("C", np.char.zfill((center_idx + 1).astype(str), 2))

    start = ACCRUAL_START + _days(rng.uniform(0, (ACCRUAL_END - ACCRUAL_START).days, n))
    age_start = np.clip(rng.normal(73.5, 8.5, n), 41, 91)
    dx_to_start_m = np.clip(rng.lognormal(np.log(22), 0.75, n), 4, 180)
    diagnosis = start - _days(dx_to_start_m * DAYS_PER_MONTH)
    birth = start - _days(age_start * 365.25 + rng.uniform(-100, 100, n))

    sex = np.where(rng.random(n) < 0.58, "M", "F")
    hist = rng.choice(["DLBCL", "HGBL", "tFL", "PMBL", "other"], n, p=[0.80, 0.07, 0.09, 0.01, 0.03])
    double_hit = (hist == "HGBL") | (rng.random(n) < 0.02)
    coo = rng.choice(["GCB", "non-GCB", "unknown"], n, p=[0.42, 0.43, 0.15])
    stage = rng.choice([1, 2, 3, 4], n, p=[0.05, 0.12, 0.23, 0.60])
    ecog = rng.choice([0, 1, 2, 3], n, p=[0.25, 0.45, 0.22, 0.08])
    bulky = rng.random(n) < 0.16
    b_sympt = rng.random(n) < 0.25
    extranodal = rng.random(n) < 0.55
    ldh_uln = np.full(n, 248.0)
    ldh = np.round(ldh_uln * rng.lognormal(np.log(1.05), 0.45, n))
    ldh_high = ldh > ldh_uln

    # Prior lines: 1-4, first-line outcome, refractoriness to the last line.
    n_lines = rng.choice([1, 2, 3, 4], n, p=[0.52, 0.30, 0.13, 0.05])
    primary_refr = rng.random(n) < 0.30  # ~half end up refractory once short remissions count
    last_refr = np.where(n_lines == 1, primary_refr, rng.random(n) < 0.45)
    prior_asct = (n_lines >= 2) & (age_start < 70) & (rng.random(n) < 0.35)
    prior_cart = (n_lines >= 3) & (rng.random(n) < 0.25)
    lines = _prior_lines(rng, pid, diagnosis, start, n_lines, primary_refr, last_refr, prior_asct, prior_cart)
    # Refractoriness as the spec defines it from the lines themselves (no CR/PR, or
    # relapse within 6 months of the end), so the patient columns agree with the lines.
    refr_line = (~lines["best_response"].isin(["CR", "PR"])
                 | ((lines["relapse_date"] - lines["end_date"]).dt.days <= 6 * DAYS_PER_MONTH)).to_numpy()
    first_row = np.r_[0, np.cumsum(n_lines)[:-1]]
    primary_refr = refr_line[first_row]
    last_refr = refr_line[np.cumsum(n_lines) - 1]

    risk = (0.75 * last_refr + 0.6 * bulky + 0.55 * (ecog >= 2) + 0.4 * ldh_high + 0.5 * double_hit
            + 0.15 * (n_lines >= 3) + rng.normal(0, 0.3, n))
    # Best response: ordinal latent model.
    latent = -risk + rng.logistic(0, 0.9, n)
    best = np.select([latent > 0.2, latent > -0.55, latent > -0.85], ["CR", "PR", "SD"], "PD")
    ne = rng.random(n) < 0.04
    best = np.where(ne, "NE", best)

    # Time to progression (months) by best response, scaled by risk.
    median_ttp = np.select([best == "CR", best == "PR", best == "SD"], [46.0, 8.0, 4.0], 2.0)
    median_ttp = median_ttp * np.exp(-0.35 * (risk - risk.mean()))
    ttp = rng.exponential(median_ttp / np.log(2))
    # Responders and SD patients have at least one assessment (~2 months) before progression.
    ttp = np.maximum(ttp, np.where(best == "PD", 0.9, 2.6))
    ttp = np.where(best == "NE", np.inf, ttp)  # not evaluable: no documented progression
    # Death without progression (toxicity/infection, other) and after progression.
    t_death_noprog = rng.exponential(90.0, n)
    t_death_noprog = np.where(best == "PD", np.inf, t_death_noprog)  # PD is documented progression
    t_death_noprog = np.where(np.isin(best, ["CR", "PR"]), np.maximum(t_death_noprog, 2.6), t_death_noprog)
    post_prog = rng.exponential((4.5 * np.exp(-0.3 * (risk - risk.mean()))) / np.log(2))
    follow_max = (CUTOFF - start).days / DAYS_PER_MONTH
    lost = rng.random(n) < 0.06
    censor = np.where(lost, rng.uniform(1.0, follow_max), follow_max)
    ttp = np.where(best == "PD", np.minimum(ttp, 0.9 * censor), ttp)

    progressed = (ttp < t_death_noprog) & (ttp < censor)
    death_t = np.where(ttp < t_death_noprog, ttp + post_prog, t_death_noprog)
    died = death_t < censor
    last_t = np.where(died, death_t, censor)
    prog_t = np.where(progressed, ttp, np.nan)

    # Treatment duration: until progression, death or 24 cycles; early stops for toxicity.
    tox_stop = rng.random(n) < 0.12
    treat_m = np.minimum.reduce([np.where(progressed, ttp, np.inf), last_t, np.full(n, 24 * 28 / DAYS_PER_MONTH),
                                 np.where(tox_stop, rng.uniform(0.8, 6, n), np.inf)])
    treat_m = np.minimum(np.maximum(treat_m, 0.5), last_t)
    cycles = np.maximum(1, np.ceil(treat_m * DAYS_PER_MONTH / 28)).astype(int)
    treat_end = start + _days(np.minimum(treat_m * DAYS_PER_MONTH, (cycles * 28) - 1))

    # Response dates: first response at ~2 months; CR at 2 or 4-6 months.
    responder = np.isin(best, ["CR", "PR"])
    first_resp_m = np.where(responder, rng.choice([1.9, 2.0, 2.1, 2.3], n), np.nan)
    cr_m = np.where(best == "CR", first_resp_m + rng.choice([0, 0, 2.0, 4.0], n), np.nan)
    # Keep response dates strictly before progression and last contact.
    bound = np.fmin(np.where(progressed, prog_t, np.inf), last_t) - 0.2
    first_resp_m = np.where(responder & (first_resp_m < bound), first_resp_m, np.where(responder, bound * 0.6, np.nan))
    cr_m = np.where(best == "CR", np.clip(cr_m, first_resp_m, np.maximum(first_resp_m, bound)), np.nan)
    # Final response: responders still in response at the end of therapy, else PD.
    final = np.where(progressed & (ttp <= treat_m + 0.05), "PD", best)

    dose_reduced = rng.random(n) < (0.30 + 0.15 * (age_start > 75))
    reduction_m = np.where(dose_reduced, np.minimum(rng.uniform(0.7, 5.0, n), treat_m * 0.9), np.nan)
    next_line = progressed & (rng.random(n) < 0.72)
    next_t = np.where(next_line, np.minimum(prog_t + rng.uniform(0.2, 1.2, n), last_t), np.nan)
    next_line &= next_t > prog_t

    def month_date(m, keep):
        return _date_or_nat(start, np.nan_to_num(np.asarray(m, dtype=float)) * DAYS_PER_MONTH, keep)

    death_date = month_date(last_t, died)
    last_contact = month_date(last_t, np.ones(n, bool))
    cause = np.where(progressed, "progression",
                     rng.choice(["infection", "toxicity", "other", "unknown"], n, p=[0.5, 0.15, 0.25, 0.1]))
    patients = pd.DataFrame({
        "patient_id": pid, "center": center, "sex": sex,
        "birth_date": pd.Series(birth).dt.normalize(), "diagnosis_date": pd.Series(diagnosis).dt.normalize(),
        "histology": hist, "cell_of_origin": coo, "double_hit": _yesno(double_hit),
        "ann_arbor_stage": stage, "b_symptoms": _yesno(b_sympt), "bulky": _yesno(bulky),
        "extranodal": _yesno(extranodal), "measurable_disease": _yesno(np.ones(n, bool)),
        "cns_involvement": _yesno(rng.random(n) < 0.03), "bone_marrow_involvement": _yesno(rng.random(n) < 0.12),
        "ecog": ecog, "ldh": ldh, "ldh_uln": ldh_uln, "ldh_increased": _yesno(ldh_high),
        "hb_g_dl": np.round(np.clip(rng.normal(11.2, 1.6, n), 6.5, 16.5), 1),
        "platelets_10e9_l": np.round(np.clip(rng.normal(190, 70, n), 25, 520)),
        "first_line_outcome": np.where(primary_refr, "refractory", "relapsed"),
        "prior_asct": _yesno(prior_asct), "prior_car_t": _yesno(prior_cart),
        "treatment_start_date": pd.Series(start), "treatment_end_date": pd.Series(treat_end).dt.normalize(),
        "best_response": best, "final_response": final,
        "first_response_date": month_date(first_resp_m, responder),
        "cr_date": month_date(cr_m, best == "CR"),
        "progression_date": month_date(prog_t, progressed),
        "next_treatment_date": month_date(next_t, next_line),
        "death_date": death_date,
        "death_cause": pd.Series(cause).where(died),
        "last_contact_date": last_contact,
    })
    # Day rounding must never put the first CR before the first response.
    patients["cr_date"] = patients[["cr_date", "first_response_date"]].max(axis=1).where(best == "CR")

    tables = {"patients": patients}
    tables["prior_lines"] = lines
    tables["responses"] = _responses(rng, patients, best, final, progressed)
    tables["treatment"] = _treatment(rng, patients, cycles, treat_m, dose_reduced, reduction_m, progressed, tox_stop)
    tables["adverse_events"] = _adverse_events(rng, patients, treat_m, died, cause)
    tables["subsequent_therapies"] = _subsequent(rng, patients, next_line)
    tables["mutations"] = _mutations(rng, pid)
    # Own stream, so adding the imaging time points left every other table as it was.
    tables["assessments"] = _assessments(np.random.default_rng([seed, 2014]), patients, tables["responses"],
                                         best, final)
    return tables


def _prior_lines(rng, pid, diagnosis, start, n_lines, primary_refr, last_refr, asct, cart) -> pd.DataFrame:
    idx = np.repeat(np.arange(len(pid)), n_lines)
    line = np.arange(len(idx)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    k = n_lines[idx]
    span = (pd.DatetimeIndex(start) - pd.DatetimeIndex(diagnosis)).days.to_numpy()[idx]
    # Lines occupy the diagnosis-to-start span in equal slots.
    slot = span / k
    line_start = pd.DatetimeIndex(diagnosis)[idx] + _days(slot * (line - 1) + 7)
    line_end = line_start + _days(np.minimum(slot * 0.55, 180))
    is_first, is_last = line == 1, line == k
    refr = np.where(is_first, primary_refr[idx], np.where(is_last, last_refr[idx], rng.random(len(idx)) < 0.5))
    resp = np.where(refr, rng.choice(["PD", "SD"], len(idx), p=[0.7, 0.3]),
                    rng.choice(["CR", "PR"], len(idx), p=[0.65, 0.35]))
    # Relapse of responders after > 6 months from the end of the line.
    gap = (pd.DatetimeIndex(start)[idx] - line_end).days.to_numpy()
    nxt = np.where(is_last, gap, slot - (line_end - line_start).days.to_numpy())
    relapse_days = np.where(refr, np.minimum(30, nxt * 0.5), np.maximum(nxt * 0.8, 1))
    relapse_days = np.where(~refr, np.maximum(relapse_days, 186), relapse_days)
    relapse_days = np.minimum(relapse_days, np.maximum(nxt - 3, 1))
    is_asct = asct[idx] & (line == 2)
    is_cart = cart[idx] & is_last & (line >= 3)
    regimen = np.where(is_first, rng.choice(_LINE1, len(idx)), rng.choice(_LATER, len(idx)))
    regimen = np.where(is_cart, "CAR-T axi-cel", regimen)
    return pd.DataFrame({
        "patient_id": pid[idx], "line": line, "regimen": regimen,
        "start_date": line_start.normalize(), "end_date": line_end.normalize(), "best_response": resp,
        "relapse_date": (line_end + _days(relapse_days)).normalize(),
        "asct": _yesno(is_asct), "car_t": _yesno(is_cart),
    })


def _responses(rng, patients, best, final, progressed) -> pd.DataFrame:
    """First response and first CR on their dates, follow-up visits at 2, 4, 6, 9,
    12, 18, 24, 36 months before progression or last contact, PD at progression."""
    n = len(patients)
    start = patients["treatment_start_date"]
    first, cr = patients["first_response_date"], patients["cr_date"]
    end_m = ((patients["progression_date"].fillna(patients["last_contact_date"]) - start).dt.days
             / DAYS_PER_MONTH).to_numpy()
    first_m = ((first - start).dt.days / DAYS_PER_MONTH).to_numpy()
    visits = np.array([2.0, 4.0, 6.0, 9.0, 12.0, 18.0, 24.0, 36.0])
    grid = np.broadcast_to(visits, (n, len(visits)))
    responder = np.isin(best, ["CR", "PR"])
    after_first = np.where(responder[:, None], grid > np.nan_to_num(first_m, nan=0)[:, None] + 0.2, True)
    keep = (grid < end_m[:, None] - 0.25) & after_first & np.isin(best, ["CR", "PR", "SD"])[:, None]
    row, col = np.nonzero(keep)
    date = pd.DatetimeIndex(start.to_numpy()[row] + _days(grid[row, col] * DAYS_PER_MONTH).to_numpy())
    cr_row = cr.to_numpy()[row]
    resp = np.where(best[row] == "SD", "SD", np.where(pd.notna(cr_row) & (date >= cr_row), "CR", "PR"))
    visits_df = pd.DataFrame({"patient_id": patients["patient_id"].to_numpy()[row], "date": date, "response": resp})
    has_first = first.notna().to_numpy()
    first_df = pd.DataFrame({"patient_id": patients.loc[has_first, "patient_id"].to_numpy(),
                             "date": first[has_first].to_numpy(),
                             "response": np.where((cr == first)[has_first], "CR", "PR")})
    later_cr = (cr.notna() & (cr != first)).to_numpy()
    cr_df = pd.DataFrame({"patient_id": patients.loc[later_cr, "patient_id"].to_numpy(),
                          "date": cr[later_cr].to_numpy(), "response": "CR"})
    pd_df = pd.DataFrame({"patient_id": patients.loc[progressed, "patient_id"].to_numpy(),
                          "date": patients.loc[progressed, "progression_date"].to_numpy(), "response": "PD"})
    out = pd.concat([first_df, cr_df, visits_df, pd_df], ignore_index=True)
    out["date"] = pd.to_datetime(out["date"]).dt.normalize()
    out = out.sort_values(["patient_id", "date"], kind="stable").drop_duplicates(["patient_id", "date"])
    out["method"] = np.where(rng.random(len(out)) < 0.8, "PET-CT", "CT")
    return out.reset_index(drop=True)


def _treatment(rng, patients, cycles, treat_m, reduced, reduction_m, progressed, tox_stop) -> pd.DataFrame:
    n = len(patients)
    start = patients["treatment_start_date"]
    lena_cycles = np.minimum(cycles, 12)
    dose0 = rng.choice([25, 20, 15, 10], n, p=[0.62, 0.2, 0.13, 0.05])
    reduced_cycles = np.where(reduced, np.maximum(1, lena_cycles - np.ceil(reduction_m * DAYS_PER_MONTH / 28)), 0)
    lena_median = np.where(reduced & (reduced_cycles > lena_cycles / 2), np.maximum(dose0 - 5, 5), dose0)
    disc = np.where(progressed | tox_stop, "permanent", np.where(rng.random(n) < 0.15, "temporary", "no"))
    reason = np.where(disc == "permanent", np.where(tox_stop & ~progressed, "toxicity", "progression"),
                      np.where(disc == "temporary", "toxicity", ""))
    red_date = (start + _days(np.nan_to_num(reduction_m) * DAYS_PER_MONTH)).where(reduced).dt.normalize()
    lena = pd.DataFrame({
        "patient_id": patients["patient_id"], "drug": "lenalidomide", "cycles": lena_cycles,
        "starting_dose_mg": dose0, "median_dose_mg": lena_median, "dose_reduced": _yesno(reduced),
        "reduction_date": red_date, "reduced_dose_cycles": reduced_cycles.astype(int),
        "discontinued": disc, "discontinuation_reason": pd.Series(reason).replace("", np.nan).to_numpy(),
    })
    tafa = pd.DataFrame({
        "patient_id": patients["patient_id"], "drug": "tafasitamab", "cycles": cycles,
        "starting_dose_mg": np.nan, "median_dose_mg": np.nan, "dose_reduced": "no",
        "reduction_date": pd.NaT, "reduced_dose_cycles": 0,
        "discontinued": np.where(disc == "temporary", "no", disc),
        "discontinuation_reason": pd.Series(reason).where(disc == "permanent").to_numpy(),
    })
    return pd.concat([tafa, lena], ignore_index=True).sort_values(["patient_id", "drug"], kind="stable").reset_index(drop=True)


def _adverse_events(rng, patients, treat_m, died, cause) -> pd.DataFrame:
    n = len(patients)
    start = patients["treatment_start_date"]
    window_m = treat_m + 0.9  # onset up to ~27 days after the last dose
    rows = []
    for term, p in _HEME + _EXTRA:
        has = rng.random(n) < p * (0.7 + 0.3 * np.minimum(treat_m / 6, 1.5))
        idx = np.nonzero(has)[0]
        k = len(idx)
        heme = term in dict(_HEME)
        if heme:
            grade = rng.choice([1, 2, 3, 4], k, p=[0.15, 0.30, 0.40, 0.15])
            related = rng.choice(["lenalidomide", "tafasitamab+lenalidomide", "none"], k, p=[0.7, 0.2, 0.1])
        else:
            grade = rng.choice([1, 2, 3], k, p=[0.55, 0.33, 0.12])
            related = rng.choice(["lenalidomide", "tafasitamab", "tafasitamab+lenalidomide", "none"], k,
                                 p=[0.35, 0.15, 0.15, 0.35])
            if term == "Infusion related reaction":
                related = np.full(k, "tafasitamab")
        grade = np.clip(grade, *_GRADE_RANGE.get(term, (1, 4)))  # only grades CTCAE defines
        onset_m = rng.uniform(0.05, 1.0, k) * np.minimum(window_m[idx], 6)
        rows.append(pd.DataFrame({"patient_i": idx, "term": term, "grade": grade, "onset_m": onset_m,
                                  "related_to": related}))
    ae = pd.concat(rows, ignore_index=True)
    # Fatal infections: grade 5 lung infection for patients who died of infection on treatment.
    last = ((patients["last_contact_date"] - start).dt.days / DAYS_PER_MONTH).to_numpy()
    fatal = np.nonzero(died & (cause == "infection") & (last <= window_m))[0]
    ae = pd.concat([ae, pd.DataFrame({"patient_i": fatal, "term": "Lung infection", "grade": 5,
                                      "onset_m": np.maximum(last[fatal] - 0.3, 0.05),
                                      "related_to": "none"})], ignore_index=True)
    ae["onset_m"] = np.minimum(ae["onset_m"], last[ae["patient_i"]])
    heme_terms = {t for t, _ in _HEME}
    serious = (ae["grade"] >= 4) | ((ae["grade"] == 3) & ~ae["term"].isin(heme_terms) & (rng.random(len(ae)) < 0.6))
    outcome = np.where(ae["grade"] == 5, "fatal", np.where(rng.random(len(ae)) < 0.9, "resolved", "ongoing"))
    out = pd.DataFrame({
        "patient_id": patients["patient_id"].to_numpy()[ae["patient_i"]],
        "term": ae["term"],
        "category": np.where(ae["term"].isin(heme_terms), "hematologic", "extra-hematologic"),
        "grade": ae["grade"],
        "onset_date": (start.to_numpy()[ae["patient_i"]] + _days(ae["onset_m"] * DAYS_PER_MONTH).to_numpy()),
        "related_to": ae["related_to"], "serious": _yesno(serious), "outcome": outcome,
    })
    out["onset_date"] = pd.to_datetime(out["onset_date"]).dt.normalize()
    out = out.drop_duplicates(["patient_id", "term", "grade", "onset_date"])
    return out.sort_values(["patient_id", "onset_date"], kind="stable").reset_index(drop=True)


def _subsequent(rng, patients, next_line) -> pd.DataFrame:
    sel = patients.loc[next_line]
    k = len(sel)
    regimen = rng.choice(_NEXT, k, p=[0.3, 0.2, 0.15, 0.08, 0.17, 0.10])
    return pd.DataFrame({
        "patient_id": sel["patient_id"].to_numpy(), "start_date": sel["next_treatment_date"].to_numpy(),
        "regimen": regimen, "best_response": rng.choice(RESPONSES, k, p=[0.25, 0.12, 0.08, 0.45, 0.10]),
        "car_t": _yesno(np.char.startswith(regimen.astype(str), "CAR-T")),
    })


def _mutations(rng, pid) -> pd.DataFrame:
    """Targeted sequencing for ~40% of patients, 0-6 altered genes each."""
    n = len(pid)
    sequenced = np.nonzero(rng.random(n) < 0.4)[0]
    freq = np.array([0.18, 0.15, 0.22, 0.30, 0.20, 0.12, 0.14, 0.12, 0.10, 0.10, 0.08, 0.08])
    hit = rng.random((len(sequenced), len(_GENES))) < freq
    r, g = np.nonzero(hit)
    k = len(r)
    return pd.DataFrame({
        "patient_id": pid[sequenced[r]], "gene": np.array(_GENES)[g],
        "alteration": rng.choice(_ALTERATIONS, k, p=[0.55, 0.25, 0.06, 0.06, 0.04, 0.04]),
        "vaf": np.round(rng.uniform(0.05, 0.65, k), 3),
    })


def _assessments(rng, patients, responses, best, final) -> pd.DataFrame:
    """Lugano 2014 imaging time points that give, rule by rule, each response row's code.

    A baseline scan 5-20 days before the start, then one scan per `responses` row (same
    date and method). Target lesions (1-6, the first the largest) shrink by one factor per
    patient and category (PR: SPD to 20-36% of baseline, SD: 64-90%, CR: every LDi 5-15 mm),
    so the nadir is the last scan before progression; at PD the largest lesion grows past the
    Lugano thresholds or a new lesion appears (on PET-CT with Deauville 5). The scan that
    gives the final response is marked end-of-treatment. Patients without any response
    assessment (not evaluable) have no scans."""
    pid = patients["patient_id"].to_numpy()
    n = len(pid)
    pos = pd.Series(np.arange(n), index=pid)
    has = np.isin(pid, responses["patient_id"].unique())
    m = rng.choice(np.arange(1, 7), n, p=[0.15, 0.25, 0.25, 0.15, 0.10, 0.10])
    ldi0 = np.column_stack([rng.uniform(35, 90, n)] + [rng.uniform(18, 60, n) for _ in range(5)])
    ldi0 = np.where(np.arange(6) < m[:, None], np.round(ldi0), np.nan)
    sdi0 = np.round(ldi0 * rng.uniform(0.5, 0.9, (n, 6)))
    score0 = np.where(rng.random(n) < 0.7, "5", "4")
    marrow0 = np.where(patients["bone_marrow_involvement"].to_numpy() == "yes", "positive", "negative")
    extranodal0 = patients["extranodal"].to_numpy() == "yes"
    nontarget0 = np.where(rng.random(n) < 0.4, "present", "absent")
    shrink = {"CR": rng.uniform(0.1, 0.3, n), "PR": rng.uniform(0.45, 0.6, n), "SD": rng.uniform(0.8, 0.95, n)}
    pd_new_lesion = rng.random(n) < 0.4
    start = patients["treatment_start_date"].to_numpy()

    base = pd.DataFrame({"patient_id": pid[has], "date": start[has] - _days(rng.integers(5, 21, n)[has]).to_numpy(),
                         "modality": np.where(rng.random(n) < 0.8, "PET-CT", "CT")[has],
                         "response": "baseline", "_i": np.nonzero(has)[0]})
    visits = responses.assign(modality=responses["method"], _i=pos.loc[responses["patient_id"]].to_numpy())
    rows = pd.concat([base, visits[["patient_id", "date", "modality", "response", "_i"]]], ignore_index=True)
    rows = rows.sort_values(["_i", "date"], kind="stable").reset_index(drop=True)
    i, r = rows["_i"].to_numpy(), rows["response"].to_numpy()
    pet = rows["modality"].to_numpy() == "PET-CT"

    ldi, sdi = ldi0[i].copy(), sdi0[i].copy()
    for code, f in shrink.items():
        sel = r == code
        ldi[sel] = np.round(ldi0[i[sel]] * f[i[sel], None])
        sdi[sel] = np.round(sdi0[i[sel]] * f[i[sel], None])
    cr = r == "CR"
    ldi[cr] = np.clip(ldi[cr], 5, 15)
    sdi[cr] = np.clip(sdi[cr], 5, ldi[cr])
    # At progression the nadir is the previous scan (scans before it only shrink).
    prog = np.nonzero(r == "PD")[0]
    grow = prog[~pd_new_lesion[i[prog]]]
    ldi[prog], sdi[prog] = ldi[prog - 1], sdi[prog - 1]
    ldi[grow, 0] = np.maximum.reduce([ldi[grow, 0] + 12, np.ceil(ldi[grow, 0] * 1.3), np.full(len(grow), 22.0)])
    sdi[grow, 0] = np.maximum(sdi[grow, 0] + 6, np.ceil(sdi[grow, 0] * 1.3))
    new = np.zeros(len(rows), bool)
    new[prog[pd_new_lesion[i[prog]]]] = True

    score = np.select([r == "baseline", cr, r == "PR", r == "SD", r == "PD"],
                      [score0[i], rng.choice(["1", "2", "3"], len(rows)), np.where(score0[i] == "4", "4",
                       rng.choice(["4", "5"], len(rows))), score0[i], "5"], "")
    uptake = np.select([r == "PR", r == "SD", (r == "PD") & ~new, (r == "PD") & new],
                       ["decreased", "unchanged", "increased", "decreased"], "")
    marrow_pos = marrow0[i] == "positive"
    marrow = np.select([r == "baseline", cr | ~marrow_pos, pet & (r == "PR")], [marrow0[i], "negative", "reduced"],
                       "positive")

    final_i = final[i]
    first_pd = (r == "PD") & (final_i == "PD")
    at_best = (r == best[i]) & (final_i != "PD")
    after_end = rows["date"].to_numpy() >= patients["treatment_end_date"].to_numpy()[i]
    eot_pick = pd.DataFrame({"_i": i, "first": at_best & after_end, "any": at_best})
    first_after = eot_pick.index[eot_pick["first"]].to_series().groupby(i[eot_pick["first"]]).min()
    last_best = eot_pick.index[eot_pick["any"]].to_series().groupby(i[eot_pick["any"]]).max()
    eot_rows = last_best.copy()
    eot_rows.loc[first_after.index] = first_after
    eot = np.zeros(len(rows), bool)
    eot[eot_rows.to_numpy()] = True
    eot |= first_pd
    timepoint = np.select([r == "baseline", eot, ~after_end], ["baseline", "end-of-treatment", "interim"],
                          "follow-up")

    out = pd.DataFrame({"patient_id": rows["patient_id"], "date": pd.to_datetime(rows["date"]).dt.normalize(),
                        "modality": rows["modality"], "timepoint": timepoint,
                        "deauville": pd.Series(score).where(pet), "uptake_vs_baseline": pd.Series(uptake)
                        .replace("", np.nan).where(pet)})
    for k in range(6):
        out[f"target{k + 1}_ldi_mm"] = ldi[:, k]
        out[f"target{k + 1}_sdi_mm"] = sdi[:, k]
    base_row = r == "baseline"
    out["spd_mm2"] = np.nan
    out["extranodal_disease"] = _yesno(np.where(cr, False, extranodal0[i]))
    out["nontarget"] = np.where(cr, "absent", nontarget0[i])
    out["new_lesions"] = _yesno(new)
    out["bone_marrow"] = marrow
    out.loc[base_row, "uptake_vs_baseline"] = np.nan
    return out
