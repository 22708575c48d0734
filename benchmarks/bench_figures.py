"""Time the report's figure set on the demo study: per figure and total, serial and with 2 workers.

    .venv/bin/python benchmarks/bench_figures.py              # png+svg+pdf at 300 dpi
    .venv/bin/python benchmarks/bench_figures.py --formats png

Prints import time, analysis time, then build+save seconds per figure per
format, and the wall time of `render_all` (workers=1 and 2). Each run is from
this fresh process (matplotlib's font cache warm, as after installation).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

t0 = time.perf_counter()
from rwestudy.figures import render  # noqa: E402
from rwestudy.figures.style import save_figure  # noqa: E402

T_IMPORT = time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--formats", default="png,svg,pdf")
    ap.add_argument("--dpi", type=int, default=300)
    args = ap.parse_args()
    formats = tuple(args.formats.split(","))
    from rwestudy.analysis.run import analyze
    from rwestudy.demo.generator import make_study

    study = make_study()
    t = time.perf_counter()
    res = analyze(study)
    t_an = time.perf_counter() - t
    print(f"import figures {T_IMPORT:.2f} s; analyze (96 patients) {t_an:.2f} s; formats {formats}, {args.dpi} dpi")
    with tempfile.TemporaryDirectory() as tmp:
        # First: the whole set from this fresh process (what a report build pays), then the breakdown.
        t = time.perf_counter()
        infos = render.render_all(res, study, Path(tmp) / "fresh", formats=formats, dpi=args.dpi, workers=2)
        print(f"render_all workers=2, fresh process: {time.perf_counter() - t:.2f} s, {len(infos)} figures")
        jobs = render.plan_figures(res, study)
        total = 0.0
        print(f"{'figure':34s} {'build':>6s} " + " ".join(f"{f:>6s}" for f in formats))
        for job in jobs:
            t = time.perf_counter()
            fig = job.build(res, **job.kwargs)
            tb = time.perf_counter() - t
            ts = []
            for f in formats:
                t = time.perf_counter()
                save_figure(fig, tmp, job.name, formats=(f,), dpi=args.dpi)
                ts.append(time.perf_counter() - t)
            total += tb + sum(ts)
            print(f"{job.name:34s} {tb:6.3f} " + " ".join(f"{x:6.3f}" for x in ts))
        print(f"sum per figure: {total:.2f} s for {len(jobs)} figures")
        for workers in (2, 1):
            t = time.perf_counter()
            infos = render.render_all(res, study, Path(tmp) / f"w{workers}", formats=formats, dpi=args.dpi,
                                      workers=workers)
            print(f"render_all workers={workers}: {time.perf_counter() - t:.2f} s, {len(infos)} figures, "
                  f"{sum(len(i.paths) for i in infos)} files")


if __name__ == "__main__":
    main()
