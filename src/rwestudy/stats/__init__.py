"""Statistics on plain DataFrames, each checked against R.

>>> import pandas as pd
>>> from rwestudy import stats
>>> d = pd.DataFrame({"t": [1, 2, 3, 4, 5], "e": [1, 1, 0, 1, 0]})
>>> round(float(stats.kaplan_meier(d, "t", "e").medians["median"].iloc[0]), 3)
4.0
"""
from rwestudy.stats.adverse_events import ae_tables
from rwestudy.stats.association import compare_categorical, compare_continuous
from rwestudy.stats.conventions import PROFILES, Conventions, get_conventions
from rwestudy.stats.cox import cox, cox_stepwise, cox_univariate, ph_test
from rwestudy.stats.descriptive import summarize_categorical, summarize_continuous, table_one
from rwestudy.stats.group_tests import compare_survival, trend_test
from rwestudy.stats.proportions import proportion_ci, proportion_table
from rwestudy.stats.response import response_by_group, response_table
from rwestudy.stats.survival import kaplan_meier, reverse_km_followup

__all__ = [
    "Conventions", "PROFILES", "ae_tables", "compare_categorical", "compare_continuous", "compare_survival",
    "cox", "cox_stepwise", "cox_univariate", "get_conventions", "kaplan_meier", "ph_test", "proportion_ci",
    "proportion_table", "response_by_group", "response_table", "reverse_km_followup", "summarize_categorical",
    "summarize_continuous", "table_one", "trend_test",
]
