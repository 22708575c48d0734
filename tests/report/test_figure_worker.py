"""The background figure worker draws the same set as in-process rendering, and stops cleanly."""
import time

import pytest

from rwestudy.analysis.plan import Plan
from rwestudy.analysis.run import analyze, plan_endpoints
from rwestudy.demo.generator import make_study
from rwestudy.report.build import build_report
from rwestudy.report.figure_worker import FigureWorker


@pytest.fixture(scope="module")
def analysed():
    tables = make_study(n_patients=60, n_centers=5, seed=11)
    return analyze(tables, Plan()), tables


def test_worker_report_has_every_planned_figure(analysed, tmp_path):
    results, tables = analysed
    worker = FigureWorker.start()
    if worker is None:
        pytest.skip("fork not available")
    files = build_report(results, tables, tmp_path, figure_worker=worker)
    names = {f.name for f in files.figures}
    from rwestudy.figures.render import plan_figures
    assert names == {j.name for j in plan_figures(results, tables)}
    for f in files.figures:
        for fmt in ("png", "svg"):  # the default formats
            assert (tmp_path / "figures" / f"{f.name}.{fmt}").stat().st_size > 1000
    html = (tmp_path / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == len(files.figures)


def test_unused_worker_stops_at_once():
    worker = FigureWorker.start()
    if worker is None:
        pytest.skip("fork not available")
    t = time.perf_counter()
    worker.close()
    assert not worker._proc.is_alive() and time.perf_counter() - t < 5


def test_a_failing_figure_is_an_error_not_a_hang(analysed, tmp_path):
    results, tables = analysed
    worker = FigureWorker.start()
    if worker is None:
        pytest.skip("fork not available")
    worker.render(None, tables, tmp_path / "figures")  # no results: plan_figures fails in the worker
    with pytest.raises(RuntimeError, match="drawing the figures failed"):
        worker.plan()
        worker.wait()
    worker.close()


def test_figures_drawn_early_are_identical_to_figures_drawn_at_the_end(tmp_path):
    # The CLI starts the patient-level figures right after deriving the endpoints, before the analysis;
    # their files must be the ones the full results give.
    from rwestudy.figures.render import render_all

    tables = make_study(n_patients=60, n_centers=5, seed=11)
    plan = Plan()
    worker = FigureWorker.start()
    if worker is None:
        pytest.skip("fork not available")
    out = tmp_path / "bg"
    endpoints = plan_endpoints(tables, plan)
    worker.early(tables, endpoints, plan, out / "figures")
    results = analyze(tables, plan, endpoints=endpoints)
    files = build_report(results, tables, out, figure_worker=worker)
    ref = render_all(results, tables, tmp_path / "ref", formats=("png",))
    assert [f.name for f in files.figures] == [f.name for f in ref]
    for f in ref:
        assert (out / "figures" / f"{f.name}.png").read_bytes() == f.paths["png"].read_bytes(), f.name


def test_figures_the_early_child_could_not_draw_are_drawn_at_the_end(analysed, tmp_path):
    # The early child gets no endpoints (it fails at once); the report must still hold every figure,
    # the early ones included, drawn by the helper once the results arrive.
    from rwestudy.figures.render import drawn_early, plan_figures

    results, tables = analysed
    worker = FigureWorker.start()
    if worker is None:
        pytest.skip("fork not available")
    worker.early(tables, None, Plan(), tmp_path / "figures")
    files = build_report(results, tables, tmp_path, figure_worker=worker)
    planned = {j.name for j in plan_figures(results, tables)}
    assert {f.name for f in files.figures} == planned
    assert any(drawn_early(n) for n in planned) and any(not drawn_early(n) for n in planned)
    for name in planned:
        for fmt in ("png", "svg"):  # the default formats
            assert (tmp_path / "figures" / f"{name}.{fmt}").stat().st_size > 1000


def test_drawn_early_covers_what_needs_only_endpoints():
    from rwestudy.figures.render import drawn_early

    assert drawn_early("km_OS") and drawn_early("swimmer") and drawn_early("oncoprint")
    assert not drawn_early("km_by_sex") and not drawn_early("forest_OS") and not drawn_early("response")
