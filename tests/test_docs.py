"""Docs match the code: the format page is generated from the schema, the mapping
example parses, the README's commands are the ones CI runs."""
import re
from pathlib import Path

from rwestudy.io.mapping import load_mapping
from rwestudy.io.schema import schema_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_study_data_doc_is_current():
    assert (ROOT / "docs" / "study-data.md").read_text() == schema_markdown() + "\n"


def test_mapping_doc_example_is_valid(tmp_path):
    text = (ROOT / "docs" / "mapping.md").read_text()
    example = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    p = tmp_path / "m.toml"
    p.write_text(example)
    cfg = load_mapping(p)
    assert cfg.date_format == "DD/MM/YYYY" and cfg.sheets["patients"] == "Pazienti"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_cmd = re.findall(r"```bash\n(python3 -m venv .venv && .*pytest -q)\n```", readme)
    assert test_cmd, "README must give the test command"
    assert test_cmd[0].split("&& ")[-1] in ci
