"""Cross-check the shipped registry against the literature sheet and the seed papers (run by hand).

    .venv/bin/python reference/registry/check_against_literature.py [SHARED_DIR]

SHARED_DIR defaults to ../shared next to the repository (literature/published-studies.md
and seeds/*.txt). CI cannot run this (it has no ../shared); the registry TOML files are our
transcription and this script is how a person re-checks them:

1. every quote (and every `also` quote) occurs verbatim, whitespace-normalised, in the
   literature sheet or in a seed paper;
2. every number of a value (pct, n, N, value, CI and range bounds) is written in its quote
   or in the sheet's section for that study;
3. the headline numbers of the sheet's "Quick comparison" table equal the registry's.

Exit code 1 if a quote is not found or a headline number differs without explanation.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from rwestudy.registry import load_registry

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = {  # registry id -> heading prefixes of its section(s) in the sheet
    "lmind-primary": ["## 1."], "lmind-long-term": ["## 2."], "lmind-ema-review": ["## 2."],
    "lmind-5year": ["## 3."], "remind-tafa-len": ["## 4."], "remind-lenalidomide": ["## 4."],
    "remind2": ["## 5."], "qualls": ["## 6."], "earlymind": ["## 7."], "ruckdeschel": ["## 8a."],
    "saverno": ["## 8b."], "geltamo": ["## 8c."], "talos": ["## 9."], "korean-r2": ["## 10."],
    "zinzani-r2-2011": ["### 10b."], "wang-r2-2013": ["### 10b."], "ivanov-r2": ["### 10b."],
}
QUICK = {  # row of the "Quick comparison" table -> registry id
    "L-MIND primary (Salles 2020)": "lmind-primary", "L-MIND >= 35 mo (Duell 2021)": "lmind-long-term",
    "L-MIND 5-year (Duell 2024)": "lmind-5year", "RE-MIND, tafa-len arm": "remind-tafa-len",
    "RE-MIND, lenalidomide arm": "remind-lenalidomide", "RE-MIND2": "remind2", "TALOs": "talos",
    "Qualls 2023": "qualls", "Ruckdeschel 2023": "ruckdeschel", "EarlyMIND 2025": "earlymind",
    "Saverno 2024 update": "saverno", "GELTAMO": "geltamo", "Korean R2 (Lee 2021)": "korean-r2",
    "Zinzani R2 2011": "zinzani-r2-2011", "Wang R2 2013": "wang-r2-2013", "Ivanov R2": "ivanov-r2",
}
QUICK_FIELDS = {"n": "n", "Median age": "age_median", "Best ORR": "orr", "CR": "cr", "mPFS": "pfs_median",
                "mOS": "os_median", "Median FU": "followup_median"}
# Known, documented differences between the sheet's headline cell and the registry (see the sheet's D-notes).
EXPLAINED = {("lmind-5year", "CR"): "sheet prints '41.3% / 41.2%'; registry keeps the AACR 41.2% with its CI (D2)",
             ("lmind-long-term", "Median FU"): "sheet: '>= 35 (minimum)'; registry: followup_minimum = 35",
             ("remind2", "mOS"): "sheet lists OS hazard ratios; registry keeps them under [[other]]"}


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def sections(sheet: str) -> dict[str, str]:
    """Heading prefix -> text up to the next heading of the same or higher level."""
    out, lines = {}, sheet.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(#{2,3}) ", line)
        if not m:
            continue
        level, body = len(m.group(1)), [line]
        for nxt in lines[i + 1:]:
            h = re.match(r"^(#{2,3}) ", nxt)
            if h and len(h.group(1)) <= level:
                break
            body.append(nxt)
        out[line] = "\n".join(body)
    return out


def forms(x) -> set[str]:
    """How a number may be written: 57.5, 57,5 (Italian), 40.0 or 40, 2020-10-30 -> skipped."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return set()
    s = {f"{x}", f"{x:g}", f"{x:.1f}", f"{x:.2f}"}
    if isinstance(x, float) and x.is_integer():
        s.add(str(int(x)))
    if x >= 1000:
        s.add(f"{x:,}")
    return s | {v.replace(".", ",") for v in s}


def written(x, text: str) -> bool:
    """Is number x written in text (not as part of a longer number)?"""
    return any(re.search(rf"(?<![\d.,]){re.escape(f)}(?![\d]|[.,]\d)", text) for f in forms(x))


def numbers_of(v) -> list:
    d, out = v.data, []
    for k in ("pct", "n", "N", "value"):  # numbers only: text and dates are checked through their quotes
        if k in d and isinstance(d[k], (int, float)) and not isinstance(d[k], bool):
            out.append((k, d[k]))
    for k in ("ci", "range"):
        for b in d.get(k, []):
            if b != "NR":
                out.append((k, b))
    return out


def first_number(cell: str):
    cell = cell.strip()
    if cell.startswith("nf") or not cell:
        return "nf"
    if cell.startswith("NR"):
        return "NR"
    m = re.search(r"\d+(?:\.\d+)?", cell)
    return float(m.group()) if m else None


def main(shared: Path) -> int:
    sheet = (shared / "literature" / "published-studies.md").read_text(encoding="utf-8")
    seeds = {p.name: p.read_text(encoding="utf-8") for p in sorted((shared / "seeds").glob("*.txt"))}
    haystacks = {"published-studies.md": norm(sheet), **{k: norm(v) for k, v in seeds.items()}}
    secs = sections(sheet)
    studies = load_registry()
    n_quotes = n_found = n_numbers = n_num_found = n_in_quote = 0
    missing_quotes, missing_numbers, not_in_quote = [], [], []
    for s in studies:
        text = "\n".join(body for head, body in secs.items()
                         if any(head.startswith(p) for p in SECTIONS.get(s.id, [])))
        if not text:
            print(f"WARNING {s.id}: no section of the sheet mapped")
        for v in s.all_values():
            quotes = [v.quote, *(a["quote"] for a in v.also)]
            for q in quotes:
                n_quotes += 1
                where = [name for name, h in haystacks.items() if norm(q) in h]
                if where:
                    n_found += 1
                else:
                    missing_quotes.append(f"{s.id}: {v.name}: quote not found: {q!r}")
            quoted = norm(" ".join(quotes))
            context = quoted + " " + norm(text)
            for key, x in numbers_of(v):
                n_numbers += 1
                if written(x, quoted):
                    n_in_quote += 1
                else:
                    not_in_quote.append(f"{s.id}: {v.name}.{key} = {x}" + (f" (derived: {v.derived})" if v.derived else ""))
                if written(x, context):
                    n_num_found += 1
                else:
                    missing_numbers.append(f"{s.id}: {v.name}.{key} = {x} not written in its quote or section"
                                           + (f" (derived: {v.derived})" if v.derived else ""))
    print(f"Registry: {len(studies)} entries, {sum(len(s.all_values()) for s in studies)} sourced values")
    print(f"Quotes found verbatim in the sheet or a seed paper: {n_found}/{n_quotes}")
    for m in missing_quotes:
        print("  MISSING", m)
    print(f"Numbers written in their own quote: {n_in_quote}/{n_numbers}; the others (counts from another "
          f"sentence, denominators, derived values):")
    for m in not_in_quote:
        print("  NOT IN QUOTE", m)
    print(f"Numbers written in their quote or their study's section of the sheet: {n_num_found}/{n_numbers}")
    for m in missing_numbers:
        print("  CHECK", m)

    # 3. the Quick comparison table
    block = sheet.split("## Quick comparison", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in block.splitlines()
            if line.startswith("|") and not line.startswith("|---")]
    header, body = rows[0], rows[1:]
    by_id = {s.id: s for s in studies}
    ok = differ = explained = 0
    for r in body:
        sid = QUICK.get(r[0])
        if sid is None:
            print(f"  UNMAPPED quick-comparison row {r[0]!r}")
            continue
        for col, field in QUICK_FIELDS.items():
            cell = r[header.index(col)]
            lit = first_number(cell)
            v = by_id[sid].get(field)
            reg = None if v is None else ("NR" if v.data.get("reached") is False else v.number)
            same = (lit == "nf" and reg is None) or (lit == "NR" and reg == "NR") or (
                isinstance(lit, float) and isinstance(reg, (int, float)) and abs(lit - reg) < 0.051)
            if same:
                ok += 1
            elif (sid, col) in EXPLAINED:
                explained += 1
                print(f"  EXPLAINED {sid} {col}: sheet {cell!r} vs registry {reg!r}: {EXPLAINED[(sid, col)]}")
            else:
                differ += 1
                print(f"  DIFFERS {sid} {col}: sheet {cell!r} vs registry {reg!r}")
    print(f"Quick comparison cells: {ok} equal, {explained} explained differences, {differ} unexplained")
    return 1 if missing_quotes or differ else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared"))
