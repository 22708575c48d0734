"""`rwestudy serve init/adduser` on the command line: idempotent init, refusals as sentences."""
from __future__ import annotations

import sqlite3

import pytest

from tests.server.conftest import cli, db_handle

# Copies of the SQLite demo database (the PostgreSQL init is exercised by the server fixture).
pytestmark = pytest.mark.parametrize("server", ["sqlite"], indirect=True)


def test_init_again_migrates_and_keeps_the_data(server, tmp_path):
    db = tmp_path / "again.sqlite"
    before = db_handle(server, db).query("select count(*) from rwe_record")[0][0]
    out = cli("serve", "init", "--db", f"sqlite:///{db}", "--demo").stdout
    assert "Demo accounts" not in out and "database ready" in out
    assert sqlite3.connect(db).execute("select count(*) from rwe_record").fetchone()[0] == before
    assert sqlite3.connect(db).execute("pragma journal_mode").fetchone()[0] == "wal"


def test_adduser_refusals(server, tmp_path, centers):
    db = tmp_path / "users.sqlite"
    db_handle(server, db)
    url = f"sqlite:///{db}"
    a, _ = centers
    cases = [(["--role", "superuser", "--center", a], "--role must be one of"),
             (["--role", "investigator"], "needs --center"),
             (["--role", "coordinator", "--center", a], "works across centers"),
             (["--role", "viewer", "--center", "Atlantis"], "no center 'Atlantis'"),
             (["--role", "monitor", "--password", "1234"], "password too weak")]
    for extra, message in cases:
        args = ["serve", "adduser", "--db", url, "--username", "newuser"]
        if "--password" not in extra:
            args += ["--password", "a-good-long-passphrase"]
        proc = cli(*args, *extra, check=False)
        assert proc.returncode == 2 and message in proc.stderr.replace("\n", " "), (extra, proc.stderr)
        assert "Traceback" not in proc.stderr
    ok = cli("serve", "adduser", "--db", url, "--username", "newuser", "--password", "a-good-long-passphrase",
             "--role", "viewer", "--center", a)
    assert f"user newuser added as viewer of {a}" in ok.stdout
    row = sqlite3.connect(db).execute(
        "select u.password, m.role, c.name from auth_user u join rwe_membership m on m.user_id = u.id "
        "join rwe_center c on c.id = m.center_id where u.username = 'newuser'").fetchone()
    assert row[0].startswith("argon2$") and row[1:] == ("viewer", a)
    again = cli("serve", "adduser", "--db", url, "--username", "newuser", "--password", "another-long-passphrase",
                "--role", "monitor", check=False)
    assert again.returncode == 2 and "exists already" in again.stderr
