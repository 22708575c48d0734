"""Adverse events, subsequent therapies, deaths and the data appendix, from results.json records."""
from __future__ import annotations

import pandas as pd

from rwestudy.core.format import fmt_int, fmt_pct
from rwestudy.report._records import frame
from rwestudy.report.table_model import ReportTable

GRADES = ["any", "1-2", "3", "4", "5"]
GRADE_HEAD = {"any": "Any grade", "1-2": "Grade 1-2", "3": "Grade 3", "4": "Grade 4", "5": "Grade 5",
              ">=3": "Grade >=3"}



def _ae(records: dict, table: str) -> pd.DataFrame:
    a = frame(records, "adverse_events")
    return a[a.table == table] if not a.empty else a


def ae_by_term(records: dict, unit: str = "patients") -> ReportTable | None:
    """unit='patients': worst grade per patient and term; unit='events': every event counted."""
    a = _ae(records, "by_term")
    if a.empty:
        return None
    cat = _ae(records, "by_category")
    den = int(a[f"denominator_{unit}"].iloc[0])
    what = "patients" if unit == "patients" else "events"
    t = ReportTable(f"ae_{unit}", f"Adverse events by term and grade, {what} (N = {den})",
                    ["Adverse event"] + [GRADE_HEAD[g] for g in GRADES], group="Safety")
    for category, rows in a.groupby("category", sort=True):
        t.section(str(category).capitalize())
        c = cat[cat.category == category].set_index("grade") if not cat.empty else None
        if c is not None and len(c):
            t.add("Any event", *[fmt_pct(c[unit].get(g, 0), den) for g in GRADES], indent=1)
        wide = rows.pivot_table(index="term", columns="grade", values=unit, aggfunc="first")
        wide = wide.sort_values("any", ascending=False, kind="stable")
        for term, r in wide.iterrows():
            if r.get("any", 0) == 0:
                continue
            t.add(str(term), *[fmt_pct(r.get(g, 0), den) for g in GRADES], indent=1)
    if unit == "patients":
        t.footnotes.append(f"n (%) of the {den} patients analysed; a patient counts once per row, at the worst "
                           "grade of that event. CTCAE v5.0 terms.")
    else:
        t.footnotes.append(f"n (%) of all {den} adverse events counted (per-event rates; not comparable "
                           "with per-patient rates). CTCAE v5.0 terms.")
    if (a.grade == "grade NA").any() and a.loc[a.grade == "grade NA", unit].sum() > 0:
        t.footnotes.append("Some events have no grade: they count under Any grade only.")
    return t


def ae_by_drug(records: dict) -> ReportTable | None:
    a = _ae(records, "by_drug")
    if a.empty:
        return None
    drugs = [d for d in dict.fromkeys(a["drug"]) if d not in ("any",)]
    # The report shows attribution "alone or in combination" per drug, then any drug and not related.
    shown = [d for d in drugs if not d.endswith(" only") and "+" not in d and d != "attribution NA"]
    den = int(a["denominator_patients"].iloc[0])
    header = ["Adverse event"]
    for d in shown:
        header += [f"{d}: any grade", f"{d}: grade >=3"]
    t = ReportTable("ae_drug", f"Adverse events by drug attribution, patients (N = {den})", header,
                    group="Safety")
    pt = a.pivot_table(index="term", columns=["drug", "grade"], values="patients", aggfunc="first")
    order = pt.get(("any drug", "any"), pt.iloc[:, 0]).sort_values(ascending=False, kind="stable").index
    for term in order:
        cells = []
        for d in shown:
            cells += [fmt_pct(pt.get((d, "any"), pd.Series()).get(term, 0), den),
                      fmt_pct(pt.get((d, ">=3"), pd.Series()).get(term, 0), den)]
        if all(c.startswith("0 ") for c in cells):
            continue
        t.add(str(term), *cells)
    rules = a.dropna(subset=["attribution_rule"]).drop_duplicates("drug")
    t.footnotes.append("Attribution: " + "; ".join(f"{r.drug}: {r.attribution_rule}"
                                                    for r in rules.itertuples() if r.drug in shown) + ".")
    return t


def serious(records: dict) -> ReportTable | None:
    a = _ae(records, "serious")
    if a.empty:
        return None
    a = a[a.serious == "yes"]
    den = int(a["denominator_patients"].iloc[0]) if len(a) else 0
    t = ReportTable("ae_serious", "Serious adverse events", ["Adverse event", "Patients, n (%)", "Events, n"],
                    group="Safety")
    for r in a.sort_values("patients", ascending=False, kind="stable").itertuples():
        if r.events:
            t.add(r.term, fmt_pct(r.patients, den), fmt_int(r.events))
    t.footnotes.append(f"Patients: n (%) of {den}. Events marked serious = yes; events with serious not recorded "
                       "are counted in results.json.")
    return t


def subsequent(records: dict) -> ReportTable | None:
    s = frame(records, "subsequent_therapies")
    if s.empty:
        return None
    t = ReportTable("subsequent", "Subsequent therapies", ["Item", "n (%)"], group="Treatment")
    heads = {"any": None, "regimen": "Regimens (patients)", "best response to the next line":
             "Best response to the next line"}
    for group, rows in s.groupby("group", sort=False):
        if heads.get(group):
            t.section(heads[group])
        for r in rows.itertuples():
            t.add(r.item, r.text, indent=0 if group == "any" else 1)
    t.footnotes.append("First rows: of all patients analysed; regimens and responses: of the patients with a "
                       "subsequent therapy.")
    return t


def deaths(records: dict) -> ReportTable | None:
    d = frame(records, "death_causes")
    if d.empty:
        return None
    t = ReportTable("deaths", "Deaths and causes of death", ["Item", "n (%)"], group="Safety")
    for r in d.itertuples():
        t.add(r.item.capitalize(), r.text, indent=0 if r.cause == "any" else 1)
    t.footnotes.append("Deaths: of all patients analysed; causes: of the deaths.")
    return t


def findings(records: dict, max_rows: int = 500) -> ReportTable:
    f = frame(records, "findings")
    t = ReportTable("findings", "Appendix: data findings (validation)",
                    ["Severity", "Rule", "Sheet", "Row", "Column", "Value", "Message"], group="Appendix")
    if f.empty:
        t.footnotes.append("No findings: every value was read and every check passed.")
        return t
    for r in f.head(max_rows).itertuples():
        t.add(r.severity, r.rule, r.table or "", fmt_int(r.row) if pd.notna(r.row) else "", r.column or "",
              "" if r.value is None else str(r.value), r.message)
    if len(f) > max_rows:
        t.footnotes.append(f"First {max_rows} of {len(f)} rows; all are in results.json.")
    total = int(pd.to_numeric(f["count"], errors="coerce").fillna(1).sum()) if "count" in f else len(f)
    if total > len(f):
        # A check lists its first findings one by one and counts the rest per patient (results.json
        # 'count'), so a file with millions of bad values stays readable.
        t.footnotes.append(f"{fmt_int(total)} findings in all: after the first ones of a check, the rest are "
                           "one row per patient with their number (count in results.json).")
    return t


def conventions(records: dict) -> ReportTable:
    conv = dict((records.get("conventions") or [{}])[0])
    conv.pop("description", None)
    t = ReportTable("conventions", "Appendix: statistical conventions", ["Choice", "Value"], group="Appendix")
    for k, v in conv.items():
        t.add(k.replace("_", " "), str(v))
    t.footnotes.append("Select another profile with --profile (r, stata, sas, spss) or override single "
                       "choices in the plan.")
    return t
