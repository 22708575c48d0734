"""`load_study`: read, type and validate a study; the `Study` it returns.

>>> import rwestudy
>>> study = rwestudy.load_study("study.xlsx")          # doctest: +SKIP
>>> study.patients.shape, study.ok                      # doctest: +SKIP
((96, 41), True)
>>> study.findings.query("severity == 'error'")        # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rwestudy.endpoints.lugano import check_lugano
from rwestudy.io.coerce import coerce_table
from rwestudy.io.mapping import StudyConfig, load_mapping
from rwestudy.io.readers import _norm, read_source
from rwestudy.io.schema import TABLES
from rwestudy.validation import rules
from rwestudy.validation.ctcae import ctcae_terms, resolve_terms
from rwestudy.validation.findings import (
    center_summary, combine, count_by_severity, empty_findings, finding, from_mask,
)


@dataclass
class Study:
    """A validated study: one typed DataFrame per table, and its findings.

    Every row read is kept (a value that could not be read is NA in the table
    and a finding names it), so ``len(study.patients)`` is the number of
    patient rows in the source. Each table's index is the source row number
    (spreadsheet row, header = row 1).
    """

    source: str
    tables: dict[str, pd.DataFrame]
    findings: pd.DataFrame
    config: StudyConfig = field(default_factory=StudyConfig)
    sheet_names: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame | None:
        if name in TABLES:
            return self.tables.get(name)
        raise AttributeError(name)

    @property
    def n_patients(self) -> int:
        return 0 if "patients" not in self.tables else len(self.tables["patients"])

    @property
    def errors(self) -> pd.DataFrame:
        return self.findings.loc[self.findings["severity"] == "error"]

    @property
    def warnings(self) -> pd.DataFrame:
        return self.findings.loc[self.findings["severity"] == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return self.errors.empty

    def center_summary(self) -> pd.DataFrame:
        """Open problems per center (what the coordinating center sends back)."""
        return center_summary(self.findings, self.tables.get("patients"))

    def to_dict(self) -> dict:
        """Machine-readable validation result (for ``--format json``)."""
        f = self.findings.astype(object).where(self.findings.notna(), None)
        return {
            "source": self.source,
            "n_patients": self.n_patients,
            "tables": {k: {"rows": len(v), "sheet": self.sheet_names.get(k, k)} for k, v in self.tables.items()},
            "config": {"date_format": self.config.date_format, "partial_dates": self.config.partial_dates,
                       "cutoff_date": None if self.config.cutoff_date is None
                       else f"{self.config.cutoff_date:%Y-%m-%d}", "mapping": self.config.source},
            "counts": count_by_severity(self.findings),  # every row, summary findings included
            "centers": self.center_summary().to_dict(orient="records"),
            "findings": f.to_dict(orient="records"),
        }


def load_study(path: str | Path, mapping: str | Path | None = None, *, date_format: str | None = None,
               partial_dates: str | None = None, cutoff_date: str | None = None) -> Study:
    """Read and validate a study workbook or CSV folder.

    Bad data never raises: it becomes findings. Raises ``FileNotFoundError``
    when ``path`` does not exist and ``MappingError`` when the mapping file is
    itself wrong.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such study file or folder: {path}")
    config = load_mapping(mapping, date_format=date_format, partial_dates=partial_dates,
                          cutoff_date=cutoff_date)
    raw, read_findings = read_source(path)
    return study_from_raw(raw, read_findings, config, source=str(path))


class Steps:
    """How `study_from_raw` types each table and then runs the rules across tables.

    One place for both, so that `load_study` and the capture server (which
    caches these two steps per column and per patient, server/checks.py) run
    the same checks in the same order.
    """

    def type_table(self, frame: pd.DataFrame, spec, name: str, config: StudyConfig):
        """(typed table, findings) of one raw table: its headers, control characters, types."""
        date1904 = bool(frame.attrs.get("date1904"))
        frame, col_findings = _canonical_columns(frame, name, config)
        frame, control_findings = rules.strip_control_characters(frame, name)
        parts = [col_findings, control_findings]
        if date1904:
            frame, shifted = _shift_1904_serials(frame, spec, name)
            parts.append(shifted)
        typed, type_findings = coerce_table(frame, spec, codes=config.codes_for(name),
                                            date_format=config.date_format, partial_dates=config.partial_dates)
        parts.append(type_findings)
        return typed, parts

    def check_tables(self, tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp):
        """(tables, findings) after the rules that read typed tables: AE terms, LDH, center
        spellings, integrity, date order, consistency, AEs, responses, Lugano, future dates."""
        tables = dict(tables)
        parts = []
        if "adverse_events" in tables:
            tables["adverse_events"], ae_findings = _normalise_ae_terms(tables["adverse_events"])
            parts.append(ae_findings)
        if "patients" in tables:
            tables["patients"], ldh_findings = _derive_ldh(tables["patients"])
            tables["patients"], center_findings = rules.unify_center_spellings(tables["patients"])
            parts += [ldh_findings, center_findings]
        for check in (rules.check_integrity, rules.check_date_order, rules.check_consistency,
                      rules.check_adverse_events, rules.check_best_response, check_lugano):
            parts.extend(check(tables))
        parts.extend(rules.check_future_dates(tables, cutoff))
        return tables, parts


def study_from_raw(raw: dict[str, tuple[pd.DataFrame, str]], read_findings: pd.DataFrame, config: StudyConfig,
                   *, source: str, steps: Steps | None = None) -> Study:
    """Type and validate raw tables as `read_source` gives them (see `load_study`)."""
    tables, parts, sheet_names = check_raw(raw, read_findings, config, steps or Steps())
    centers = None
    patients = tables.get("patients")
    if patients is not None and {"patient_id", "center"} <= set(patients.columns):
        centers = patients.dropna(subset=["patient_id"]).drop_duplicates("patient_id").set_index("patient_id")["center"]
    return Study(source=source, tables=tables, findings=combine(parts, centers), config=config,
                 sheet_names=sheet_names)


def check_raw(raw: dict[str, tuple[pd.DataFrame, str]], read_findings: pd.DataFrame, config: StudyConfig,
              steps: Steps):
    """(typed tables, findings as parts not yet combined, sheet names) of raw tables."""
    parts = [read_findings]
    tables: dict[str, pd.DataFrame] = {}
    sheet_names: dict[str, str] = {}
    claimed = set()
    # A table given twice is already an error; "missing" would blame the wrong thing.
    doubled = set(read_findings.loc[read_findings["rule"] == "table-duplicate", "table"])
    for name, spec in TABLES.items():
        key = _norm(config.sheets.get(name, name))
        if key not in raw:
            if spec.required and key not in doubled:
                parts.append(finding("error", "table-missing", name,
                                     f"the '{name}' table is required but no sheet/file named "
                                     f"'{config.sheets.get(name, name)}' was found (found: "
                                     f"{', '.join(v[1] for v in raw.values()) or 'nothing'})"))
            continue
        claimed.add(key)
        frame, sheet = raw[key]
        sheet_names[name] = sheet
        tables[name], table_findings = steps.type_table(frame, spec, name, config)
        parts += table_findings
    for key, (_, sheet) in raw.items():
        if key not in claimed:
            parts.append(finding("warning", "table-unknown", sheet,
                                 f"'{sheet}' is not a table of the study format ({', '.join(TABLES)}); "
                                 "it is ignored (map it in [sheets] if it is one of them)"))
    cutoff = config.cutoff_date if config.cutoff_date is not None else pd.Timestamp.today().normalize()
    tables, check_findings = steps.check_tables(tables, cutoff)
    return tables, parts + list(check_findings), sheet_names


# Day 0 of Excel's 1904 date system is 1904-01-01, 1,462 days after the 1900 system's day 0.
EXCEL_1904_OFFSET_DAYS = 1462


def _shift_1904_serials(frame: pd.DataFrame, spec, table: str):
    """Plain serial numbers in date columns of a 1904-system workbook, moved to the 1900 system
    the date parser reads (date cells are already dates: calamine applies the workbook's system)."""
    frame = frame.copy()
    notes = [empty_findings()]
    for col in spec.columns:
        if col.kind != "date" or col.name not in frame.columns:
            continue
        v = frame[col.name]
        is_num = v.map(lambda x: isinstance(x, (int, float)) and not isinstance(x, bool)).astype(bool)
        if is_num.any():
            frame.loc[is_num, col.name] = v[is_num].astype(float) + EXCEL_1904_OFFSET_DAYS
            notes.append(finding("info", "date-1904", table,
                                 f"the workbook uses Excel's 1904 date system: {int(is_num.sum())} serial "
                                 f"number(s) in '{col.name}' read in that system",
                                 row=int(v.index[is_num.to_numpy()][0]), column=col.name))
    return frame, pd.concat(notes, ignore_index=True)


def _canonical_columns(frame: pd.DataFrame, table: str, config: StudyConfig):
    """Rename the sheet's headers to the contract's names; report what does not fit."""
    spec = TABLES[table]
    user = {_norm(v): k for k, v in config.columns.get(table, {}).items()}
    problems = [empty_findings()]
    names, seen = [], {}
    for original in frame.columns:
        key = _norm(original)
        canon = user.get(key, key)
        names.append(canon)
        seen.setdefault(canon, []).append(original)
    for canon_user, orig_user in config.columns.get(table, {}).items():
        if _norm(orig_user) not in {_norm(c) for c in frame.columns}:
            problems.append(finding("error", "mapping-column-missing", table,
                                    f"the mapping says column '{canon_user}' is called '{orig_user}', "
                                    "but the sheet has no such column", column=orig_user))
    frame = frame.copy()
    frame.columns = names
    dup = pd.Index(names).duplicated()
    for canon, originals in seen.items():
        if len(originals) > 1:
            problems.append(finding("error", "column-duplicate", table,
                                    f"columns {', '.join(repr(o) for o in originals)} all mean '{canon}'; "
                                    "only the first is used", column=canon))
    frame = frame.loc[:, ~dup]
    for col in spec.columns:
        if not col.required:
            continue
        if col.name not in frame.columns:
            problems.append(finding("error", "column-missing", table,
                                    f"required column '{col.name}' is missing", column=col.name))
            # Added empty so every later step can rely on the contract's required columns.
            frame[col.name] = None
        elif len(frame) and frame[col.name].isna().all():
            problems.append(finding("error", "column-empty", table,
                                    f"required column '{col.name}' is empty in every row", column=col.name))
    unknown = [c for c in frame.columns if c not in spec.by_name]
    for c in unknown:
        problems.append(finding("info", "column-unknown", table,
                                f"column '{c}' is not part of the study format; kept but not used "
                                "(map it in [columns] if it is one of ours)", column=c))
    return frame, pd.concat(problems, ignore_index=True)


def _normalise_ae_terms(ae: pd.DataFrame):
    """CTCAE v5.0 terms and categories; every change of spelling reported."""
    if "term" not in ae.columns:
        return ae, empty_findings()
    resolved = resolve_terms(ae["term"]).set_index("raw")
    status = ae["term"].map(resolved["status"])
    frame = ae.assign(_raw=ae["term"], _term=ae["term"].map(resolved["term"]).astype("string"),
                      _suggest=ae["term"].map(resolved["suggestion"]))
    parts = [
        from_mask(frame, status.eq("variant"), severity="info", rule="ae-term-variant", table="adverse_events",
                  column="term", message=lambda s: "spelling variant normalised to the CTCAE v5.0 term '"
                  + s["_term"] + "'"),
        from_mask(frame, status.eq("synonym"), severity="info", rule="ae-term-synonym", table="adverse_events",
                  column="term", message=lambda s: "clinical synonym mapped to the CTCAE v5.0 term '"
                  + s["_term"] + "'"),
        from_mask(frame, status.eq("unknown"), severity="warning", rule="ae-term-unknown",
                  table="adverse_events", column="term",
                  message=lambda s: "not a CTCAE v5.0 term; kept as written"
                  + s["_suggest"].map(lambda x: f" (did you mean '{x}'?)" if isinstance(x, str) else "")),
    ]
    out = ae.copy()
    out["term"] = frame["_term"]
    known = ctcae_terms().set_index("term")["category"]
    derived = out["term"].map(known).astype("string")
    if "category" in out.columns:
        mismatch = out["category"].notna() & derived.notna() & out["category"].ne(derived)
        parts.append(from_mask(out.assign(_derived=derived), mismatch, severity="warning",
                               rule="ae-category-mismatch", table="adverse_events", column="category",
                               message=lambda s: "CTCAE v5.0 classes this term as " + s["_derived"]
                               + "; the value given is kept"))
        out["category"] = out["category"].fillna(derived)
    else:
        out["category"] = derived
    parts.append(from_mask(out, out["category"].isna() & out["term"].notna(), severity="warning",
                           rule="ae-category-missing", table="adverse_events", column="category",
                           message="category unknown for a non-CTCAE term: give hematologic or extra-hematologic"))
    return out, pd.concat(parts, ignore_index=True)


def _derive_ldh(patients: pd.DataFrame):
    """ldh_increased from ldh > ldh_uln where it was not given (spec), reported."""
    if not {"ldh", "ldh_uln"} <= set(patients.columns):
        return patients, empty_findings()
    out = patients.copy()
    if "ldh_increased" not in out.columns:
        out["ldh_increased"] = pd.Series(pd.NA, index=out.index, dtype="boolean")
    can = out["ldh_increased"].isna() & out["ldh"].notna() & out["ldh_uln"].notna()
    out.loc[can, "ldh_increased"] = (out.loc[can, "ldh"] > out.loc[can, "ldh_uln"]).astype("boolean")
    f = from_mask(out, can, severity="info", rule="derived-ldh", table="patients", column="ldh_increased",
                  message="ldh_increased derived from ldh > ldh_uln", value="ldh")
    return out, f
