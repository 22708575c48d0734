"""rwestudy: validated, reproducible analysis of real-world oncology studies.

>>> import rwestudy
>>> study = rwestudy.load_study("my_study.xlsx")   # doctest: +SKIP
>>> study.patients.head()                          # doctest: +SKIP
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_study", "Study"]


def __getattr__(name: str):
    # Lazy: `rwestudy --version` and `import rwestudy` stay fast (no pandas import).
    if name in ("load_study", "Study"):
        from rwestudy import study

        return getattr(study, name)
    raise AttributeError(f"module 'rwestudy' has no attribute {name!r}")
