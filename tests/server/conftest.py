"""A real `rwestudy serve run` in a subprocess on a free loopback port, with the demo study,
on SQLite and on PostgreSQL (a throw-away cluster, pgcluster.py; skipped where none can run).

Every HTTP test talks to it with urllib, as a client at a center would.
"""
from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

try:  # the server's dependencies are core, but a checkout's old venv may lack them
    import django  # noqa: F401
    import waitress  # noqa: F401
except ImportError:
    collect_ignore_glob = ["test_*.py"]

SRC = Path(__file__).resolve().parents[2] / "src"


def cli(*args, cwd=None, check=True, timeout=300) -> subprocess.CompletedProcess:
    # Never the checkout: a command without a SQLite file keeps its secret in the cwd.
    cwd = cwd if cwd is not None else tempfile.mkdtemp(prefix="rwestudy-cli-")
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    env.pop("RWESTUDY_SECRET_KEY", None)
    proc = subprocess.run([sys.executable, "-m", "rwestudy.cli", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"rwestudy {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Server:
    url: str
    db: str
    db_path: Path | None  # the SQLite file (None on PostgreSQL)
    log: Path
    passwords: dict[str, str]
    backend: str = "sqlite"
    cluster: object = None  # pgcluster.Cluster on PostgreSQL
    tokens: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, token: str | None = None, body=None) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return Reply(r.status, dict(r.headers), r.read())
        except urllib.error.HTTPError as e:
            return Reply(e.code, dict(e.headers), e.read())

    def token(self, username: str) -> str:
        if username not in self.tokens:
            r = self.call("POST", "/api/token", body={"username": username, "password": self.passwords[username]})
            assert r.status == 200, r.body
            self.tokens[username] = r.json["token"]
        return self.tokens[username]

    def query(self, sql: str) -> list[tuple]:
        """Read the live database directly, behind the server's back."""
        return db_handle(self).query(sql)


@dataclass
class DbHandle:
    """A database to tamper with: its --db URL, and SQL as its superuser (not as the application)."""
    url: str
    _connect: Callable

    def query(self, sql: str) -> list[tuple]:
        con = self._connect()
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def execute(self, sql: str) -> None:
        con = self._connect()
        try:
            con.execute(sql)
            con.commit()
        finally:
            con.close()


def db_handle(server: Server, copy_to: Path | None = None) -> DbHandle:
    """The live database, or (copy_to) a consistent copy of it: SQLite's backup API, or pg_dump."""
    if server.backend == "sqlite":
        if copy_to is None:
            return DbHandle(server.db, lambda: sqlite3.connect(server.db_path))
        src, dst = sqlite3.connect(server.db_path), sqlite3.connect(copy_to)
        src.backup(dst)
        src.close()
        dst.close()
        return DbHandle(f"sqlite:///{copy_to}", lambda: sqlite3.connect(copy_to))
    live = server.db.rsplit("/", 1)[1]
    name = live if copy_to is None else f"{live}_{copy_to.stem}"
    url = server.db if copy_to is None else server.cluster.copy_database(live, name)
    return DbHandle(url, lambda: server.cluster.admin(name))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_cluster():
    """A throw-away PostgreSQL cluster on loopback, or skip (saying why) where none can run."""
    from tests.server import pgcluster

    why = pgcluster.unavailable()
    if why:
        pytest.skip(why)
    cluster = pgcluster.start()
    yield cluster
    cluster.stop()


def start_server(db: str, cwd: Path, log: Path, env_extra: dict | None = None, port: int | None = None,
                 deadline_s: float = 90) -> subprocess.Popen:
    """`rwestudy serve run` on a free port; returns the process (with .url) once /api/schema answers."""
    port = port or free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC), **(env_extra or {})}
    env.pop("RWESTUDY_SECRET_KEY", None)
    with log.open("a") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "rwestudy.cli", "serve", "run", "--db", db,
                                 "--host", "127.0.0.1", "--port", str(port)], cwd=cwd, env=env,
                                stdout=fh, stderr=subprocess.STDOUT)
    proc.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(proc.url + "/api/schema", timeout=5) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("server did not start:\n" + log.read_text())
        time.sleep(0.1)


def init_demo(db: str, cwd: Path) -> dict[str, str]:
    """`serve init --demo` (+ a monitor for the throttle test); the demo accounts' passwords."""
    out = cli("serve", "init", "--db", db, "--demo", cwd=cwd).stdout
    passwords = dict(re.findall(r"^\s+(\w+)\s+(\S+)\s+\w+", out, flags=re.M))
    assert {"investigator_c10", "investigator_c07", "viewer_c10", "coordinator", "statistician"} <= set(passwords), out
    passwords["throttled"] = "Throttle-test-pw-1"
    cli("serve", "adduser", "--db", db, "--username", "throttled", "--password", passwords["throttled"],
        "--role", "monitor", cwd=cwd)
    return passwords


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """The demo study served over HTTP, on SQLite and on PostgreSQL (skipped where it cannot run)."""
    backend = request.param
    tmp = tmp_path_factory.mktemp(f"serve-{backend}")
    cluster, db_path = None, None
    if backend == "sqlite":
        db_path = tmp / "study.sqlite"
        db = f"sqlite:///{db_path}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        db = cluster.new_database("rwe_serve")
    passwords = init_demo(db, tmp)
    log = tmp / "server.log"
    proc = start_server(db, tmp, log)
    yield Server(proc.url, db, db_path, log, passwords, backend, cluster)
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="session")
def demo_patients():
    """patient_id -> center of the demo study, from the generator itself (the oracle)."""
    from rwestudy.demo.generator import make_study

    p = make_study()["patients"]
    return dict(zip(p["patient_id"], p["center"]))


@pytest.fixture(scope="session")
def centers(demo_patients):
    """The demo's two largest centers (A, B): the demo accounts' centers."""
    from collections import Counter

    (a, _), (b, _) = sorted(Counter(demo_patients.values()).items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    return a, b


@pytest.fixture(scope="session")
def django_routes(tmp_path_factory):
    """Route name -> pattern, from Django's own URL resolver (configured in this process)."""
    os.environ.setdefault("RWESTUDY_SECRET_KEY", "test-only")
    from rwestudy.server.settings import configure

    configure(str(tmp_path_factory.mktemp("inproc") / "x.sqlite"))
    from django.urls import get_resolver

    return {p.name: str(p.pattern) for p in get_resolver().url_patterns}
