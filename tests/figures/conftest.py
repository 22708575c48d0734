import pytest

from rwestudy.analysis.run import analyze


@pytest.fixture(scope="session")
def demo_results(demo_tables):
    """The demo study analysed once for every figure test."""
    return analyze(demo_tables)
