"""What a pipeline run raises for problems the user can fix (the CLI prints them as one line, exit 2)."""
from __future__ import annotations
from rwestudy.exceptions import RwestudyError


class PipelineError(RwestudyError):
    """A problem with the run's inputs or options (bad plan, bad cut-off, unusable --out): one sentence."""


class OutputBusy(PipelineError):
    """Another run holds the lock of the output folder."""


class ValidationFailed(PipelineError):
    """The study has validation errors and the run was not told to go on (``allow_errors``)."""

    def __init__(self, message: str, study):
        super().__init__(message)
        self.study = study
