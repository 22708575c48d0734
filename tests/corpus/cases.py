"""A corpus of hostile but realistic study inputs, each with its expected outcome.

Every case builds its files from the small synthetic study (so the truth is
known: it is the table we wrote), corrupts them the way real center
spreadsheets are corrupted, and states what a correct tool does with them:
read the value right, or name the problem (table, row, column), or refuse
clearly. `test_corpus.py` runs each case and sorts any failure into one of
the outcomes the file-door issue counts:

- crash: an exception, an abort, a kill, exit code 3 ("internal error");
- silent-wrong: exit 0 / no finding where the value was read wrong or a
  problem went unreported;
- dropped: fewer rows reach the typed tables than the source holds, unnoticed;
- misleading: a finding exists but blames the wrong place (row, column, file)
  or says the wrong thing.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from rwestudy.io.writers import write_csv_folder, write_workbook

# --------------------------------------------------------------------------- expectations


@dataclass
class Finding:
    """A finding of at least ``severity`` at this place (None: any row/column).

    ``tables``: acceptable values of the finding's table (canonical name, sheet or
    file name). ``words``: at least one must appear in the message (lower case)
    when given, so a finding that blames something else counts as misleading.
    """

    tables: tuple[str, ...]
    row: int | None = None
    column: str | None = None
    severity: tuple[str, ...] = ("error", "warning")
    words: tuple[str, ...] = ()


@dataclass
class Value:
    """The typed table holds ``expected`` at this cell, or a finding names the cell."""

    table: str
    row: int
    column: str
    expected: object
    finding_ok: bool = True


@dataclass
class Rows:
    """The typed table keeps ``n`` rows (or a finding says why not)."""

    table: str
    n: int


@dataclass
class NoFinding:
    """No finding of these severities whose message contains any of ``words``."""

    words: tuple[str, ...]
    severity: tuple[str, ...] = ("error", "warning")


@dataclass
class Cli:
    """A command run in a subprocess and what must hold of it."""

    args: list[str]                    # after `rwestudy`; "{study}" and "{out}" are filled in
    exit_codes: tuple[int, ...]        # acceptable exit codes
    stdout_has: tuple[str, ...] = ()   # literal texts that must appear in stdout+stderr
    stdout_lacks: tuple[str, ...] = ()
    check: Callable[[Path], str | None] | None = None  # out folder -> None or (outcome: why)
    memory_mb: int | None = None       # address-space limit for the child


@dataclass
class Case:
    id: str
    what: str
    build: Callable[[Path, dict], Path]
    expect: list = field(default_factory=list)


# --------------------------------------------------------------------------- builders' helpers


def _csv_folder(folder: Path, tables: dict) -> Path:
    return write_csv_folder(tables, folder / "study")


def _edit_text(path: Path, fn: Callable[[str], str], encoding: str = "utf-8") -> None:
    path.write_text(fn(path.read_text(encoding="utf-8")), encoding=encoding, newline="")


def _set(tables: dict, table: str, i: int, column: str, value) -> dict:
    t = {k: v.copy() for k, v in tables.items()}
    frame = t[table].astype(object)
    frame.iat[i, frame.columns.get_loc(column)] = value
    t[table] = frame
    return t


def _xlsx(folder: Path, tables: dict, edit: Callable | None = None) -> Path:
    """The study as a workbook, optionally edited with openpyxl (``edit(wb)``)."""
    path = write_workbook(tables, folder / "study.xlsx")
    if edit is not None:
        from openpyxl import load_workbook

        wb = load_workbook(path)
        edit(wb)
        wb.save(path)
    return path


def _col_letter(frame: pd.DataFrame, column: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(frame.columns.get_loc(column) + 1)


def _patch_sheet_xml(path: Path, sheet_index: int, fn: Callable[[str], str]) -> None:
    """Rewrite one worksheet's XML inside the xlsx (for what openpyxl cannot write)."""
    name = f"xl/worksheets/sheet{sheet_index}.xml"
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    parts[name] = fn(parts[name].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)


def _tiny_xlsx(path: Path, sheet_xml: str, shared_strings: str | None = None) -> Path:
    """A minimal valid xlsx with one sheet named 'patients' (for the decompression bombs)."""
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
          'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
          'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
          '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
          'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxml'
          'formats-officedocument.spreadsheetml.worksheet+xml"/>'
          + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
             'officedocument.spreadsheetml.sharedStrings+xml"/>' if shared_strings else "") + '</Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    wb = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
          'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
          'relationships"><sheets><sheet name="patients" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wb_rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
               'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
               'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
               + ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                  'relationships/sharedStrings" Target="sharedStrings.xml"/>' if shared_strings else "")
               + '</Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", wb)
        z.writestr("xl/_rels/workbook.xml.rels", wb_rels)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared_strings:
            z.writestr("xl/sharedStrings.xml", shared_strings)
    return path


SHEET_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'

# --------------------------------------------------------------------------- CSV door


def _dup_header(folder, t):
    p = _csv_folder(folder, t)
    _edit_text(p / "patients.csv", lambda s: s.replace(",histology,", ",sex,", 1))
    return p


def _dup_table_file(folder, t):
    p = _csv_folder(folder, t)
    (p / "Adverse Events.csv").write_bytes((p / "adverse_events.csv").read_bytes())
    return p


def _stray_quote(folder, t):
    p = _csv_folder(folder, t)
    lines = (p / "patients.csv").read_text(encoding="utf-8").split("\n")
    lines[9] = lines[9].replace(",DLBCL,", ',"DLBCL,', 1).replace(",tFL,", ',"tFL,', 1).replace(",HGBL,", ',"HGBL,', 1)
    (p / "patients.csv").write_text("\n".join(lines), encoding="utf-8", newline="")
    return p


def _utf16(encoding):
    def build(folder, t):
        p = _csv_folder(folder, t)
        text = (p / "patients.csv").read_text(encoding="utf-8")
        rows = list(csv.reader(io.StringIO(text)))
        buf = io.StringIO()
        csv.writer(buf, delimiter="\t", lineterminator="\r\n").writerows(rows)
        bom = "" if encoding == "utf-16" else "\ufeff"   # "utf-16" writes its BOM; "utf-16-be" does not
        (p / "patients.csv").write_bytes((bom + buf.getvalue()).encode(encoding))
        return p
    return build


def _sep_line(folder, t):
    t = _set(t, "patients", 4, "ecog", "zz")
    p = _csv_folder(folder, t)
    text = (p / "patients.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    buf = io.StringIO()
    buf.write("sep=;\r\n")
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows(rows)
    (p / "patients.csv").write_text(buf.getvalue(), encoding="utf-8", newline="")
    return p


def _blank_line(folder, t):
    t = _set(t, "patients", 10, "ecog", "zz")
    p = _csv_folder(folder, t)
    _edit_text(p / "patients.csv", lambda s: re.sub(r"^((?:[^\n]*\n){5})", r"\1\n", s))
    return p


def _numbers(value, column="ldh", i=3):
    def build(folder, t):
        return _csv_folder(folder, _set(t, "patients", i, column, value))
    return build


def _decimal_comma_column(folder, t):
    t = {k: v.copy() for k, v in t.items()}
    t["patients"] = t["patients"].astype(object)
    t["patients"]["hb_g_dl"] = [None if pd.isna(v) else f"{v:.1f}".replace(".", ",") for v in t["patients"]["hb_g_dl"]]
    return _csv_folder(folder, t)


# --------------------------------------------------------------------------- workbook door


def _formula_error(folder, t):
    path = _xlsx(folder, t)
    col = _col_letter(t["patients"], "ecog")
    _patch_sheet_xml(path, 1, lambda x: re.sub(
        rf'<c r="{col}5"([^>]*?)(?:/>|>.*?</c>)', f'<c r="{col}5" t="e"><f>1/0</f><v>#DIV/0!</v></c>', x, count=1))
    return path


def _formula_no_cache(folder, t):
    col = _col_letter(t["patients"], "ldh")

    def edit(wb):
        wb["patients"][f"{col}6"] = "=200+50"   # openpyxl stores the formula without a cached value
    return _xlsx(folder, t, edit)


def _date1904_serials(folder, t):
    col = _col_letter(t["patients"], "diagnosis_date")

    def edit(wb):
        wb.epoch = __import__("openpyxl.utils.datetime", fromlist=["x"]).CALENDAR_MAC_1904
        ws = wb["patients"]
        for i, d in enumerate(t["patients"]["diagnosis_date"]):
            c = ws[f"{col}{i + 2}"]
            c.value = (pd.Timestamp(d) - pd.Timestamp("1904-01-01")).days   # a plain serial, 1904 system
            c.number_format = "General"
    return _xlsx(folder, t, edit)


def _date1904_cells(folder, t):
    def edit(wb):
        wb.epoch = __import__("openpyxl.utils.datetime", fromlist=["x"]).CALENDAR_MAC_1904
        ws = wb["patients"]
        col = _col_letter(t["patients"], "diagnosis_date")
        for i, d in enumerate(t["patients"]["diagnosis_date"]):   # re-assigned: stored in the 1904 epoch
            ws[f"{col}{i + 2}"].value = pd.Timestamp(d).to_pydatetime()
    return _xlsx(folder, t, edit)


def _zero_padded_ids(folder, t):
    t = {k: v.copy() for k, v in t.items()}
    ids = {pid: f"{i + 1:03d}" for i, pid in enumerate(t["patients"]["patient_id"])}
    for k, v in t.items():
        if "patient_id" in v.columns:
            v["patient_id"] = v["patient_id"].map(ids)

    def edit(wb):
        ws = wb["patients"]
        for i, pid in enumerate(t["patients"]["patient_id"]):
            c = ws[f"A{i + 2}"]
            c.value = int(pid)
            c.number_format = "000"
    return _xlsx(folder, t, edit)


def _hidden_sheet(state):
    def build(folder, t):
        def edit(wb):
            wb["mutations"].sheet_state = state
        return _xlsx(folder, t, edit)
    return build


def _merged(folder, t):
    col = _col_letter(t["patients"], "center")

    def edit(wb):
        wb["patients"].merge_cells(f"{col}5:{col}7")
    return _xlsx(folder, t, edit)


def _dup_sheet(folder, t):
    def edit(wb):
        ws = wb.copy_worksheet(wb["adverse_events"])
        ws.title = "adverse events"
    return _xlsx(folder, t, edit)


def _bomb_dimension(folder, t):
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {SHEET_NS}><dimension ref="A1:XFD1048576"/>'
             '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>patient_id</t></is></c></row>'
             '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>')
    return _tiny_xlsx(folder / "bomb.xlsx", sheet)


def _bomb_shared_string(folder, t):
    big = "A" * (10 * 1024 * 1024)
    sst = (f'<?xml version="1.0" encoding="UTF-8"?><sst {SHEET_NS} count="5001" uniqueCount="2">'
           f'<si><t>patient_id</t></si><si><t>{big}</t></si></sst>')
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="s"><v>1</v></c></row>' for r in range(2, 5002))
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {SHEET_NS}><dimension ref="A1:A5001"/><sheetData>'
             f'<row r="1"><c r="A1" t="s"><v>0</v></c></row>{rows}</sheetData></worksheet>')
    return _tiny_xlsx(folder / "bomb.xlsx", sheet, sst)


# --------------------------------------------------------------------------- meaning


def _related_none(folder, t):
    t = {k: v.copy() for k, v in t.items()}
    t["adverse_events"] = t["adverse_events"].astype(object)
    t["adverse_events"].iloc[:5, t["adverse_events"].columns.get_loc("related_to")] = "none"
    return _csv_folder(folder, t)


def _center_two_spellings(folder, t):
    first = t["patients"]["center"].iloc[0]
    t = _set(t, "patients", 0, "center", first.lower() + "  ")
    return _csv_folder(folder, t)


def _no_patients(folder, t):
    t = dict(t, patients=t["patients"].iloc[0:0])
    return _csv_folder(folder, t)


def _control_chars(folder, t):
    t = _set(t, "adverse_events", 2, "outcome", "resol\x01ved\x0b")
    return _csv_folder(folder, t)


def _terminal(folder, t):
    t = _set(t, "adverse_events", 0, "term", "[/bold]")
    t = _set(t, "adverse_events", 1, "term", "[link=https://example.invalid]click[/link]")
    t = _set(t, "adverse_events", 2, "term", "\x1b[31mred\x1b[0m")
    folder = folder / "[" / "i]x"   # the path reads ".../[/i]x/study"
    folder.mkdir(parents=True)
    return _csv_folder(folder, t)


INJECTIONS = ["=cmd|' /C calc'!A0", '=HYPERLINK("https://example.invalid","x")', "+1+1", "@SUM(A1)", "-2+3"]


def _formula_injection(folder, t):
    t = {k: v.copy() for k, v in t.items()}
    ae = t["adverse_events"].astype(object)
    for i, text in enumerate(INJECTIONS):
        ae.iat[i, ae.columns.get_loc("term")] = text
    t["adverse_events"] = ae
    return _csv_folder(folder, t)


def _many_findings(folder, t):
    ae = t["adverse_events"]
    n = 100_000
    big = ae.sample(n, replace=True, random_state=1).reset_index(drop=True).astype(object)
    big["grade"] = "seven"   # an unreadable grade on every row
    return _csv_folder(folder, dict(t, adverse_events=big))


def _plain(folder, t):
    return _csv_folder(folder, t)


def _missing_group(folder, t):
    t = {k: v.copy() for k, v in t.items()}
    t["patients"] = t["patients"].astype(object)
    t["patients"].iloc[:3, t["patients"].columns.get_loc("sex")] = None
    return _csv_folder(folder, t)


def _plan(text):
    def build(folder, t):
        (folder / "plan.toml").write_text(text, encoding="utf-8")
        return _csv_folder(folder, t)
    return build


# --------------------------------------------------------------------------- checks on written outputs


def _no_formula_cells(out: Path) -> str | None:
    from openpyxl import load_workbook

    for name in ("tables.xlsx", "findings.xlsx"):
        path = out / name
        if not path.exists():
            continue
        wb = load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.data_type == "f":
                        return f"silent-wrong: {name}!{ws.title}!{c.coordinate} is a live formula {c.value!r}"
    csvf = out / "findings.csv"
    if csvf.exists():
        for line in csvf.read_text(encoding="utf-8").splitlines():
            for cell in next(csv.reader([line])):
                if cell[:1] in ("=", "+", "@") or (cell[:1] == "-" and not _is_number(cell)):
                    return f"silent-wrong: findings.csv cell {cell!r} would be a formula"
    return None


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _results_has(test: Callable[[dict], str | None]) -> Callable[[Path], str | None]:
    def check(out: Path) -> str | None:
        import json

        path = out / "results.json"
        if not path.exists():
            return "silent-wrong: no results.json written"
        return test(json.loads(path.read_text(encoding="utf-8")))
    return check


def _few_groups(r: dict) -> str | None:
    for g in r.get("group_tests", []):
        if g["variable"] == "age_at_start" and (g.get("df") or 0) > 5:
            return f"silent-wrong: age tested as a {g['df'] + 1}-group factor"
    return None


def _cutoff_stated(r: dict) -> str | None:
    got = r["study"][0].get("data_cutoff")
    return None if got == "2024-01-31" else f"silent-wrong: results.json states cut-off {got!r}, not 2024-01-31"


def _missing_noted(r: dict) -> str | None:
    rows = [g for g in r.get("group_tests", []) if g["variable"] == "sex"]
    if not rows:
        return "silent-wrong: the sex comparison vanished"
    if any(g.get("n_missing") != 3 for g in rows):
        return f"silent-wrong: n_missing {[g.get('n_missing') for g in rows]} instead of 3"
    return None


def _html_clean(out: Path) -> str | None:
    html = out / "report.html"
    if not html.exists():
        return "crash: report.html missing"
    if "\x01" in html.read_text(encoding="utf-8"):
        return "silent-wrong: a control character reached report.html"
    return _no_formula_cells(out)


# --------------------------------------------------------------------------- the corpus

PAT = ("patients", "patients.csv")
AE = ("adverse_events", "adverse_events.csv", "Adverse Events.csv", "adverse events", "(study)")


def corpus(base: dict) -> list[Case]:
    p = base["patients"]
    return [
        # CSV door
        Case("csv-duplicate-header", "two columns named 'sex' in patients.csv", _dup_header,
             [Finding(PAT, column="sex", severity=("error",))]),
        Case("csv-same-table-twice", "adverse_events.csv and 'Adverse Events.csv' in one folder", _dup_table_file,
             [Finding(AE, severity=("error",), words=("adverse events.csv", "adverse_events.csv"))]),
        Case("csv-stray-quote", "an unclosed quote on line 10 swallows the following lines", _stray_quote,
             [Finding(PAT, row=10, severity=("error",))]),
        Case("csv-utf16-le", "patients.csv saved as Excel 'Unicode text' (UTF-16 LE, BOM, tabs)", _utf16("utf-16"),
             [Rows("patients", len(p)), Value("patients", 2, "center", p["center"].iloc[0], finding_ok=False),
              NoFinding(("cannot", "unreadable", "unknown", "no header"))]),
        Case("csv-utf16-be", "patients.csv as UTF-16 BE with BOM", _utf16("utf-16-be"),
             [Rows("patients", len(p)), Value("patients", 2, "center", p["center"].iloc[0], finding_ok=False)]),
        Case("csv-sep-line", "Excel's 'sep=;' first line; bad ECOG on the 5th patient (file line 7)", _sep_line,
             [Rows("patients", len(p)), Finding(PAT, row=7, column="ecog", severity=("error",))]),
        Case("csv-blank-line", "a blank line after line 5; bad ECOG on the 11th patient (file line 13)", _blank_line,
             [Rows("patients", len(p)), Finding(PAT, row=13, column="ecog", severity=("error",))]),
        Case("csv-thousands", "LDH written '1,250'", _numbers("1,250"),
             [Value("patients", 5, "ldh", 1250.0)]),
        Case("csv-thousands-big", "platelets written '1,250,000'", _numbers("1,250,000", "platelets_10e9_l"),
             [Value("patients", 5, "platelets_10e9_l", 1250000.0)]),
        Case("csv-decimal-comma-one", "LDH written '312,5' among plain numbers", _numbers("312,5"),
             [Value("patients", 5, "ldh", 312.5)]),
        Case("csv-decimal-comma-column", "every haemoglobin written with a decimal comma", _decimal_comma_column,
             [Value("patients", 2, "hb_g_dl", round(float(p["hb_g_dl"].iloc[0]), 1), finding_ok=False)]),
        # workbook door
        Case("xlsx-formula-error", "ECOG cell E5 is a formula whose cached value is #DIV/0!", _formula_error,
             [Finding(("patients",), row=5, column="ecog", severity=("error", "warning"))]),
        Case("xlsx-formula-no-cache", "an LDH formula saved without a cached value", _formula_no_cache,
             [Finding(("patients",), row=6, column="ldh", severity=("error", "warning"))]),
        Case("xlsx-1904-serials", "1904 date system, diagnosis dates as plain serial numbers", _date1904_serials,
             [Value("patients", 2, "diagnosis_date", pd.Timestamp(p["diagnosis_date"].iloc[0]))]),
        Case("xlsx-1904-cells", "1904 date system, diagnosis dates as date cells", _date1904_cells,
             [Value("patients", 2, "diagnosis_date", pd.Timestamp(p["diagnosis_date"].iloc[0]), finding_ok=False)]),
        Case("xlsx-zero-padded-ids", "patient ids as numbers displayed '001' (format 000)", _zero_padded_ids,
             [Value("patients", 2, "patient_id", "001", finding_ok=False),
              NoFinding(("unknown patient", "not in the patients", "no patient"), severity=("error",))]),
        Case("xlsx-hidden-sheet", "the mutations sheet is hidden", _hidden_sheet("hidden"),
             [Finding(("mutations", "(study)"), words=("hidden",))]),
        Case("xlsx-very-hidden-sheet", "the mutations sheet is very hidden", _hidden_sheet("veryHidden"),
             [Finding(("mutations", "(study)"), words=("hidden",))]),
        Case("xlsx-merged-cells", "center cells of rows 5-7 merged", _merged,
             [Finding(("patients",), words=("merged",))]),
        Case("xlsx-same-sheet-twice", "sheets 'adverse_events' and 'adverse events'", _dup_sheet,
             [Finding(AE, severity=("error",), words=("adverse events", "adverse_events"))]),
        Case("xlsx-bomb-dimension", "2 KB xlsx declaring a cell at XFD1048576", _bomb_dimension,
             [Cli(["validate", "{study}"], (1, 2), stdout_has=("XFD1048576",), memory_mb=3000)]),
        Case("xlsx-bomb-shared-string", "one 10 MB shared string used 5,000 times", _bomb_shared_string,
             [Cli(["validate", "{study}"], (1, 2), stdout_has=("shared string",), memory_mb=3000)]),
        # meaning
        Case("related-to-none", "related_to = 'none' on five AEs", _related_none,
             [Value("adverse_events", r, "related_to", "none", finding_ok=False) for r in range(2, 7)]),
        Case("center-two-spellings", "the first patient's center in lower case with trailing spaces",
             _center_two_spellings, [Finding(PAT, column="center", severity=("warning", "error"))]),
        Case("no-patients", "a patients sheet with its header only", _no_patients,
             [Finding(PAT, severity=("error",)),
              Cli(["report", "{study}", "--out", "{out}", "--no-figures"], (1, 2),
                  check=lambda out: "silent-wrong: a report was written" if (out / "report.html").exists() else None)]),
        Case("control-characters", "an AE outcome holding \\x01 and \\x0b", _control_chars,
             [Finding(AE, row=4, column="outcome"),
              Cli(["report", "{study}", "--out", "{out}", "--no-figures", "--allow-errors"], (0,), check=_html_clean)]),
        Case("terminal-injection", "Rich markup and ANSI escapes in AE terms, '[/i]' in the folder name", _terminal,
             [Cli(["validate", "{study}", "--max-rows", "500"], (0, 1),
                  stdout_has=("[/bold]", "[link=https://example.invalid]", "[/i]x"), stdout_lacks=("\x1b[31m",))]),
        Case("formula-injection", "AE terms that are spreadsheet formulas", _formula_injection,
             [Cli(["report", "{study}", "--out", "{out}", "--no-figures", "--allow-errors"], (0,),
                  check=_no_formula_cells),
              Cli(["validate", "{study}", "--export", "{out}/findings.xlsx"], (0, 1), check=_no_formula_cells),
              Cli(["validate", "{study}", "--export", "{out}/findings.csv"], (0, 1), check=_no_formula_cells)]),
        Case("many-findings", "100,000 AEs with an unreadable grade", _many_findings,
             [Rows("adverse_events", 100_000), Finding(AE, row=2, column="grade", severity=("error",)),
              Cli(["validate", "{study}", "--format", "json"], (1,), memory_mb=6000)]),
        # analysis settings
        Case("continuous-factor", "age_at_start given as a grouping factor",
             _plan('[factors]\nvariables = ["age_at_start", "sex"]\n'),
             [Cli(["analyze", "{study}", "--out", "{out}", "--plan", "{folder}/plan.toml"], (0, 2),
                  check=lambda out: _results_has(_few_groups)(out) if (out / "results.json").exists() else None)]),
        Case("plan-cutoff-junk", "cutoff = 'junk' in the plan", _plan('[endpoints]\ncutoff = "junk"\n'),
             [Cli(["analyze", "{study}", "--out", "{out}", "--plan", "{folder}/plan.toml"], (2,),
                  stdout_has=("cutoff",), stdout_lacks=("internal error",))]),
        Case("plan-landmark-text", "landmarks = ['six']", _plan('[survival]\nlandmarks = ["six"]\n'),
             [Cli(["analyze", "{study}", "--out", "{out}", "--plan", "{folder}/plan.toml"], (2,),
                  stdout_has=("landmarks",), stdout_lacks=("internal error",))]),
        Case("cutoff-option", "--cutoff 2024-01-31 on analyze", _plain,
             [Cli(["analyze", "{study}", "--out", "{out}", "--cutoff", "2024-01-31"], (0, 1),
                  check=lambda out: _results_has(_cutoff_stated)(out) if (out / "results.json").exists() else
                  "silent-wrong: no results.json")]),
        Case("missing-group-value", "sex missing for three patients", _missing_group,
             [Cli(["analyze", "{study}", "--out", "{out}", "--allow-errors"], (0,),
                  check=_results_has(_missing_noted))]),
    ]
