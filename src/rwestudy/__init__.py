"""rwestudy: validated, reproducible analysis of real-world oncology studies.

>>> import rwestudy
>>> study = rwestudy.load_study("my_study.xlsx")             # doctest: +SKIP
>>> study.patients.head()                                    # doctest: +SKIP
>>> run = rwestudy.run_report("my_study.xlsx", "report/")    # doctest: +SKIP
>>> run.files.html, run.cutoff                               # doctest: +SKIP
"""
from __future__ import annotations

__version__ = "0.1.0"

_STUDY = ("load_study", "Study")
_PIPELINE = ("run_report", "run_analysis", "run_compare", "run_demo", "validate_study", "PipelineError")
__all__ = ["__version__", *_STUDY, *_PIPELINE]


def __getattr__(name: str):
    # Lazy: `rwestudy --version` and `import rwestudy` stay fast (no pandas import).
    if name in _STUDY:
        from rwestudy import study

        return getattr(study, name)
    if name in _PIPELINE:
        from rwestudy import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'rwestudy' has no attribute {name!r}")
