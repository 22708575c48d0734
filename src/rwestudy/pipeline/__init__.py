"""One way to run a study, for the CLI, Python users and the server: load -> validate -> derive ->
analyse -> render (`run.py`), output folders that appear whole or not at all (`output.py`), one data
cut-off (`cutoff.py`), the figure helper process (`helper.py`)."""
from rwestudy.pipeline.cutoff import Cutoff, parse_cutoff
from rwestudy.pipeline.errors import OutputBusy, PipelineError, ValidationFailed
from rwestudy.pipeline.run import (
    AnalysisRun, CompareRun, DemoRun, ReportRun, load, load_settings, run_analysis, run_compare, run_demo,
    run_report, validate_study,
)

__all__ = ["AnalysisRun", "CompareRun", "Cutoff", "DemoRun", "OutputBusy", "PipelineError", "ReportRun",
           "ValidationFailed", "load", "load_settings", "parse_cutoff", "run_analysis", "run_compare", "run_demo",
           "run_report", "validate_study"]
