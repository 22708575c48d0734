"""render_all writes every format, PNG at 300 dpi, and the set the brief asks for."""
from PIL import Image

from rwestudy.figures import FigureInfo, render_all, save_figure
from rwestudy.figures.km import km_figure


def test_render_all_writes_png_svg_pdf(demo_results, demo_tables, tmp_path):
    seen = []
    infos = render_all(demo_results, demo_tables, tmp_path, formats=("png", "svg", "pdf"),
                       progress=seen.append, workers=2)
    names = [i.name for i in infos]
    assert all(isinstance(i, FigureInfo) and i.title for i in infos)
    for e in ("OS", "PFS", "DoR", "DFS", "TTNT"):
        assert f"km_{e}" in names
    gt = demo_results.table("group_tests")
    significant = set(gt.loc[gt["p"] < 0.05, "variable"])
    assert {n[len("km_by_"):] for n in names if n.startswith("km_by_")} == significant
    assert {"forest_OS", "forest_PFS", "response", "swimmer", "adverse_events", "oncoprint"} <= set(names)
    assert len(seen) == len(infos)
    for info in infos:
        assert set(info.paths) == {"png", "svg", "pdf"}
        for fmt, path in info.paths.items():
            assert path.exists() and path.stat().st_size > 1000 and path.name == f"{info.name}.{fmt}"
        assert info.paths["pdf"].read_bytes()[:5] == b"%PDF-"
        assert b"<svg" in info.paths["svg"].read_bytes()[:2000]
        with Image.open(info.paths["png"]) as im:
            dpi = im.info["dpi"]
            assert abs(dpi[0] - 300) < 0.5 and abs(dpi[1] - 300) < 0.5
            assert im.size[0] > 900  # >= 3 in wide at 300 dpi


def test_save_figure_formats_and_dpi(demo_results, tmp_path):
    paths = save_figure(km_figure(demo_results, "PFS"), tmp_path / "sub", "pfs", formats=("png",), dpi=150)
    assert list(paths) == ["png"]
    with Image.open(paths["png"]) as im:
        assert round(im.info["dpi"][0]) == 150
        assert im.size[0] == round(3.5 * 150)
