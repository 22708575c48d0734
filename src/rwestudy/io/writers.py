"""Write a study's tables as a workbook (one sheet per table) or a CSV folder."""
from __future__ import annotations

from pathlib import Path

import pandas as pd


def _iso(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
        elif out[c].dtype == object:
            out[c] = out[c].map(lambda v: v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else v)
    return out


def write_workbook(tables: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """One sheet per table; dates as real date cells (YYYY-MM-DD)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl", date_format="YYYY-MM-DD",
                        datetime_format="YYYY-MM-DD") as xw:
        for name, frame in tables.items():
            frame.to_excel(xw, sheet_name=name[:31], index=False)
    return path


def write_csv_folder(tables: dict[str, pd.DataFrame], folder: str | Path) -> Path:
    """One UTF-8 ``<table>.csv`` per table; dates as ISO text."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        _iso(frame).to_csv(folder / f"{name}.csv", index=False)
    return folder
