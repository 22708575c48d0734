"""Our PNG encoder: files decode (with Pillow, an independent decoder) to exactly what Agg drew."""
import io
import zlib

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from rwestudy.figures._png import png_bytes
from rwestudy.figures.style import _render_rgba, context, save_figure


def _decode(data: bytes):
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def test_opaque_image_is_pixel_exact():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    a[..., 3] = 255
    im = _decode(png_bytes(a, dpi=300, software="test"))
    assert im.mode == "RGBA" and im.size == (53, 37)
    assert np.array_equal(np.asarray(im), a)
    assert abs(im.info["dpi"][0] - 300) < 0.01 and im.info["Software"] == "test"


def test_transparent_pixels_keep_alpha():
    a = np.zeros((5, 7, 4), dtype=np.uint8)
    a[2, 3] = (10, 20, 30, 128)
    im = _decode(png_bytes(a, dpi=150))
    assert im.mode == "RGBA" and np.array_equal(np.asarray(im), a)
    assert round(im.info["dpi"][1]) == 150


def test_crc_of_every_chunk_is_valid():
    data = png_bytes(np.full((3, 4, 4), 255, dtype=np.uint8), dpi=72, software="x")
    pos, kinds = 8, []
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert int.from_bytes(data[pos + 8 + n:pos + 12 + n], "big") == zlib.crc32(kind + body)
        kinds.append(kind)
        pos += 12 + n
    assert kinds == [b"IHDR", b"pHYs", b"tEXt", b"IDAT", b"IEND"]


def test_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="RGBA"):
        png_bytes(np.zeros((3, 4, 3), dtype=np.uint8), dpi=300)


def test_figure_png_equals_matplotlib_savefig(tmp_path):
    fig = Figure(figsize=(2.0, 1.5), dpi=100)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [1, 0.5, 0.8])
    ax.set_title("Overall survival")
    ours = save_figure(fig, tmp_path, "f", formats=("png",), dpi=300)["png"]
    with context():  # the style's rc settings, as save_figure applies them
        fig.savefig(tmp_path / "mpl.png", format="png", dpi=300, facecolor="white")
    a, b = np.asarray(_decode(ours.read_bytes())), np.asarray(_decode((tmp_path / "mpl.png").read_bytes()))
    assert a.shape[:2] == b.shape[:2] == (450, 600)
    assert np.array_equal(a[..., :3], b[..., :3])
    assert fig.dpi == 100  # the figure's own dpi is restored
    assert _render_rgba(fig, 300).shape == (450, 600, 4)


@pytest.mark.parametrize("kind", ["labels", "rotated", "empty", "widening"])
def test_fixed_ticks_draw_what_set_ticks_draws(kind):
    from rwestudy.figures.style import fixed_ticks

    def fig_with(use_fixed):
        fig = Figure(figsize=(2.5, 1.8), dpi=100)
        ax = fig.add_subplot()
        ax.plot([0, 10], [0, 1])
        pos, labels, kw = [0, 3, 6, 9], ["0", "3", "6", "9"], {}
        if kind == "rotated":
            kw = {"rotation": 90, "fontsize": 6}
        elif kind == "empty":
            pos, labels = [], None
        elif kind == "widening":  # ticks beyond the data widen the view, as set_xticks does
            pos, labels = [0, 6, 12, 18], ["0", "6", "12", "18"]
        if use_fixed:
            fixed_ticks(ax.xaxis, pos, labels, **kw)
        elif labels is None:
            ax.set_xticks(pos)
        else:
            ax.set_xticks(pos, labels, **kw)
        return _render_rgba(fig, 150)

    assert np.array_equal(fig_with(True), fig_with(False))
