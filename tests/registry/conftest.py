import pytest

VALID = '''
id = "my-cohort"
label = "My cohort (2025)"
study = "Mine"
analysis = "primary"
design = "retrospective"
regimen = "tafasitamab + lenalidomide"
citation = "Doe J. My cohort. J Test 2025."
doi = "10.0000/test"

[sources.A]
citation = "Doe J. J Test 2025"
doi = "10.0000/test"
source_quality = "P"

[values.n]
value = 50
source = "A"
where = "Table 1"
quote = "Fifty patients were treated"

[values.orr]
pct = 60
n = 30
N = 50
ci = [45.2, 73.6]
assessment = "best"
source = "A"
where = "Results"
quote = "ORR 60% (30/50)"
'''


@pytest.fixture
def user_dir(tmp_path):
    d = tmp_path / "registry"
    d.mkdir()
    (d / "my-cohort.toml").write_text(VALID, encoding="utf-8")
    return d
