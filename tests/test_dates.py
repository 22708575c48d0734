"""Date parsing: every accepted shape, and every rejected one, by hand."""
import datetime as dt

import pandas as pd
import pytest

from rwestudy.io.dates import parse_dates


def one(value, **kw):
    d, p = parse_dates(pd.Series([value], dtype=object), **kw)
    date = None if pd.isna(d.iloc[0]) else d.iloc[0].strftime("%Y-%m-%d")
    rule = None if p.empty else p["rule"].iloc[0]
    return date, rule


@pytest.mark.parametrize("value, kw, expected", [
    ("2020-03-04", {}, ("2020-03-04", None)),
    # the pandas trap: whitespace must not swap day and month
    (" 2020-03-04 ", {"date_format": "DD/MM/YYYY"}, ("2020-03-04", None)),
    ("2020-03-04 00:00:00", {}, ("2020-03-04", None)),
    ("2020-03-04T10:30", {}, ("2020-03-04", None)),
    (dt.datetime(2020, 3, 4, 15, 0), {}, ("2020-03-04", None)),
    (dt.date(2020, 3, 4), {}, ("2020-03-04", None)),
    ("04/03/2020", {}, (None, "date-ambiguous")),
    ("13/03/2020", {}, (None, "date-ambiguous")),  # never a guess, even when it could be
    ("04/03/2020", {"date_format": "DD/MM/YYYY"}, ("2020-03-04", None)),
    ("04.03.2020", {"date_format": "DD/MM/YYYY"}, ("2020-03-04", None)),
    ("04/03/2020", {"date_format": "MM/DD/YYYY"}, ("2020-04-03", None)),
    ("31/02/2020", {"date_format": "DD/MM/YYYY"}, (None, "date-impossible")),
    ("2021-02-29", {}, (None, "date-impossible")),  # 2021 is not a leap year
    ("2020-02-29", {}, ("2020-02-29", None)),
    ("2021-05", {}, (None, "date-partial")),
    ("2021", {}, (None, "date-partial")),
    ("2021-05", {"partial": "mid"}, ("2021-05-15", "date-imputed")),
    ("05/2021", {"partial": "first"}, ("2021-05-01", "date-imputed")),
    ("2021", {"partial": "mid"}, ("2021-07-01", "date-imputed")),
    ("2021", {"partial": "first"}, ("2021-01-01", "date-imputed")),
    (43894, {}, ("2020-03-04", "date-excel-serial")),  # Excel serial: 1899-12-30 + 43894 days
    (43894.0, {}, ("2020-03-04", "date-excel-serial")),
    ("43894", {}, ("2020-03-04", "date-excel-serial")),
    (43894.5, {}, (None, "date-invalid")),
    (-5, {}, (None, "date-invalid")),
    ("4-Mar-20", {}, (None, "date-invalid")),
    ("UNK", {}, (None, "date-invalid")),
    ("2020-13-01", {}, (None, "date-impossible")),
])
def test_one_value(value, kw, expected):
    assert one(value, **kw) == expected


def test_na_is_not_a_problem_and_index_is_kept():
    s = pd.Series([None, "2020-01-01"], index=[10, 11], dtype=object)
    d, p = parse_dates(s)
    assert p.empty
    assert list(d.index) == [10, 11]
    assert pd.isna(d.loc[10]) and d.loc[11] == pd.Timestamp("2020-01-01")


def test_unknown_format_is_a_programming_error():
    with pytest.raises(ValueError):
        parse_dates(pd.Series(["2020-01-01"]), date_format="YYYY/DD/MM")
