"""Output folders that appear complete or not at all, one writer at a time.

A report is many files (HTML, Word, Excel, results.json, figures/). It is
written into a hidden folder beside ``--out`` (same filesystem), and renamed
into place only when every file is written; an earlier ``--out`` is renamed
away first and removed after. So a run killed at any moment leaves ``--out``
as it was (or absent, between the two renames), never a half-written or
mixed folder, and never figures of an earlier study. A lock file beside
``--out`` (``fcntl.flock``: released by the kernel when its holder dies)
makes a second run into the same folder wait, for a bounded time, then
refuse. Leftovers of killed runs are named ``.<out>.tmp-<pid>`` and
``.<out>.old-<pid>``; the next run into the same ``--out`` removes them.
"""
from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rwestudy.pipeline.errors import OutputBusy, PipelineError

try:
    import fcntl
except ImportError:  # not POSIX: no lock (the folder is still moved into place whole)
    fcntl = None

# What rwestudy writes into an output folder: an existing --out holding only these (or nothing) is
# ours to replace; anything else there is the user's, and is never deleted.
OUTPUT_NAMES = frozenset({
    "report.html", "report.docx", "tables.xlsx", "results.json", "figures",
    "comparison.json", "comparison.html", "comparison.docx", "comparison.xlsx", "reconstructed_ipd.csv",
    "study.xlsx", "validation.json", "planted_errors.csv", "csv",
})
LOCK_WAIT_S = 120.0  # a report takes seconds; a run holding the lock longer than this is stuck or huge


def _lock_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.lock")


@contextmanager
def output_lock(out: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold the lock of ``out`` (waiting up to ``wait_s`` seconds for another run to finish)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    fd = os.open(_lock_path(out), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputBusy(f"another rwestudy run is writing {out} (lock {_lock_path(out)}); "
                                     f"waited {wait_s:g} s. Wait for it to finish, or choose another --out")
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # releases the lock; the lock file stays (removing it would race with a waiting run)


def _leftovers(out: Path) -> list[Path]:
    """Temporary and old folders of earlier runs into ``out`` (only lock holders create them)."""
    return [p for pattern in (f".{out.name}.tmp-*", f".{out.name}.old-*") for p in out.parent.glob(pattern)]


def _ours(name: str) -> bool:
    """The lock file and leftovers of `atomic_file` (``analyze --out`` writes them inside a folder)."""
    return name.startswith(".") and (name.endswith(".lock") or ".tmp-" in name or ".old-" in name)


def _named(out: Path) -> Path:
    """``out`` with a last component to name its lock and temporary folders after (``.`` has none)."""
    out = Path(out).absolute()
    if not out.name:
        raise PipelineError(f"--out {out} cannot be replaced; name a folder inside it")
    return out


def check_replaceable(out: Path, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse an ``out`` whose replacement would delete the user's files or the run's own input."""
    out = Path(out)
    here = out.resolve()
    for p in inputs:
        if p is not None and Path(p).exists() and here in (Path(p).resolve(), *Path(p).resolve().parents):
            raise PipelineError(f"--out {out} holds {p}, which this run reads; the new output replaces the "
                                f"whole folder, so write it elsewhere (e.g. --out {out / 'report'})")
    cwd = Path.cwd().resolve()
    if here == cwd or here in cwd.parents:  # replacing it would leave the shell in a deleted folder
        raise PipelineError(f"--out {out} is the current folder (or holds it); the new output replaces the "
                            "whole folder, so name a new one (e.g. --out report)")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise PipelineError(f"--out {out} exists and is not a folder; choose a folder")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in OUTPUT_NAMES and not _ours(p.name))
        if foreign:
            raise PipelineError(f"--out {out} holds files rwestudy did not write ({', '.join(foreign[:3])}"
                                f"{', ...' if len(foreign) > 3 else ''}); the new output replaces the whole "
                                "folder, so choose a new or empty folder")


@contextmanager
def atomic_folder(out: Path, *, inputs: tuple[Path, ...] = (), wait_s: float = LOCK_WAIT_S) -> Iterator[Path]:
    """Yield an empty folder to write into; on success it becomes ``out`` (replacing an earlier one).

    On an exception nothing changes: the temporary folder is removed and ``out`` is left as it was.
    """
    given, out = out, _named(out)
    check_replaceable(given, inputs)
    with output_lock(out, wait_s):
        check_replaceable(given, inputs)  # again: another run may have changed it while we waited
        for old in _leftovers(out):
            shutil.rmtree(old, ignore_errors=True)
        tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        tmp.mkdir()
        try:
            yield tmp
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _move_into_place(tmp, out)


def _move_into_place(tmp: Path, out: Path) -> None:
    if not out.exists():
        os.rename(tmp, out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.rename(out, old)  # killed between these two renames: --out is absent, never mixed
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_file(path: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; the file of ``path``'s name written there
    replaces ``path`` whole on success (one rename), under the lock of ``path``. Other files of
    ``path``'s folder are left alone (``analyze --out`` may share its folder with the study)."""
    path = _named(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(path, wait_s):
        for old in _leftovers(path):
            shutil.rmtree(old, ignore_errors=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.mkdir()
        try:
            yield tmp
            os.replace(tmp / path.name, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
