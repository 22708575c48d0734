"""The shipped registry: valid against its schema, every number sourced, L-MIND analyses kept apart."""
import datetime as dt
import json
import tomllib
from importlib.resources import files

import pytest

from rwestudy.registry import RegistryError, json_schema, load_registry, shipped_files, validate_registry
from rwestudy.registry.spec import SOURCE_QUALITY

from .conftest import VALID


@pytest.fixture(scope="module")
def studies():
    return load_registry()


def test_shipped_files_are_valid(studies):
    assert validate_registry() == []
    assert len(studies) == len(shipped_files()) >= 17
    assert len({s.id for s in studies}) == len(studies)


def test_shipped_schema_is_generated_from_the_spec():
    shipped = json.loads(files("rwestudy.registry").joinpath("study.schema.json").read_text(encoding="utf-8"))
    assert shipped == json_schema()


def test_every_shipped_file_validates_against_the_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema())

    def iso(x):  # TOML dates become the JSON Schema's "date" strings
        if isinstance(x, dict):
            return {k: iso(v) for k, v in x.items()}
        if isinstance(x, list):
            return [iso(v) for v in x]
        return x.isoformat() if isinstance(x, dt.date) else x

    for f in shipped_files():
        errors = [e.message for e in validator.iter_errors(iso(tomllib.loads(f.read_text(encoding="utf-8"))))]
        assert errors == [], f.name
    # and the schema does reject what our validator rejects
    bad = iso(tomllib.loads(VALID.replace('design = "retrospective"', 'design = "cohort"')))
    assert not validator.is_valid(bad)


def test_every_number_has_a_source_a_place_and_a_quote(studies):
    n_values = 0
    for s in studies:
        for v in s.all_values():
            n_values += 1
            for ref in [(v.source.key, v.where, v.quote), *((a["source"], a["where"], a["quote"]) for a in v.also)]:
                src = s.sources[ref[0]]
                assert src.citation and (src.doi or src.url), (s.id, v.name)
                assert ref[1].strip() and len(ref[2].strip()) >= 2, (s.id, v.name)
            assert v.source_quality in SOURCE_QUALITY
            assert len(v.quote.split()) <= 25, (s.id, v.name)  # a locating fragment, not a passage
    assert n_values > 200


def test_missing_values_are_absent_not_null(studies):
    geltamo = next(s for s in studies if s.id == "geltamo")
    assert set(geltamo.values) == {"pfs_median"} and geltamo.number("pfs_median") == 10.9
    for s in studies:
        for v in s.all_values():
            assert None not in v.data.values()


def test_lmind_analyses_are_separate_entries_with_their_own_cutoffs(studies):
    by_id = {s.id: s for s in studies}
    primary, long_term, final = by_id["lmind-primary"], by_id["lmind-long-term"], by_id["lmind-5year"]
    assert {primary.study, long_term.study, final.study} == {"L-MIND"}
    assert primary.number("orr") == 60 and primary.get("orr").data["n"] == 48
    assert long_term.number("orr") == 57.5 and long_term.get("orr").data["n"] == 46
    assert final.number("orr") == 57.5 and final.get("orr").ci == (45.9, 68.5)
    assert long_term.get("data_cutoff").data["value"] == dt.date(2020, 10, 30)
    assert final.get("data_cutoff").data["value"] == dt.date(2022, 11, 14)
    assert primary.get("data_cutoff") is None  # not found in the sources: not invented
    assert primary.get("orr").source_quality.startswith("S-")


def test_provenance_tags_and_definitions_are_kept(studies):
    by_id = {s.id: s for s in studies}
    assert by_id["qualls"].get("orr").source_quality == "S-TALOs"
    assert by_id["qualls"].get("orr").data["assessment"] == "final"
    talos = by_id["talos"]
    assert talos.get("ae_basis").data["value"] == "per event"
    assert talos.get("followup_median").data["method"] == "reverse Kaplan-Meier"
    assert talos.get("ecog_ge2_pct").derived  # summed table rows are labelled derived
    assert by_id["korean-r2"].get("orr").data == {"pct": 38, "n": 9, "N": 24, "assessment": "best"}


def test_a_broken_user_file_gives_precise_errors(tmp_path):
    broken = (VALID.replace('quote = "ORR 60% (30/50)"\n', "")
                   .replace("pct = 60", "pct = 70")
                   .replace('source = "A"\nwhere = "Table 1"', 'source = "B"\nwhere = "Table 1"')
                   .replace('design = "retrospective"', 'design = "cohort"')
              + '\n[values.median_pfs]\nvalue = 3\n')
    path = tmp_path / "my-cohort.toml"
    path.write_text(broken, encoding="utf-8")
    problems = validate_registry(extra_dirs=[tmp_path])
    got = {(p.file, p.field) for p in problems}
    f = str(path)
    assert (f, "values.orr.quote") in got
    assert (f, "values.orr.pct") in got and any("30/50" in p.problem for p in problems)
    assert (f, "values.n.source") in got and any("unknown source 'B'" in p.problem for p in problems)
    assert (f, "design") in got
    assert (f, "values.median_pfs") in got
    assert all(p.file == f for p in problems)  # shipped files are fine
    with pytest.raises(RegistryError) as exc:
        load_registry(extra_dirs=[tmp_path])
    assert "values.orr.quote" in str(exc.value)


def test_invalid_toml_and_id_clash_are_reported(tmp_path):
    (tmp_path / "bad.toml").write_text("id = \n", encoding="utf-8")
    (tmp_path / "talos.toml").write_text(VALID.replace('"my-cohort"', '"talos"'), encoding="utf-8")
    problems = {(p.file.rsplit("/", 1)[-1], p.field): p.problem for p in validate_registry(extra_dirs=[tmp_path])}
    assert "not valid TOML" in problems[("bad.toml", "-")]
    assert "already used" in problems[("talos.toml", "id")]


def test_user_folders_are_merged(user_dir):
    studies = load_registry(extra_dirs=[user_dir])
    mine = next(s for s in studies if s.id == "my-cohort")
    assert not mine.shipped and mine.number("orr") == 60 and mine.get("orr").source.doi == "10.0000/test"
    assert len(studies) == len(shipped_files()) + 1


def test_docs_reference_is_current_and_example_validates(tmp_path):
    import re
    from pathlib import Path

    from rwestudy.registry.spec import fields_markdown

    text = (Path(__file__).resolve().parents[2] / "docs" / "registry.md").read_text(encoding="utf-8")
    assert fields_markdown() in text
    example = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    (tmp_path / "my-cohort.toml").write_text(example, encoding="utf-8")
    assert validate_registry(extra_dirs=[tmp_path], shipped=False) == []
