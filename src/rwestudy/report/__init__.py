"""The report: tables, text and figures of an analysed study as HTML, Word and Excel.

Names are imported lazily so that `rwestudy.report.figure_worker` can be
started before the heavy statistical imports.
"""
__all__ = ["ReportFiles", "build_report", "report_tables", "write_report"]


def __getattr__(name: str):
    if name in __all__:
        from rwestudy.report import build

        return getattr(build, name)
    raise AttributeError(f"module 'rwestudy.report' has no attribute {name!r}")
