"""The layers of the package: an import never runs up (docs/architecture.md draws them).

Each top-level package (or module) of rwestudy has a layer; a module may import from its own
package and from lower layers only. A new package must be given a layer here, or this fails.
"""
import ast
from pathlib import Path

import rwestudy

ROOT = Path(rwestudy.__file__).parent

# Bottom first. Packages on one line share a layer and must not import each other.
LAYERS = [
    ["core", "exceptions", "_trace", "terminal", "data"],
    ["io"],
    ["validation"],
    ["endpoints", "stats"],
    ["study"],
    ["analysis", "registry"],
    ["figures"],
    ["report"],
    ["context"],
    ["demo"],
    ["pipeline"],
    ["server"],
    ["commands"],
    ["cli", "__init__"],
]
RANK = {name: k for k, names in enumerate(LAYERS) for name in names}


def _imports(path: Path) -> set[str]:
    """The rwestudy top-level packages a module imports (`rwestudy.x.y` -> x), at any depth of the code."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "rwestudy":
                out |= {a.name for a in node.names if a.name != "__version__"}  # the version is no layer
            elif node.module.startswith("rwestudy."):
                out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("rwestudy.")}
    return out


def _package(path: Path) -> str:
    rel = path.relative_to(ROOT).parts
    return rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")


def test_every_package_has_a_layer():
    packages = {_package(p) for p in ROOT.rglob("*.py")}
    assert packages - set(RANK) == set(), "give the new package a layer in LAYERS and docs/architecture.md"


def test_no_import_runs_up_or_across_a_layer():
    upward = []
    for path in sorted(ROOT.rglob("*.py")):
        here = _package(path)
        for target in _imports(path) - {here}:
            if target in RANK and RANK[target] >= RANK[here]:
                upward.append(f"{path.relative_to(ROOT)} ({here}, layer {RANK[here]}) imports {target} "
                              f"(layer {RANK[target]})")
    assert upward == []


def test_the_bottom_layer_imports_nothing_of_rwestudy():
    for path in (ROOT / "core").rglob("*.py"):
        assert _imports(path) == set(), path


def test_the_check_sees_an_upward_import(tmp_path):
    """The checker itself: a module of io importing report is caught (not a test that passes on anything)."""
    fake = tmp_path / "m.py"
    fake.write_text("from rwestudy.report.format import fmt_p\nimport rwestudy.stats.cox\n")
    assert _imports(fake) == {"report", "stats"}
    assert RANK["report"] > RANK["io"]
