import pandas as pd
import pytest

from rwestudy.demo.generator import make_study


@pytest.fixture(scope="session")
def demo_tables():
    """The demo study as canonical tables (generated once per session)."""
    return make_study()


@pytest.fixture(scope="session")
def small_tables():
    return make_study(n_patients=60, n_centers=8, seed=11)


def write_csvs(tables: dict[str, pd.DataFrame], folder):
    from rwestudy.io.writers import write_csv_folder

    return write_csv_folder(tables, folder)
