"""The figure helper of a report run: started before the study is read, stopped when the run ends.

Why a helper: see `rwestudy.report.figure_worker`. Why the collector is held:
importing pandas and matplotlib creates ~10^6 objects and no garbage, and
drawing the figures allocates heavily; each full collection walked all of
them (0.1 s during the imports, 0.43 s of the 5.4 s of figure CPU, measured
with gc.callbacks). So collections are off while importing, then the
imported objects are frozen (skipped by the collector, and their pages not
copied by forked workers) and young garbage is collected less often. Both are
undone when the run ends, so a long-lived caller (a server) keeps its usual
collector; a process that exits after the run (the CLI) passes
``keep_frozen=True``, since unfreezing would make the collection at exit walk
every imported object again (0.2-0.3 s of CPU, measured).
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def figure_helper(enabled: bool = True, keep_frozen: bool = False) -> Iterator[object | None]:
    """A started `FigureWorker` (None when disabled or fork is unavailable); stopped on exit."""
    if not enabled:
        yield None
        return
    threshold, was_enabled = gc.get_threshold(), gc.isenabled()
    gc.disable()
    try:
        import rwestudy.analysis.run  # noqa: F401  (imported before the fork: the helper inherits it)
        from rwestudy.report.figure_worker import FigureWorker
    finally:
        gc.freeze()
        gc.set_threshold(50_000, 50, 100)
        gc.enable()
    worker = FigureWorker.start()
    try:
        yield worker
    finally:
        if worker is not None:
            worker.close()
        if not keep_frozen:
            gc.unfreeze()
            gc.set_threshold(*threshold)
            if not was_enabled:
                gc.disable()
