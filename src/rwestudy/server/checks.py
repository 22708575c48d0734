"""Checks as the user saves: `rwestudy validate`'s own rules, run on one patient's rows.

The patient's rows (with the values about to be saved) go through
`rwestudy.study.study_from_raw`, the very code behind `rwestudy validate`
(`load_study`), so types, codes, ranges, date order, cross-form consistency
and CTCAE terms are checked by the code that checks a center's spreadsheet;
nothing is re-implemented here. Each finding is mapped back to the record
(row) and field it names.

Why this is fast enough for a save (the rules themselves cost ~0.8 s of
pandas calls on one patient, whatever its size): a save changes one or two
values, so almost everything the rules compute is what they computed at the
previous save. The two steps of `study_from_raw` are memoised (`_CachedSteps`):

- typing, per column: the typed column and its findings are a function of
  the column's raw text (and the row's patient and center, which findings
  carry), so only the columns whose text changed are typed again;
- the rules across tables, per patient: they run on the typed tables without
  the "row-local" columns (`row_local_columns`: columns that no rule after
  typing reads), and are memoised on exactly that input. Changing a lab value
  or a count re-types one column and reuses the rules; changing a date, a
  response or a term re-runs the rules for that patient.

The raw tables are built from the stored text directly (no CSV written and
read back), exactly as the CSV reader gives them: every contract column,
text cells, empty = None, the row's line number (header = 1) as index.
`tests/server/test_checks.py` holds the server's findings equal to
`rwestudy validate`'s on the same rows written as CSV.
"""
from __future__ import annotations

import ast
import inspect
import re
import threading
from functools import lru_cache

import numpy as np
import pandas as pd

from rwestudy.io.coerce import coerce_table
from rwestudy.io.mapping import load_mapping
from rwestudy.io.readers import _norm
from rwestudy.io.schema import TABLES
from rwestudy.validation import rules
from rwestudy.validation.findings import SEVERITIES, empty_findings

# Entries of each memo: a patient's check uses ~250 columns (most of them empty, shared by
# every patient), 8 tables and one rules entry; sized for a study of ~1,000 patients' worth
# of recent checks in some tens of MB (an entry holds one small column or table).
COLUMN_CACHE = 20_000
TABLES_CACHE = 2_048
RULES_CACHE = 2_048


def _rule_sources() -> list[str]:
    """Source of every module whose code runs on the typed tables (Steps.check_tables)."""
    import rwestudy.endpoints.common
    import rwestudy.endpoints.lugano
    import rwestudy.study
    import rwestudy.validation.ctcae

    return [inspect.getsource(m) for m in (rules, rwestudy.endpoints.lugano, rwestudy.endpoints.common,
                                           rwestudy.study, rwestudy.validation.ctcae)]


@lru_cache(maxsize=1)
def row_local_columns() -> dict[str, frozenset[str]]:
    """Per table, the columns no rule after typing reads: their checks are the column's own
    (type, code, range), so a change to them cannot change a cross-table finding.

    Conservative by construction: a column is row-local only if it is optional, not part
    of a table's key, not a date (every date is compared with the cut-off), and its name
    appears nowhere in the rules' source, neither written out nor as the pattern of an
    f-string (`f"target{k}_ldi_mm"`) or a name fragment ("_mm"). `test_checks.py`
    also drops each of them from the demo study and finds the rules' findings unchanged.
    """
    words, patterns = set(), []
    for source in _rule_sources():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                v = node.value
                words.update(re.findall(r"\w+", v))
                if re.fullmatch(r"_?\w{2,}_?", v) and v.strip("_") != v:  # "target_", "_mm": part of a name
                    patterns.append(re.compile((".*" if v.startswith("_") else "") + re.escape(v)
                                               + (".*" if v.endswith("_") else "")))
            elif isinstance(node, ast.JoinedStr):
                fixed = [v.value for v in node.values if isinstance(v, ast.Constant)]
                if any(re.search(r"\w", t) for t in fixed):  # f"{x}" alone names nothing in particular
                    patterns.append(re.compile("".join(re.escape(v.value) if isinstance(v, ast.Constant) else ".*"
                                                       for v in node.values)))
        words.update(re.findall(r"\w+", source))  # names in comments and code too: stay on the safe side
    out = {}
    for name, spec in TABLES.items():
        out[name] = frozenset(
            c.name for c in spec.columns
            if not c.required and c.name not in spec.key and c.kind != "date" and c.name not in words
            and not any(p.fullmatch(c.name) for p in patterns))
    return out


def raw_tables(by_table: dict[str, list[dict[str, str]]]):
    """The rows' cells per table and column, as `read_source` reads them from the CSV files
    `snapshot.table_csv` writes: every contract column, text, empty = None, rows from 2."""
    return {table: {c.name: tuple(_cell(r.get(c.name)) for r in rows) for c in TABLES[table].columns}
            for table, rows in by_table.items()}


def raw_frame(cells: dict[str, tuple]) -> pd.DataFrame:
    """One table's cells as the raw frame `read_source` gives (index: the row number)."""
    n = len(next(iter(cells.values()), ()))
    block = np.empty((n, len(cells)), dtype=object)
    for j, values in enumerate(cells.values()):
        block[:, j] = values
    return pd.DataFrame(block, columns=list(cells), index=pd.Index(np.arange(2, n + 2), name="row"), dtype=object)


def _cell(v) -> str | None:
    return None if v is None or v == "" else (v if isinstance(v, str) else str(v))


# Stand-ins for the row's patient and center in the typing memo, so that one patient's
# "3.4" is typed once for every patient; the findings get the real ones back (`_stamped`).
_PATIENT, _CENTER = "\ue000patient", "\ue000center"


class Found(tuple):
    """Findings as plain records (dicts with the columns of `validation.findings`), made once
    per memo entry: the server turns them into its answer without pandas."""


def _records(frame: pd.DataFrame) -> Found:
    cols = list(frame.columns)
    return Found({c: (None if _missing(v) else v) for c, v in zip(cols, row)}
                 for row in frame.itertuples(index=False, name=None))


def _missing(v) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)


def _typed_column(table: str, column: str, values: tuple, index: tuple, pids: tuple | None, centers: tuple | None,
                  date_format: str, partial_dates: str) -> tuple[pd.Series, Found]:
    """One column through the typing step (control characters, then its type), and its findings."""
    stand_in = column not in ("patient_id", "center") and all(
        v is None or (len(set(v)) == 1 and isinstance(v[0], str) and not rules._CONTROL.search(v[0]))
        for v in (pids, centers))
    if not stand_in:
        return _typed_column_memo(table, column, values, index, pids, centers, date_format, partial_dates)
    typed, found = _typed_column_memo(table, column, values, index, pids and (_PATIENT,) * len(pids),
                                      centers and (_CENTER,) * len(centers), date_format, partial_dates)
    if not found:
        return typed, found
    real = {_PATIENT: pids and pids[0], _CENTER: centers and centers[0]}
    return typed, Found({**f, "patient_id": real.get(f["patient_id"], f["patient_id"]),
                         "center": real.get(f["center"], f["center"])} for f in found)


@lru_cache(maxsize=COLUMN_CACHE)
def _typed_column_memo(table: str, column: str, values: tuple, index: tuple, pids: tuple | None,
                       centers: tuple | None, date_format: str, partial_dates: str) -> tuple[pd.Series, Found]:
    # The row's patient_id and center ride along because findings carry them.
    cols = {column: values}
    for key, v in (("patient_id", pids), ("center", centers)):
        if v is not None and key != column:
            cols[key] = v
    sub = pd.DataFrame(cols, index=pd.Index(index, name="row"), dtype=object)
    control = empty_findings()
    if any(isinstance(v, str) and rules._CONTROL.search(v) for col in cols.values() for v in col):
        # (without one, strip_control_characters changes nothing and finds nothing: skipped)
        sub, control = rules.strip_control_characters(sub, table)
    typed, found = coerce_table(sub, TABLES[table], codes={}, date_format=date_format, partial_dates=partial_dates,
                                only=frozenset([column]))
    f = pd.concat([control, found], ignore_index=True) if len(control) else found
    return typed[column], _records(f.loc[f["column"].eq(column).to_numpy()]) if len(f) else Found()


@lru_cache(maxsize=4_096)
def _canonical(name: str, columns: tuple, nonempty: bool, empty: tuple) -> tuple[list, Found]:
    """The header step (no mapping): its findings depend only on the header and on which columns are empty."""
    from rwestudy.io.mapping import StudyConfig
    from rwestudy.study import _canonical_columns

    frame = pd.DataFrame({c: [None if e else "x"] * (1 if nonempty else 0) for c, e in zip(columns, empty)},
                         dtype=object)
    out, found = _canonical_columns(frame, name, StudyConfig())
    return list(out.columns), _records(found)


class _Memo:
    """A bounded memo shared by the server's threads (oldest entry out first)."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, {}, threading.Lock()

    def get(self, key, compute):
        hit = self.items.get(key)
        if hit is None:
            hit = compute()
            with self.lock:
                while len(self.items) >= self.size:
                    self.items.pop(next(iter(self.items)))
                self.items[key] = hit
        return hit


_TABLES_MEMO = _Memo(TABLES_CACHE)
_RULES_MEMO = _Memo(RULES_CACHE)


class _CachedSteps:
    """`rwestudy.study.Steps` with both steps memoised (see the module docstring).

    `cells` holds each table's raw text per column (`raw_tables`); the frames handed in
    by `check_raw` are only placeholders with the rows' index. Findings come back as
    `Found` records, which `check_rows` combines (this class is not for `study_from_raw`).
    """

    def __init__(self, cells: dict[str, dict[str, tuple]]):
        from rwestudy.study import Steps

        self.steps = Steps()
        self.cells = cells
        self.keys: dict[str, tuple] = {}  # table -> its raw text outside the row-local columns

    def type_table(self, frame, spec, name, config):
        values = self.cells[name]
        index = tuple(frame.index)
        if config.columns or config.codes or config.sheets:  # never from check_rows: the plain step
            typed, parts = self.steps.type_table(raw_frame(values), spec, name, config)
            return typed, [_records(p) for p in parts]
        key = (name, index, tuple(values.values()), config.date_format, config.partial_dates)
        typed, found = _TABLES_MEMO.get(key, lambda: self._type(spec, name, config, values, index))
        local = row_local_columns()[name]
        self.keys[name] = (name, index, tuple((c, v) for c, v in values.items() if c not in local))
        return typed, [found]

    def _type(self, spec, name, config, values, index):
        columns = tuple(values)
        empty = tuple(all(v is None for v in values[c]) for c in columns)
        out_cols, header_findings = _canonical(name, columns, len(index) > 0, empty)
        if out_cols != list(columns):  # a header the contract does not have as it is: the plain step
            typed, parts = self.steps.type_table(raw_frame(values), spec, name, config)
            return typed, Found(f for p in parts for f in _records(p))
        pids, centers = values.get("patient_id"), values.get("center")
        typed, found = {}, list(header_findings)
        for c in columns:
            series, column_found = _typed_column(name, c, values[c], index, pids, centers, config.date_format,
                                                 config.partial_dates)
            typed[c] = series.array  # the arrays, not the Series: no alignment of 40 indexes
            found += column_found
        return pd.DataFrame(typed, index=pd.Index(np.array(index, dtype="int64"), name="row")), Found(found)

    def check_tables(self, tables, cutoff):
        today = pd.Timestamp.today().normalize()
        key = (cutoff, today, tuple(self.keys.get(t) for t in sorted(tables)))
        if None in key[2]:
            tables, parts = self.steps.check_tables(tables, cutoff)
            return tables, [_records(p) for p in parts]

        def compute():
            # Copies without the row-local columns: the result is a function of the key alone.
            out, parts = self.steps.check_tables(
                {t: f.drop(columns=[c for c in row_local_columns()[t] if c in f.columns]).copy()
                 for t, f in tables.items()}, cutoff)
            p = out.get("patients")
            centers = {} if p is None or not {"patient_id", "center"} <= set(p.columns) else \
                _first_center(p["patient_id"].tolist(), p["center"].tolist())
            # Only the findings and the centers are kept: check_rows needs no typed table.
            return [Found(f for part in parts for f in _records(part))], centers
        found, centers = _RULES_MEMO.get(key, compute)
        self.centers = centers
        return tables, found


class _Rows:
    """What `_CachedSteps` reads of a raw frame: its index (row numbers 2.. as the CSV reader gives)."""

    def __init__(self, n: int):
        self.index = range(2, n + 2)


def _first_center(pids: list, centers: list) -> dict:
    """patient_id -> center of its first row (as `study_from_raw` maps findings to centers)."""
    out = {}
    for pid, center in zip(pids, centers):
        if not _missing(pid) and pid not in out:
            out[pid] = None if _missing(center) else center
    return out


_SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def _combined(found: list[dict], centers: dict) -> list[dict]:
    """`validation.findings.combine` on records: the patient's center filled in, sorted for
    reading (severity, table, row, column; a missing one first; ties keep their order)."""
    out = []
    for f in found:
        if f.get("center") is None and f.get("patient_id") is not None and centers:
            f = {**f, "center": centers.get(f["patient_id"])}
        out.append(f)

    def first_if_missing(v):
        return (0, 0) if v is None else (1, v)

    def row(v):
        try:
            return first_if_missing(None if v is None else float(v))
        except (TypeError, ValueError):
            return (0, 0)
    return sorted(out, key=lambda f: (first_if_missing(_SEVERITY_ORDER.get(f["severity"])),
                                      first_if_missing(f["table"]), row(f["row"]), first_if_missing(f["column"])))


def check_rows(rows: list[tuple[str, int | None, dict[str, str]]], cutoff_date=None) -> list[dict]:
    """Findings for `rows` = [(table, record id, contract row)], as JSON-ready dicts.

    A finding's `record_id` is the record it is about (None for a table-level finding).
    """
    from rwestudy.study import check_raw

    by_table: dict[str, list[tuple[int | None, dict]]] = {}
    for table, record_id, values in rows:
        by_table.setdefault(table, []).append((record_id, values))
    cells = raw_tables({t: [v for _, v in items] for t, items in sorted(by_table.items())})
    # check_raw hands each table's frame to the steps, which read `cells` instead: its rows are enough.
    raw = {_norm(t): (_Rows(len(by_table[t])), f"{t}.csv") for t in cells}
    config = load_mapping(None, cutoff_date=cutoff_date.isoformat() if cutoff_date else None)
    steps = _CachedSteps(cells)
    steps.centers = {}
    _, parts, _ = check_raw(raw, empty_findings(), config, steps)
    found = [f for p in parts if len(p) for f in (p if isinstance(p, Found) else _records(p))]
    out = []
    for f in _combined(found, steps.centers):
        if f["table"] not in TABLES:
            continue
        items = by_table.get(f["table"], [])
        row = None if f["row"] is None else int(f["row"])
        # Row n (header = row 1) is the (n-2)th row of its table.
        record_id = items[row - 2][0] if row is not None and 0 <= row - 2 < len(items) else None
        out.append({"severity": f["severity"], "rule": f["rule"], "table": f["table"], "record_id": record_id,
                    "field": f["column"], "value": f["value"], "message": f["message"]})
    return out
