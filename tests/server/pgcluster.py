"""A throw-away PostgreSQL cluster on loopback, for the server tests and the load benchmark.

Found only where Debian's binaries are (/usr/lib/postgresql/<version>/bin);
callers skip without them. PostgreSQL refuses to run as root, so as root the
cluster runs as the `postgres` user (`runuser`). The superuser's password and
the application role's are made here; the application role owns its databases
and is what `--db` names, as in a real deployment.
"""
from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

APP_ROLE = "rwe_app"


def pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def unavailable() -> str | None:
    """Why no cluster can be started here, or None."""
    if pg_bindir() is None:
        return "PostgreSQL binaries not found in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the cluster as"
        if shutil.which("runuser") is None:
            return "running as root without runuser"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    root: Path
    port: int
    superuser_password: str
    app_password: str

    def admin(self, dbname: str = "postgres"):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", password=self.superuser_password,
                               dbname=dbname, autocommit=True)

    def url(self, dbname: str) -> str:
        return f"postgresql://{APP_ROLE}:{self.app_password}@127.0.0.1:{self.port}/{dbname}"

    def new_database(self, dbname: str, template: str | None = None) -> str:
        """An empty database owned by the application role (or a copy of `template`); its --db URL."""
        with self.admin() as con:
            con.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            con.execute(f'CREATE DATABASE "{dbname}" OWNER {APP_ROLE}' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(dbname)

    def copy_database(self, source: str, dbname: str) -> str:
        """A copy of a database in use (pg_dump | psql: CREATE DATABASE ... TEMPLATE needs it idle)."""
        url = self.new_database(dbname)
        env = {**os.environ, "PGPASSWORD": self.superuser_password}
        conn = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        dump = subprocess.run([str(pg_bindir() / "pg_dump"), *conn, "--no-owner", "--no-acl", source],
                              env=env, capture_output=True, check=True).stdout
        subprocess.run([str(pg_bindir() / "psql"), *conn, "-q", "-v", "ON_ERROR_STOP=1", dbname], input=dump,
                       env=env, capture_output=True, check=True)
        with self.admin(dbname) as con:  # the copy belongs to the application, like the original
            for (table,) in con.execute("select tablename from pg_tables where schemaname = 'public'").fetchall():
                con.execute(f'ALTER TABLE "{table}" OWNER TO {APP_ROLE}')
            for (seq,) in con.execute("select sequencename from pg_sequences where schemaname = 'public'").fetchall():
                con.execute(f'ALTER SEQUENCE "{seq}" OWNER TO {APP_ROLE}')
        return url

    def stop(self) -> None:
        _run_as_pg([str(pg_bindir() / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"],
                   check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _run_as_pg(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + cmd, capture_output=True, text=True, check=check, timeout=120)


def start() -> Cluster:
    """initdb + pg_ctl start on 127.0.0.1, a free port; the caller stops it."""
    bindir = pg_bindir()
    root = Path(tempfile.mkdtemp(prefix="rwestudy-pg-"))
    cluster = Cluster(root, _free_port(), secrets.token_urlsafe(16), secrets.token_urlsafe(16))
    (root / "pw").write_text(cluster.superuser_password)
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(root, pg.pw_uid, pg.pw_gid)
        os.chown(root / "pw", pg.pw_uid, pg.pw_gid)
    try:
        _run_as_pg([str(bindir / "initdb"), "-D", str(root / "data"), "-U", "postgres", "--pwfile", str(root / "pw"),
                    "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale"])
        opts = f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {root} -c max_connections=200"
        _run_as_pg([str(bindir / "pg_ctl"), "-D", str(root / "data"), "-o", opts, "-l", str(root / "log"),
                    "-w", "-t", "60", "start"])
        with cluster.admin() as con:
            con.execute(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{cluster.app_password}'")
    except Exception:
        cluster.stop()
        raise
    return cluster
