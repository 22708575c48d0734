"""The self-contained HTML report: one file, figures embedded, tables of contents, printable.

Every value the template prints goes through `io.cell_text.clean_text` (Jinja's ``finalize``),
then through HTML escaping: control characters are shown escaped, markup as typed.
"""
from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from rwestudy.io.cell_text import clean

_ENV = None


def _env() -> Environment:
    global _ENV
    if _ENV is None:  # built once per process: template parsing is the slow part
        _ENV = Environment(loader=PackageLoader("rwestudy.report", "templates"),
                           autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True,
                           finalize=clean)
    return _ENV


def embed(path: Path) -> str:
    """A data: URI, so the report is one file that can be mailed or archived."""
    mime = {".svg": "image/svg+xml", ".png": "image/png"}[path.suffix.lower()]
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(title: str, meta: str, parts: list[dict]) -> str:
    """parts: [{anchor, title, paragraphs, warnings, items: [{kind: table|figure, anchor, title, table|src}]}]."""
    return _env().get_template("report.html.j2").render(title=title, meta=meta, parts=parts)
