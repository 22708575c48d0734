"""`rwestudy serve ...` and `rwestudy audit verify`: Typer sub-apps mounted by rwestudy.cli.

Django is imported inside the commands, so `rwestudy --help` stays fast.
A problem the user can fix is one red line on stderr and exit code 2.
"""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

app = typer.Typer(help="Multicenter data capture: each center enters its own patients, every change audited.",
                  add_completion=False, invoke_without_command=True)
audit_app = typer.Typer(help="The audit trail of a `rwestudy serve` database.", no_args_is_help=True,
                        add_completion=False)

DEFAULT_DB = "sqlite:///rwestudy.sqlite"
_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no look-alikes
DB_OPT = typer.Option(..., "--db", help="sqlite:///FILE (WAL mode) or postgresql://user:pass@host/db")
ROLES_HELP = "investigator|viewer|coordinator|monitor|statistician|admin"


def demo_accounts(study) -> list[tuple[str, str, str | None]]:
    """(username, role, center): two investigators and a viewer at the two largest centers, one of each other role."""
    from django.db.models import Count, Q

    patients = Count("records", filter=Q(records__table="patients"))
    big = [c.name for c in study.centers.annotate(n=patients).order_by("-n", "name")[:2]]
    return ([(f"investigator_{c.lower()}", "investigator", c) for c in big]
            + [(f"viewer_{big[0].lower()}", "viewer", big[0])]
            + [(r, r, None) for r in ("coordinator", "monitor", "statistician", "admin")])


def _fail(message: str):
    Console(stderr=True).print(f"[bold red]error:[/bold red] {message}", highlight=False)
    raise typer.Exit(2)


def _setup(db: str, allowed_hosts: list[str] | None = None) -> None:
    from rwestudy.server.settings import configure

    try:
        configure(db, allowed_hosts)
    except ValueError as exc:
        _fail(str(exc))


def _migrate() -> None:
    from django.core.management import call_command
    from django.db.utils import OperationalError

    try:
        call_command("migrate", verbosity=0, interactive=False)
    except OperationalError as exc:
        _fail(f"cannot open the database: {exc}")


def _add_user(username: str, password: str, role: str, center: str | None, study_name: str | None = None):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from rwestudy.server.models import CENTER_ROLES, ROLES, Center, Membership, Study

    if role not in ROLES:
        _fail(f"--role must be one of {', '.join(ROLES)}, got {role!r}")
    studies = Study.objects.filter(name=study_name) if study_name else Study.objects.all()
    if len(studies) != 1:
        _fail("no study in this database: run `rwestudy serve init --demo` first" if not studies
              else "several studies: say which with --study")
    study = studies[0]
    if (role in CENTER_ROLES) != bool(center):
        _fail(f"an {role} needs --center" if role in CENTER_ROLES else f"a {role} works across centers: drop --center")
    center_obj = None
    if center:
        center_obj = Center.objects.filter(study=study, name=center).first()
        if center_obj is None:
            names = ", ".join(Center.objects.filter(study=study).order_by("name").values_list("name", flat=True))
            _fail(f"no center {center!r} in study {study.name} (centers: {names or 'none'})")
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        _fail(f"user {username!r} exists already")
    user = User(username=username)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        _fail("password too weak: " + " ".join(exc.messages))
    with transaction.atomic():
        user.set_password(password)
        user.save()
        Membership.objects.create(user=user, study=study, role=role, center=center_obj)


def _init(db: str, demo: bool) -> bool:
    """Create or migrate; load the demo once. True when the demo was loaded now."""
    _setup(db)
    _migrate()
    from rwestudy.server.audit import protect_table

    protect_table()  # PostgreSQL: no UPDATE/DELETE on the trail for the application's role
    if not demo:
        return False
    from rwestudy.server.changes import import_demo
    from rwestudy.server.models import Study

    if Study.objects.filter(name="demo").exists():
        return False
    study = Study.objects.create(name="demo")
    n = import_demo(study)
    console = Console()
    console.print(f"Demo study loaded: {study.centers.count()} centers, {n} rows. "
                  "Demo accounts (shown once, write them down):")
    for username, role, center in demo_accounts(study):
        password = "".join(secrets.choice(_ALPHABET) for _ in range(14))
        _add_user(username, password, role, center)
        console.print(f"  {username:<18} {password}  {role}{' of ' + center if center else ''}", highlight=False)
    return True


@app.callback()
def _default(ctx: typer.Context):
    """Alone: the demo study on ./rwestudy.sqlite, served on http://127.0.0.1:8000."""
    if ctx.invoked_subcommand is None:
        _init(DEFAULT_DB, demo=True)
        _serve(DEFAULT_DB, "127.0.0.1", 8000, 8)


@app.command()
def init(db: str = DB_OPT, demo: bool = typer.Option(False, "--demo", help="Load the demo study and accounts.")):
    """Create the database, or bring it up to date (migrations); --demo loads the demo study."""
    _init(db, demo)
    Console().print(f"database ready: {db}", highlight=False)


@app.command()
def adduser(db: str = DB_OPT, username: str = typer.Option(..., "--username"),
            password: str = typer.Option(..., "--password"),
            role: str = typer.Option(..., "--role", help=ROLES_HELP),
            center: Optional[str] = typer.Option(None, "--center", help="For investigator and viewer."),
            study: Optional[str] = typer.Option(None, "--study", help="When the database holds several.")):
    """Add a user with a role in the study (center roles need --center)."""
    _setup(db)
    _add_user(username, password, role, center, study)
    Console().print(f"user {username} added as {role}{' of ' + center if center else ''}", highlight=False)


def _serve(db: str, host: str, port: int, threads: int) -> None:
    from django.core.wsgi import get_wsgi_application
    from django.db.migrations.executor import MigrationExecutor
    from django.db import connection
    import waitress

    from rwestudy.server.settings import database

    try:
        target = database(db)
    except ValueError as exc:
        _fail(str(exc))
    if target["ENGINE"].endswith("sqlite3") and not Path(target["NAME"]).exists():
        _fail(f"no database at {target['NAME']}: create it with `rwestudy serve init --db {db}`")
    _setup(db, [host, "127.0.0.1", "localhost", "[::1]"])
    if MigrationExecutor(connection).migration_plan(MigrationExecutor(connection).loader.graph.leaf_nodes()):
        _fail("the database is not up to date: run `rwestudy serve init --db ...` first")
    import rwestudy.study  # noqa: F401  the checks' machinery (pandas...), loaded now, not by the first save
    Console().print(f"rwestudy serve: http://{host}:{port}/api/schema  (Ctrl+C stops)", highlight=False)
    # Waitress: a production WSGI server in pure Python (no C build, runs on Windows
    # hospital machines too), one process with threads, which suits SQLite's single
    # writer and the login throttle's in-process counters. No access log: URLs hold patient ids.
    waitress.serve(get_wsgi_application(), host=host, port=port, threads=threads, ident="rwestudy")


@app.command()
def run(db: str = DB_OPT, host: str = typer.Option("127.0.0.1", "--host"),
        port: int = typer.Option(8000, "--port"), threads: int = typer.Option(8, "--threads")):
    """Serve the API (and UI) with waitress."""
    _serve(db, host, port, threads)


@app.command()
def export(db: str = DB_OPT, out: Path = typer.Option(..., "--out", help="Folder for the snapshot."),
           study: Optional[str] = typer.Option(None, "--study")):
    """Write the snapshot (CSVs, study.xlsx, manifest.json) that `rwestudy report` reads."""
    import json

    _setup(db)
    from rwestudy.server.models import Study
    from rwestudy.server.snapshot import snapshot

    studies = Study.objects.filter(name=study) if study else Study.objects.all()
    if len(studies) != 1:
        _fail("no such study" if not studies else "several studies: say which with --study")
    files, manifest = snapshot(studies[0])
    out.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (out / name).write_bytes(body)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    Console().print(f"snapshot written to {out}", highlight=False)


@app.command("import")
def import_(source: Path = typer.Argument(..., help="A center's workbook (.xlsx) or folder of CSV files."),
            db: str = DB_OPT, center: str = typer.Option(..., "--center", help="Import this center's rows only."),
            study: Optional[str] = typer.Option(None, "--study", help="When the database holds several "
                                                "(a database without a study gets one of this name)."),
            username: str = typer.Option("import", "--username", help="Who the audit trail names.")):
    """Load one center's existing workbook or CSV folder, through validation; every row audited as imported."""
    from rwestudy.server.importer import ImportRefused, center_rows

    if not source.exists():
        _fail(f"no such workbook or folder: {source}")
    _init(db, demo=False)
    from rwestudy.server.changes import import_tables
    from rwestudy.server.models import Record, Study

    studies = Study.objects.filter(name=study) if study else Study.objects.all()
    if len(studies) > 1:
        _fail("several studies: say which with --study")
    target = studies[0] if studies else Study.objects.create(name=study or "study")
    try:
        rows = center_rows(source, center)
    except ImportRefused as exc:
        _fail(str(exc))
    ids = [r["patient_id"] for r in rows.tables["patients"]]
    there = sorted(Record.objects.filter(study=target, table="patients", patient_id__in=ids)
                   .values_list("patient_id", flat=True))
    if there:
        _fail(f"{len(there)} patient(s) of {source.name} are already in the server (first: {there[0]}); "
              "an import only adds new patients, nothing imported")
    n = import_tables(target, rows.tables, username, f"import from {source.name}")
    console = Console()
    console.print(f"{n} rows of {center} imported from {source.name} ({len(ids)} patients"
                  f"{f', {rows.warnings} warning(s) open' if rows.warnings else ''})", highlight=False)
    if rows.skipped:
        console.print("left out, other centers' rows: " + ", ".join(f"{t} {k}" for t, k in rows.skipped.items()),
                      highlight=False)


@audit_app.command()
def verify(db: str = DB_OPT):
    """Check the audit trail's hash chain: exit 0 when intact, 1 naming the first broken entry."""
    _setup(db)
    from rwestudy.server.audit import verify as verify_chain

    ok, _, message = verify_chain()
    if ok:
        Console().print(message, highlight=False)
        return
    Console(stderr=True).print(f"[bold red]audit trail broken:[/bold red] {message}", highlight=False)
    raise typer.Exit(1)
