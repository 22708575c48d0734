"""`rwestudy registry list/show/validate` on the Typer sub-app."""
from typer.testing import CliRunner

from rwestudy.registry.cli import app

runner = CliRunner()
ENV = {"COLUMNS": "250"}


def test_list_shows_every_entry_with_cutoff():
    r = runner.invoke(app, ["list"], env=ENV)
    assert r.exit_code == 0, r.output
    for text in ("lmind-primary", "lmind-long-term", "lmind-5year", "2020-10-30", "2022-11-14", "talos",
                 "korean-r2", "lenalidomide + rituximab"):
        assert text in r.output


def test_list_includes_user_files(user_dir):
    r = runner.invoke(app, ["list", "--registry-dir", str(user_dir)], env=ENV)
    assert r.exit_code == 0 and "my-cohort" in r.output and "(user)" in r.output


def test_show_prints_values_with_sources():
    r = runner.invoke(app, ["show", "talos"], env=ENV)
    assert r.exit_code == 0, r.output
    assert "47% (39/83)" in r.output and "reverse Kaplan-Meier" in r.output
    assert "percentages refer to total toxicities" in r.output and "10.1002/hon.70167" in r.output


def test_show_unknown_id_is_a_usage_error():
    r = runner.invoke(app, ["show", "nope"], env=ENV)
    assert r.exit_code == 2 and "no registry entry 'nope'" in r.output


def test_validate_ok_and_broken(user_dir, tmp_path):
    ok = runner.invoke(app, ["validate", "--dir", str(user_dir)], env=ENV)
    assert ok.exit_code == 0 and "valid" in ok.output
    bad = tmp_path / "bad"
    bad.mkdir()
    text = (user_dir / "my-cohort.toml").read_text().replace("pct = 60", "pct = 160")
    (bad / "my-cohort.toml").write_text(text)
    r = runner.invoke(app, ["validate", "--dir", str(bad)], env=ENV)
    assert r.exit_code == 1
    assert "my-cohort.toml: values.orr.pct" in r.output and "0 to 100" in r.output
    missing = runner.invoke(app, ["validate", "--dir", str(tmp_path / "nowhere")], env=ENV)
    assert missing.exit_code == 2
