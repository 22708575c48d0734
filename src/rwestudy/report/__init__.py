"""The report: tables, text and figures of an analysed study as HTML, Word and Excel."""
from rwestudy.report.build import ReportFiles, build_report, report_tables, write_report

__all__ = ["ReportFiles", "build_report", "report_tables", "write_report"]
