"""Figures print p values by the same rule as the report's tables and text."""
import pytest

from rwestudy.figures.style import fmt_p as figure_p
from rwestudy.report.format import fmt_p as table_p


@pytest.mark.parametrize("p, shown", [(0.0337, "0.034"), (0.0004, "< 0.001"), (0.5136, "0.514"),
                                      (1.0, "1.000"), (float("nan"), "NA")])
def test_same_rule_as_tables(p, shown):
    assert figure_p(p) == shown
    assert figure_p(p).replace(" ", "") == table_p(p).replace(" ", "")
