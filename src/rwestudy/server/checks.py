"""Checks as the user saves: `rwestudy validate`'s own rules, run on one patient's rows.

The patient's rows (with the values about to be saved) are written as a CSV
study folder and read back with `rwestudy.load_study`, so types, codes,
ranges, date order, cross-form consistency and CTCAE terms are checked by the
very code that checks a center's spreadsheet; nothing is re-implemented here.
Each finding is mapped back to the record (row) and field it names.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from rwestudy.io.schema import TABLES
from rwestudy.server.snapshot import table_csv


def check_rows(rows: list[tuple[str, int | None, dict[str, str]]], cutoff_date=None) -> list[dict]:
    """Findings for `rows` = [(table, record id, contract row)], as JSON-ready dicts.

    A finding's `record_id` is the record it is about (None for a table-level finding).
    """
    from rwestudy.study import load_study

    by_table: dict[str, list[tuple[int | None, dict]]] = {}
    for table, record_id, values in rows:
        by_table.setdefault(table, []).append((record_id, values))
    with tempfile.TemporaryDirectory(prefix="rwestudy-check-") as d:
        for table, items in by_table.items():
            Path(d, f"{table}.csv").write_bytes(table_csv(table, [v for _, v in items]))
        study = load_study(d, cutoff_date=cutoff_date.isoformat() if cutoff_date else None)
    out = []
    for f in study.findings.astype(object).where(study.findings.notna(), None).to_dict(orient="records"):
        items = by_table.get(f["table"], [])
        row = f["row"]
        # CSV line n (header = line 1) is the (n-2)th row written above.
        record_id = items[int(row) - 2][0] if row is not None and 0 <= int(row) - 2 < len(items) else None
        if f["table"] not in TABLES:
            continue
        out.append({"severity": f["severity"], "rule": f["rule"], "table": f["table"], "record_id": record_id,
                    "field": f["column"], "value": f["value"], "message": f["message"]})
    return out
