"""One look for every figure: palette, fonts, sizes, and saving.

Colours are the Okabe-Ito palette (distinguishable with every common form of
colour-blindness, and in greyscale by lightness for the first few). Sizes are
in inches at print size, fonts in points, so a figure placed at its width in a
journal column prints at the intended size (7-9 pt text, as journals ask).

Figures are built on `matplotlib.figure.Figure` with an Agg canvas, never
through pyplot: no global figure registry, no GUI backend, nothing to close.
"""
from __future__ import annotations

import functools
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.textpath import TextToPath
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from rwestudy import __version__
from rwestudy.figures._font import register_fast_font
from rwestudy.figures._png import png_bytes
from rwestudy.core.format import fmt_p as report_fmt_p

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
GREY, LIGHT_GREY = "#8C8C8C", "#D9D9D9"
# Curve order: strongest contrast first; yellow last (faint on white).
SERIES = [OKABE_ITO[k] for k in ("blue", "vermillion", "green", "orange", "purple", "sky_blue", "black", "yellow")]
# Response categories: good -> bad runs green -> blue -> orange -> vermillion; NE neutral.
RESPONSE_COLORS = {"CR": OKABE_ITO["green"], "PR": OKABE_ITO["sky_blue"], "SD": OKABE_ITO["orange"],
                   "PD": OKABE_ITO["vermillion"], "NE": GREY}
RESPONSE_NAMES = {"CR": "Complete response", "PR": "Partial response", "SD": "Stable disease",
                  "PD": "Progressive disease", "NE": "Not evaluable"}
# Worst AE grade: light to dark as severity rises (also readable in greyscale).
GRADE_COLORS = {"1-2": OKABE_ITO["sky_blue"], "3": OKABE_ITO["orange"], "4": OKABE_ITO["vermillion"],
                "5": OKABE_ITO["black"], "grade NA": LIGHT_GREY}

# Journal widths (inches): single column ~89 mm, 1.5 column ~120 mm, double ~183 mm.
SINGLE, ONE_HALF, DOUBLE = 3.5, 4.7, 7.2
FONT_SIZE, SMALL, LARGE = 8.0, 7.0, 9.0
# Headings are not bold: a bold face is a second font file to subset and embed in every PDF
# (~0.05 s per figure, a third of the PDF time). Set "bold" here to trade speed for emphasis.
HEAD_WEIGHT = "normal"

_FONT_PREFERENCE = ("Arial", "Helvetica", "Liberation Sans", "Nimbus Sans", "DejaVu Sans")


def _font_family() -> str:
    # Pick the first installed font ourselves: listing absent ones makes matplotlib log a warning per family.
    names = {f.name for f in fontManager.ttflist}
    return next((f for f in _FONT_PREFERENCE if f in names), "DejaVu Sans")


# The same font, reduced once per machine so that each PDF embeds it fast (see _font.py).
FONT = register_fast_font(_font_family())

RC = {
    "font.family": "sans-serif", "font.sans-serif": [FONT], "font.size": FONT_SIZE,
    "axes.labelsize": LARGE, "axes.titlesize": LARGE, "axes.linewidth": 0.8,
    "axes.spines.top": False, "axes.spines.right": False,
    "xtick.labelsize": FONT_SIZE, "ytick.labelsize": FONT_SIZE, "xtick.major.width": 0.8,
    "ytick.major.width": 0.8, "xtick.major.size": 3.0, "ytick.major.size": 3.0,
    "legend.fontsize": FONT_SIZE, "legend.frameon": False, "lines.linewidth": 1.4,
    "axes.unicode_minus": True, "mathtext.default": "regular",
    # Text stays text: editable in Illustrator/Inkscape, and much faster to write than glyph outlines.
    "svg.fonttype": "none", "pdf.fonttype": 42, "ps.fonttype": 42,
    # SVG ids from a fixed salt, not a random one: the same figure gives the same file.
    "svg.hashsalt": "rwestudy",
    "savefig.facecolor": "white", "figure.facecolor": "white",
    # Unhinted glyphs in the PNG too: at 300 dpi hinting only bends outlines toward a pixel grid
    # nobody sees, and the PNG then uses the same text metrics as the PDF and SVG (which are never
    # hinted). Also ~14% less CPU for the PNGs (FreeType's autohinter runs on every glyph drawn).
    "text.hinting": "no_hinting",
}


def context():
    """The figure style as a context manager (rcParams are read at build *and* save time)."""
    return matplotlib.rc_context(RC)


def new_figure(width: float, height: float) -> Figure:
    """A pyplot-free Figure with an Agg canvas (so ``fig.canvas.draw()`` works in tests)."""
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


_TTP = TextToPath()


@functools.lru_cache(maxsize=4096)  # the same labels are measured for every panel and figure
def text_width(text: str, size: float = FONT_SIZE, weight: str = "normal") -> float:
    """Width in inches of a one-line string: lays out margins before drawing (no extra render pass)."""
    if not text:
        return 0.0
    prop = FontProperties(family=[FONT], size=size, weight=weight)
    w, _, _ = _TTP.get_text_width_height_descent(text, prop, ismath=False)
    return w / 72.0


def pretty(text: str) -> str:
    """Typographic symbols for display (``>=`` -> ``≥``); the records keep ASCII."""
    return str(text).replace(">=", "\u2265").replace("<=", "\u2264")


def fmt_p(p) -> str:
    """A p value as the report's tables print it (one rule for tables, text and figures)."""
    text = report_fmt_p(p)
    return text.replace("<", "< ") if text.startswith("<") else text


def fixed_ticks(axis, positions, labels=None, **label_kw) -> None:
    """Ticks at ``positions`` labelled ``labels`` (``fontsize``/``rotation`` for the labels).

    Why not ``Axes.set_xticks(positions, labels)``: it builds every Tick (two
    lines, two texts) at once, about 12 ms per axis and ~40 axes per report;
    a fixed locator and formatter draw the same figure (tests compare pixels)
    with ticks made once, when drawn. Like set_ticks, the view is widened to
    the ticks.
    """
    positions = list(positions)
    if not positions:
        axis.set_major_locator(NullLocator())
        return
    axis.set_major_locator(FixedLocator(positions))
    if labels is not None:
        axis.set_major_formatter(FixedFormatter([str(label) for label in labels]))
    lo, hi = axis.get_view_interval()
    if min(positions) < min(lo, hi) or max(positions) > max(lo, hi):
        axis.set_view_interval(min(positions), max(positions))
    params = {}
    if "fontsize" in label_kw:
        params["labelsize"] = label_kw.pop("fontsize")
    if "rotation" in label_kw:
        params["labelrotation"] = label_kw.pop("rotation")
    if label_kw:
        raise TypeError(f"fixed_ticks: unsupported label options {sorted(label_kw)}")
    if params:
        axis.set_tick_params(**params)


def warm_up(formats=("png", "svg")) -> None:
    """Import the writers and load the font once (a forked worker then inherits them warm)."""
    from matplotlib.font_manager import findfont, get_font

    if "pdf" in formats:
        import fontTools.subset  # noqa: F401  (PDF font subsetting; ~0.1 s to import)
        import matplotlib.backends.backend_pdf  # noqa: F401
    if "svg" in formats:
        import matplotlib.backends.backend_svg  # noqa: F401
    with context():  # load it with the style's text settings
        get_font(findfont(FontProperties(family=[FONT])))


_SOFTWARE = f"rwestudy {__version__} (matplotlib {matplotlib.__version__})"


def _render_rgba(fig: Figure, dpi: float) -> np.ndarray:
    """The figure drawn by Agg at ``dpi`` as an (h, w, 4) array (as savefig would draw it for PNG).

    A view of the renderer's buffer (no 10 MB copy per figure): it stays valid until the
    canvas draws again, so encode it at once.
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    old = fig.dpi
    fig.dpi = dpi
    try:
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())  # the view keeps the renderer's buffer alive
    finally:
        fig.dpi = old


def save_figure(fig: Figure, out_dir, name: str, formats=("png", "svg"), dpi: int = 300) -> dict[str, Path]:
    """Write ``<out_dir>/<name>.<fmt>`` for each format; returns {format: path}.

    PNG is written at ``dpi`` with the dpi recorded in the file (journals
    check it), by our own encoder (`_png`: 2.4x faster than Pillow's here).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    with context():
        for fmt in formats:
            fmt = fmt.lower().lstrip(".")
            path = out / f"{name}.{fmt}"
            if fmt == "png":
                path.write_bytes(png_bytes(_render_rgba(fig, dpi), dpi, software=_SOFTWARE))
                paths[fmt] = path
                continue
            kwargs = {}
            if fmt == "pdf":
                kwargs["metadata"] = {"Creator": "rwestudy", "CreationDate": None}  # reproducible bytes
            elif fmt == "svg":
                kwargs["metadata"] = {"Date": None}
            fig.savefig(path, format=fmt, dpi=dpi, facecolor="white", **kwargs)
            paths[fmt] = path
    return paths
