"""Read and check registry files: shipped ones (package data) plus the user's folders.

Checking is done here against `spec.FIELDS`, not with jsonschema, because
jsonschema is a dev-only dependency; the shipped JSON Schema is generated from
the same spec and a test keeps the two in agreement. Every problem names the
file, the field (dotted path) and what is wrong, so a user can fix their file.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from rwestudy.exceptions import RwestudyError
from rwestudy.registry.spec import (AE_BASES, DESIGNS, FIELDS, KIND_KEYS, PROVENANCE_KEYS, REQUIRED_PROVENANCE,
                                    REQUIRED_TOP, SOURCE_KEYS, SOURCE_QUALITY, TOP_LEVEL, OTHER_KEYS, AE_KEYS)

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Published percentages are rounded (often to integers): 9/24 = 37.5 is printed as 38%.
PCT_TOLERANCE = 0.6


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.problem}"


class RegistryError(RwestudyError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the registry:\n" + "\n".join(map(str, problems)))


@dataclass(frozen=True)
class Source:
    key: str
    citation: str
    source_quality: str
    doi: str | None = None
    url: str | None = None
    read: str | None = None


@dataclass(frozen=True)
class Value:
    """One published number (or sourced text) with where it comes from."""

    name: str                 # field name, or the label of an AE / "other" item
    kind: str
    data: dict                # the kind's keys (pct, n, N, ci, value, reached, assessment...)
    source: Source
    where: str
    quote: str
    note: str | None = None
    derived: str | None = None
    also: tuple = ()

    @property
    def source_quality(self) -> str:
        return self.source.source_quality

    @property
    def number(self) -> float | int | None:
        """The headline number: pct for a percent (n/N if only counts are given), else value."""
        d = self.data
        if self.kind == "percent" or "pct" in d:
            if "pct" in d:  # kept as written (int or float) so 46.0 prints as 46.0, 47 as 47
                return d["pct"]
            return 100.0 * d["n"] / d["N"] if d.get("n") is not None and d.get("N") else None
        v = d.get("value")
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    @property
    def ci(self) -> tuple[float | None, float | None] | None:
        c = self.data.get("ci")
        return None if c is None else tuple(None if b == "NR" else b for b in c)


@dataclass
class Study:
    id: str
    label: str
    study: str
    analysis: str
    design: str
    regimen: str
    citation: str
    sources: dict[str, Source]
    values: dict[str, Value] = field(default_factory=dict)
    adverse_events: list[Value] = field(default_factory=list)
    other: list[Value] = field(default_factory=list)
    doi: str | None = None
    url: str | None = None
    year: int | None = None
    caveats: list[str] = field(default_factory=list)
    path: str = ""
    shipped: bool = True

    def get(self, name: str) -> Value | None:
        return self.values.get(name)

    def number(self, name: str) -> float | None:
        v = self.values.get(name)
        return None if v is None else v.number

    def all_values(self) -> list[Value]:
        return [*self.values.values(), *self.adverse_events, *self.other]


def shipped_files() -> list:
    """The registry files shipped with rwestudy (importlib.resources traversables)."""
    folder = files("rwestudy.registry").joinpath("studies")
    return sorted((p for p in folder.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)


def _files(extra_dirs, shipped: bool) -> list[tuple[object, bool]]:
    out = [(p, True) for p in shipped_files()] if shipped else []
    for d in extra_dirs or []:
        d = Path(d)
        out += [(p, False) for p in (sorted(d.glob("*.toml")) if d.is_dir() else [d])]
    return out


def _check_pair(pair, where, probs, file, lo=None, hi=None):
    if not (isinstance(pair, list) and len(pair) == 2):
        probs.append(Problem(file, where, f"must be a list of two numbers [low, high], got {pair!r}"))
        return False
    for b in pair:
        if b == "NR":
            continue
        if not isinstance(b, (int, float)) or isinstance(b, bool):
            probs.append(Problem(file, where, f"bounds must be numbers or \"NR\", got {b!r}"))
            return False
        if (lo is not None and b < lo) or (hi is not None and b > hi):
            probs.append(Problem(file, where, f"bound {b} outside {lo}-{hi}"))
            return False
    if all(b != "NR" for b in pair) and pair[0] > pair[1]:
        probs.append(Problem(file, where, f"low {pair[0]} is above high {pair[1]}"))
        return False
    return True


def _is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_kind(kind: str, d: dict, path: str, file: str, probs: list[Problem]) -> None:
    """Type and consistency checks of one value's own keys."""
    if kind == "count" and not (isinstance(d.get("value"), int) and not isinstance(d.get("value"), bool)
                                and d["value"] >= 0):
        probs.append(Problem(file, f"{path}.value", f"must be an integer >= 0, got {d.get('value')!r}"))
    if kind == "number" and not _is_num(d.get("value")):
        probs.append(Problem(file, f"{path}.value", f"must be a number, got {d.get('value')!r}"))
    if kind in ("text",) and not (isinstance(d.get("value"), str) and d["value"].strip()):
        probs.append(Problem(file, f"{path}.value", "must be a non-empty string"))
    if kind == "date" and not isinstance(d.get("value"), dt.date):
        probs.append(Problem(file, f"{path}.value", f"must be a TOML date like 2022-11-14, got {d.get('value')!r}"))
    if kind == "median":
        reached = d.get("reached", True)
        if not isinstance(reached, bool):
            probs.append(Problem(file, f"{path}.reached", "must be true or false"))
        elif reached and not _is_num(d.get("value")):
            probs.append(Problem(file, f"{path}.value", "a reached median needs a number (or set reached = false)"))
        elif not reached and "value" in d:
            probs.append(Problem(file, f"{path}.value", "a median not reached has no value"))
    if kind == "percent":
        pct, n, N = d.get("pct"), d.get("n"), d.get("N")
        if pct is None and not (n is not None and N):
            probs.append(Problem(file, path, "a percent needs pct, or both n and N"))
        if pct is not None and (not _is_num(pct) or not 0 <= pct <= 100):
            probs.append(Problem(file, f"{path}.pct", f"must be a number from 0 to 100, got {pct!r}"))
            pct = None
        for k, x in (("n", n), ("N", N)):
            if x is not None and not (isinstance(x, int) and not isinstance(x, bool) and x >= (1 if k == "N" else 0)):
                probs.append(Problem(file, f"{path}.{k}", f"must be a whole number of patients, got {x!r}"))
                return
        if n is not None and N is not None and n > N:
            probs.append(Problem(file, path, f"n = {n} is larger than N = {N}"))
        elif pct is not None and n is not None and N and abs(100 * n / N - pct) > PCT_TOLERANCE:
            probs.append(Problem(file, f"{path}.pct", f"{pct} does not match n/N = {n}/{N} = {100 * n / N:.2f}%"))
    if "ci" in d:
        ok = _check_pair(d["ci"], f"{path}.ci", probs, file, *((0, 100) if kind == "percent" else (None, None)))
        x = d.get("pct") if kind == "percent" else d.get("value")
        c = d["ci"]
        if ok and _is_num(x) and ((c[0] != "NR" and x < c[0]) or (c[1] != "NR" and x > c[1])):
            probs.append(Problem(file, f"{path}.ci", f"estimate {x} lies outside its CI {c}"))
    if "range" in d:
        _check_pair(d["range"], f"{path}.range", probs, file)


def _check_provenance(d: dict, path: str, file: str, sources: dict, probs: list[Problem]) -> None:
    for k in REQUIRED_PROVENANCE:
        if not (isinstance(d.get(k), str) and d[k].strip()):
            probs.append(Problem(file, f"{path}.{k}", "missing: every number needs source, where and quote"))
    if isinstance(d.get("source"), str) and d["source"] not in sources:
        probs.append(Problem(file, f"{path}.source", f"unknown source {d['source']!r}; declare [sources.{d['source']}]"))
    for i, a in enumerate(d.get("also", []) or []):
        if not isinstance(a, dict):
            probs.append(Problem(file, f"{path}.also[{i}]", "must be a table {source, where, quote}"))
            continue
        _check_provenance({k: v for k, v in a.items() if k != "also"}, f"{path}.also[{i}]", file, sources, probs)
        for k in set(a) - set(REQUIRED_PROVENANCE):
            probs.append(Problem(file, f"{path}.also[{i}].{k}", "unknown key (allowed: source, where, quote)"))


def _unknown(d: dict, allowed, path: str, file: str, probs: list[Problem]) -> None:
    for k in d:
        if k not in allowed:
            near = [a for a in allowed if a.lower().startswith(k.lower()[:3])]
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            probs.append(Problem(file, f"{path}.{k}" if path else k, f"unknown key{hint}"))


def check_entry(raw: dict, file: str) -> list[Problem]:
    """Every problem of one parsed registry file."""
    probs: list[Problem] = []
    _unknown(raw, set(TOP_LEVEL) | {"sources", "values", "adverse_events", "other"}, "", file, probs)
    for k in REQUIRED_TOP:
        if k not in raw:
            probs.append(Problem(file, k, "missing (required)"))
    if "id" in raw and not (isinstance(raw["id"], str) and ID_RE.match(raw["id"])):
        probs.append(Problem(file, "id", f"must be lower-case letters, digits and hyphens, got {raw['id']!r}"))
    if "design" in raw and raw["design"] not in DESIGNS:
        probs.append(Problem(file, "design", f"{raw['design']!r} is not one of: {', '.join(DESIGNS)}"))
    sources = raw.get("sources") if isinstance(raw.get("sources"), dict) else {}
    for key, s in sources.items():
        p = f"sources.{key}"
        if not isinstance(s, dict):
            probs.append(Problem(file, p, "must be a table"))
            continue
        _unknown(s, SOURCE_KEYS, p, file, probs)
        if not s.get("citation"):
            probs.append(Problem(file, f"{p}.citation", "missing"))
        if not (s.get("doi") or s.get("url")):
            probs.append(Problem(file, p, "needs a doi or a url"))
        if s.get("source_quality") not in SOURCE_QUALITY:
            probs.append(Problem(file, f"{p}.source_quality",
                                 f"{s.get('source_quality')!r} is not one of: {', '.join(SOURCE_QUALITY)}"))
    for name, d in (raw.get("values") or {}).items():
        p = f"values.{name}"
        f = FIELDS.get(name)
        if f is None:
            near = [k for k in FIELDS if k.split("_")[0] == name.split("_")[0]]
            probs.append(Problem(file, p, "unknown field" + (f" (known: {', '.join(near)})" if near else
                                                             "; put it under [[other]]")))
            continue
        if not isinstance(d, dict):
            probs.append(Problem(file, p, "must be a table with the value and its source, where and quote"))
            continue
        _unknown(d, set(PROVENANCE_KEYS) | set(KIND_KEYS[f.kind]) | set(f.extra), p, file, probs)
        _check_provenance(d, p, file, sources, probs)
        _check_kind(f.kind, d, p, file, probs)
        for e in f.required_extra:
            if e not in d:
                probs.append(Problem(file, f"{p}.{e}", f"missing: one of {', '.join(f.choices)}"))
        for e in f.extra:
            if e in d and d[e] not in f.choices:
                probs.append(Problem(file, f"{p}.{e}", f"{d[e]!r} is not one of: {', '.join(f.choices)}"))
        if f.kind == "text" and f.choices and d.get("value") not in f.choices:
            probs.append(Problem(file, f"{p}.value", f"{d.get('value')!r} is not one of: {', '.join(f.choices)}"))
    for i, d in enumerate(raw.get("adverse_events") or []):
        p = f"adverse_events[{i}]"
        _unknown(d, set(PROVENANCE_KEYS) | set(KIND_KEYS["percent"]) | set(AE_KEYS), p, file, probs)
        _check_provenance(d, p, file, sources, probs)
        _check_kind("percent", d, p, file, probs)
        for k in AE_KEYS:
            if not d.get(k):
                probs.append(Problem(file, f"{p}.{k}", "missing"))
        if d.get("basis") and d["basis"] not in AE_BASES:
            probs.append(Problem(file, f"{p}.basis", f"{d['basis']!r} is not one of: {', '.join(AE_BASES)}"))
    for i, d in enumerate(raw.get("other") or []):
        p = f"other[{i}]"
        _unknown(d, set(PROVENANCE_KEYS) | set(OTHER_KEYS), p, file, probs)
        _check_provenance(d, p, file, sources, probs)
        for k in ("label", "value"):
            if k not in d:
                probs.append(Problem(file, f"{p}.{k}", "missing"))
        if "ci" in d:
            _check_pair(d["ci"], f"{p}.ci", probs, file)
    return probs


def _build(raw: dict, path: str, shipped: bool) -> Study:
    sources = {k: Source(key=k, citation=s["citation"], source_quality=s["source_quality"], doi=s.get("doi"),
                         url=s.get("url"), read=s.get("read")) for k, s in raw["sources"].items()}

    def val(name, kind, d):
        data = {k: v for k, v in d.items() if k not in PROVENANCE_KEYS}
        return Value(name=name, kind=kind, data=data, source=sources[d["source"]], where=d["where"],
                     quote=d["quote"], note=d.get("note"), derived=d.get("derived"), also=tuple(d.get("also", ())))

    return Study(id=raw["id"], label=raw["label"], study=raw["study"], analysis=raw["analysis"],
                 design=raw["design"], regimen=raw["regimen"], citation=raw["citation"], sources=sources,
                 values={k: val(k, FIELDS[k].kind, d) for k, d in (raw.get("values") or {}).items()},
                 adverse_events=[val(f"{d['term']} (grade {d['grade']})", "percent", d)
                                 for d in raw.get("adverse_events") or []],
                 other=[val(d["label"], "other", d) for d in raw.get("other") or []],
                 doi=raw.get("doi"), url=raw.get("url"), year=raw.get("year"), caveats=list(raw.get("caveats", [])),
                 path=path, shipped=shipped)


def _read(extra_dirs, shipped: bool) -> tuple[list[Study], list[Problem]]:
    studies, probs, seen = [], [], {}
    for f, is_shipped in _files(extra_dirs, shipped):
        name = f"rwestudy/registry/studies/{f.name}" if is_shipped else str(f)
        try:
            raw = tomllib.loads(f.read_text(encoding="utf-8"))
        except FileNotFoundError:
            probs.append(Problem(name, "-", "file or folder not found"))
            continue
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            probs.append(Problem(name, "-", f"not valid TOML: {exc}"))
            continue
        p = check_entry(raw, name)
        stem = f.name.rsplit(".", 1)[0]
        if not p and raw["id"] != stem:
            p.append(Problem(name, "id", f"{raw['id']!r} must equal the file name without .toml ({stem!r})"))
        if not p and raw["id"] in seen:
            p.append(Problem(name, "id", f"{raw['id']!r} is already used by {seen[raw['id']]}"))
        probs += p
        if not p:
            seen[raw["id"]] = name
            studies.append(_build(raw, name, is_shipped))
    studies.sort(key=lambda s: (s.year or 9999, s.id))
    return studies, probs


def validate_registry(extra_dirs=None, shipped: bool = True) -> list[Problem]:
    """Every problem of the shipped files (unless shipped=False) and of the files in ``extra_dirs``."""
    return _read(extra_dirs, shipped)[1]


def load_registry(extra_dirs=None, shipped: bool = True) -> list[Study]:
    """The registry entries, shipped ones merged with the user's folders; RegistryError if any is invalid."""
    studies, probs = _read(extra_dirs, shipped)
    if probs:
        raise RegistryError(probs)
    return studies


def get_study(study_id: str, studies: list[Study]) -> Study:
    for s in studies:
        if s.id == study_id:
            return s
    raise KeyError(f"no registry entry {study_id!r}; known: {', '.join(s.id for s in studies)}")
