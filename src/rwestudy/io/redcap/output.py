"""Write an imported REDCap project as our study: ``study.xlsx`` and ``csv/<table>.csv``
(what `rwestudy validate|analyze|report` read), ``import_findings.csv`` (what was not taken
as it is) and ``import_rows.csv`` (every row of the export: imported, empty, or why not)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from rwestudy.io.writers import write_csv_folder, write_workbook


def write_import(result, out: str | Path) -> dict[str, Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # Nothing imported still gives a study to open (an empty patients table), never a crash.
    tables = result.tables or {"patients": pd.DataFrame(columns=["patient_id", "center"])}
    paths = {"xlsx": write_workbook(tables, out / "study.xlsx"), "csv": write_csv_folder(tables, out / "csv")}
    result.findings.to_csv(out / "import_findings.csv", index=False)
    result.accounting.to_csv(out / "import_rows.csv", index=False)
    paths["findings"], paths["rows"] = out / "import_findings.csv", out / "import_rows.csv"
    return paths
