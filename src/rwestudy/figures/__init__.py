"""Publication figures from an analysis: Kaplan-Meier with numbers at risk, forest, swimmer,
response, adverse events, oncoprint; `render_all` writes the report's set.

Numbers come from the results records (what results.json holds); patient-level
figures read the study tables and show only pseudonymised patient ids.
Figures are `matplotlib.figure.Figure` objects on the Agg canvas (no pyplot).
"""
from rwestudy.figures.ae import ae_figure
from rwestudy.figures.forest import forest_figure
from rwestudy.figures.km import km_figure, risk_counts
from rwestudy.figures.oncoprint import oncoprint_figure
from rwestudy.figures.render import FigureInfo, plan_figures, render_all
from rwestudy.figures.response import response_figure
from rwestudy.figures.style import save_figure
from rwestudy.figures.swimmer import swimmer_figure

__all__ = ["FigureInfo", "ae_figure", "forest_figure", "km_figure", "oncoprint_figure", "plan_figures",
           "render_all", "response_figure", "risk_counts", "save_figure", "swimmer_figure"]
