"""Figures drawn by a helper process started before the analysis, so the report is ready sooner.

Why: on the 2-core machines our users have, reading and analysing a study is
serial work that leaves one core idle for about 2.5 s, while importing
matplotlib and preparing fonts costs about 0.8 s before the first figure. The
helper is forked at once, warms up on the idle core, draws the figures that
need only the endpoints (swimmer, oncoprint, overall Kaplan-Meier curves from
`analysis.run.overall_survival`) as soon as they are derived, receives the results
when the analysis ends (one pickle), sends back the figure plan at once (so
the parent writes the Excel and Word tables meanwhile), then draws the figures
in two forked workers (`render_all(workers=2)`) and reports the files.

POSIX only (fork); elsewhere, and when anything fails to start, the report
draws its figures in-process as before.
"""
from __future__ import annotations

import atexit
import multiprocessing
import os
import traceback
from pathlib import Path

from rwestudy._trace import mark


def _early(study, endpoints, plan, out_dir: str, formats, dpi) -> None:
    """Child process: the figures that need no more than the endpoints (`render.drawn_early`)."""
    from rwestudy.analysis.run import Results, overall_survival
    from rwestudy.figures import render

    mark("early: starts")
    records, _ = overall_survival(endpoints, plan)
    partial = Results(records=records, endpoints=endpoints, plan=plan)
    jobs = render.plan_figures(partial, study)
    render.render_all(partial, study, out_dir, formats=formats, dpi=dpi,
                      only={j.name for j in jobs if render.drawn_early(j.name)})
    mark("early: figures written")


def _serve(conn, parent_end, workers: int) -> None:
    # Close our copy of the parent's end: when the parent exits or gives up, recv() then ends with EOF.
    parent_end.close()
    try:
        from rwestudy.figures import render, style
        import rwestudy.analysis.run  # noqa: F401  (unpickling Results needs its class)

        style.warm_up()
        mark("helper: warmed up")
    except Exception:  # noqa: BLE001
        conn.send(("error", traceback.format_exc()))
        return
    early = None
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the parent stopped (validation errors, --no-figures): nothing to draw
            if early is not None:
                early.terminate()
            return
        if msg[0] == "early":  # draw what needs only the endpoints while the parent analyses
            early = multiprocessing.get_context("fork").Process(target=_early, args=msg[1:])
            early.start()
            continue
        if msg[0] == "render":
            break
        return
    _, results, study, out_dir, formats, dpi = msg
    mark("helper: results received")
    try:
        jobs = render.plan_figures(results, study)
        conn.send(("plan", [(j.name, j.title) for j in jobs]))
        skip = {j.name for j in jobs if render.drawn_early(j.name)} if early is not None else set()
        infos = render.render_all(results, study, out_dir, formats=formats, dpi=dpi, workers=workers, skip=skip)
        out = Path(out_dir)
        if early is not None:
            early.join()
            # Anything the early child did not finish is drawn here rather than lost.
            missing = skip if early.exitcode != 0 else {
                n for n in skip if not all((out / f"{n}.{f}").exists() for f in formats)}
            if missing:
                infos += render.render_all(results, study, out_dir, formats=formats, dpi=dpi, only=missing)
        drawn = {i.name for i in infos}
        for j in jobs:  # the early ones, in plan order, when their files exist
            if j.name not in drawn and all((out / f"{j.name}.{f}").exists() for f in formats):
                infos.append(render.FigureInfo(j.name, j.title, {f: out / f"{j.name}.{f}" for f in formats}))
        order = {j.name: k for k, j in enumerate(jobs)}
        infos.sort(key=lambda i: order.get(i.name, len(order)))
        mark("helper: all figures written")
        conn.send(("done", [(i.name, i.title, {k: str(v) for k, v in i.paths.items()}) for i in infos]))
    except Exception:  # noqa: BLE001
        conn.send(("error", traceback.format_exc()))


class PlannedFigure:
    """A figure known by name and caption before it is drawn (paths are where it will be)."""

    def __init__(self, name: str, title: str, paths: dict):
        self.name, self.title, self.paths = name, title, {k: Path(v) for k, v in paths.items()}


class FigureWorker:
    """Start with `FigureWorker.start()` as early as possible; then `render(...)`, `plan()`, `wait()`."""

    def __init__(self, proc, conn):
        self._proc, self._conn = proc, conn
        self._out = None
        self._formats = ()

    @classmethod
    def start(cls, workers: int = 2) -> "FigureWorker | None":
        if os.name != "posix" or "fork" not in multiprocessing.get_all_start_methods():
            return None
        try:
            ctx = multiprocessing.get_context("fork")
            parent, child = ctx.Pipe()
            # Not a daemon: it forks the drawing workers itself. It exits on EOF when the parent goes away.
            proc = ctx.Process(target=_serve, args=(child, parent, workers))
            proc.start()
            child.close()
            worker = cls(proc, parent)
            atexit.register(worker.close)  # a parent that stops early (bad data) does not wait for it
            return worker
        except OSError:
            return None

    def early(self, study, endpoints, plan, out_dir, formats=("png", "svg"), dpi: int = 300) -> None:
        """Start the figures that need only the endpoints (swimmer, oncoprint, overall Kaplan-Meier) now.

        ``endpoints``: `analysis.run.plan_endpoints(study, plan)`, the ones the analysis is given.
        """
        self._conn.send(("early", study, endpoints, plan, str(out_dir), tuple(formats), dpi))

    def render(self, results, study, out_dir, formats=("png", "svg"), dpi: int = 300) -> None:
        self._out, self._formats = Path(out_dir), tuple(formats)
        self._conn.send(("render", results, study, str(out_dir), self._formats, dpi))

    def _recv(self, expected: str):
        kind, payload = self._conn.recv()
        if kind == "error":
            raise RuntimeError(f"drawing the figures failed:\n{payload}")
        if kind != expected:
            raise RuntimeError(f"figure worker sent {kind!r}, expected {expected!r}")
        return payload

    def plan(self) -> list[PlannedFigure]:
        """The figures that will be drawn, with the paths they will have."""
        return [PlannedFigure(name, title, {f: self._out / f"{name}.{f}" for f in self._formats})
                for name, title in self._recv("plan")]

    def wait(self) -> list[PlannedFigure]:
        """Block until every figure is written; the figures actually drawn (one may be skipped)."""
        done = [PlannedFigure(*x) for x in self._recv("done")]
        self.close()
        return done

    def close(self) -> None:
        """Stop the helper: at once if it has nothing left to draw."""
        if self._conn.closed:
            return
        self._conn.close()
        if self._proc.is_alive() and self._out is None:
            self._proc.terminate()  # never asked to draw: no files half-written
        self._proc.join(timeout=10)
