"""What the workbook and CSV readers share: name normalisation and cell tests."""
from __future__ import annotations

import re


def _norm(name: str) -> str:
    """Header/sheet name as compared: lower case, spaces and dashes to underscores."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _empty(v) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "") or (isinstance(v, float) and v != v)


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s
