"""A real `rwestudy serve run` in a subprocess on a free loopback port, with the demo study.

Every HTTP test talks to it with urllib, as a client at a center would.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

try:  # the server's dependencies are core, but a checkout's old venv may lack them
    import django  # noqa: F401
    import waitress  # noqa: F401
except ImportError:
    collect_ignore_glob = ["test_*.py"]

SRC = Path(__file__).resolve().parents[2] / "src"


def cli(*args, cwd=None, check=True, timeout=300) -> subprocess.CompletedProcess:
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
    db_path: Path
    log: Path
    passwords: dict[str, str]
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    db_path = tmp / "study.sqlite"
    db = f"sqlite:///{db_path}"
    out = cli("serve", "init", "--db", db, "--demo", cwd=tmp).stdout
    passwords = dict(re.findall(r"^\s+(\w+)\s+(\S+)\s+\w+", out, flags=re.M))
    assert {"investigator_c10", "investigator_c07", "viewer_c10", "coordinator", "statistician"} <= set(passwords), out
    passwords["throttled"] = "Throttle-test-pw-1"
    cli("serve", "adduser", "--db", db, "--username", "throttled", "--password", passwords["throttled"],
        "--role", "monitor", cwd=tmp)
    port = _free_port()
    log = tmp / "server.log"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("RWESTUDY_SECRET_KEY", None)
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "rwestudy.cli", "serve", "run", "--db", db,
                                 "--host", "127.0.0.1", "--port", str(port)], cwd=tmp, env=env,
                                stdout=fh, stderr=subprocess.STDOUT)
    srv = Server(f"http://127.0.0.1:{port}", db, db_path, log, passwords)
    deadline = time.monotonic() + 90
    while True:
        try:
            if srv.call("GET", "/api/schema").status == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("server did not start:\n" + log.read_text())
        time.sleep(0.3)
    yield srv
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
