"""docs/redcap.md's mapping example parses and says what it means."""
import re
from pathlib import Path

from rwestudy.io.redcap.mapping import load_redcap_mapping

ROOT = Path(__file__).resolve().parents[2]


def test_redcap_doc_mapping_example_is_valid(tmp_path):
    text = (ROOT / "docs" / "redcap.md").read_text()
    example = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    (tmp_path / "m.toml").write_text(example)
    m = load_redcap_mapping(tmp_path / "m.toml")
    assert m.instruments["adverse_events"] == "toxicity" and m.fields["patients"]["prior_asct"] == "prior_tx___1"
    assert m.codes["patients.sex"] == {"2": "M", "1": "F"} and m.missing_codes == ("UNK", "NASK", "-999")
