"""Timeline marks for benchmarks: ``RWESTUDY_TRACE=file`` appends "epoch-seconds pid cpu-seconds message" lines.

Why: the report runs in three processes (the CLI, the figure helper and its
drawing workers); a profiler sees one. `benchmarks/bench_report.py` sets the
variable and prints the merged timeline. Off (one dict lookup) otherwise.
"""
from __future__ import annotations

import os
import time

_PATH = os.environ.get("RWESTUDY_TRACE")


def mark(message: str) -> None:
    """Append one timestamped line when tracing is on (never raises)."""
    if not _PATH:
        return
    try:
        with open(_PATH, "a", encoding="utf-8") as fh:
            fh.write(f"{time.time():.4f} {os.getpid()} {time.process_time():.3f} {os.times().system:.3f} {message}\n")
    except OSError:
        pass
