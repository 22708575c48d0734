"""End to end in a real headless Chromium (Playwright driving Debian's /usr/bin/chromium).

A center enters a patient with a wrong date order, sees the message at the
field and fixes it with a reason; another center cannot see the patient; the
coordinator raises a query, the center answers, the coordinator closes it and
exports; `rwestudy report` runs on the export. With RWESTUDY_SCREENSHOTS=DIR
the main pages are saved there as PNG (docs/screenshots/ in the repository).
"""
from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.server.conftest import cli

CHROMIUM = os.environ.get("RWESTUDY_CHROMIUM", "/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

PID = "BR-001"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class Shots:
    def __init__(self):
        d = os.environ.get("RWESTUDY_SCREENSHOTS")
        self.dir = Path(d) if d else None
        if self.dir:
            self.dir.mkdir(parents=True, exist_ok=True)

    def __call__(self, page, name: str):
        if self.dir:
            page.screenshot(path=str(self.dir / f"{name}.png"))


def _login(browser, server, username):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = ctx.new_page()
    page.goto(server.url + "/")  # an anonymous visitor lands on the login page
    assert page.url.startswith(server.url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", server.passwords[username])
    page.click("button[type=submit]")
    assert page.url == server.url + "/", page.content()[:2000]
    return page


def _field(page, table, name):
    return page.locator(f'form[data-table="{table}"] .field[data-field="{name}"]')


def test_enter_fix_query_export_report(browser, server, centers, tmp_path):
    a, b = centers
    shot = Shots()
    # The login page, before anyone logs in.
    anon = browser.new_page(viewport={"width": 1280, "height": 800})
    anon.goto(server.url + "/login/")
    shot(anon, "login")
    anon.close()

    # 1. A center's investigator enters a patient with progression before the treatment start.
    inv = _login(browser, server, f"investigator_{a.lower()}")
    assert inv.locator("#dashboard tbody tr td").first.inner_text() == a
    inv.click("text=Enter a new patient")
    inv.fill("#id_patient_id", PID)
    inv.click("button:has-text('Create')")
    assert inv.url == f"{server.url}/patients/{PID}/"
    form = inv.locator('form[data-table="patients"]')
    form.locator('[name$="-treatment_start_date"]').fill("2024-03-01")
    form.locator('[name$="-progression_date"]').fill("2024-01-15")
    form.locator("button[value=save]").click()
    # Not saved without a reason; the message is next to the progression date.
    assert "give a reason" in inv.locator("#reason-needed").inner_text()
    message = _field(inv, "patients", "progression_date").locator(".finding.error").inner_text()
    assert "2024-03-01" in message and "2024-01-15" in message and "progression" in message
    # Kept with a reason, the finding stays open.
    form = inv.locator('form[data-table="patients"]')
    form.locator('[name="reason"]').fill("as in the chart; asking the ward")
    form.locator("button[value=save]").click()
    assert "Saved:" in inv.locator(".msg").first.inner_text()
    box = _field(inv, "patients", "progression_date")
    assert box.locator(".finding.error").count() == 1
    box.evaluate("e => e.scrollIntoView({block: 'center'})")
    shot(inv, "patient-form-finding")
    # Fixed: a change to a saved value needs a reason; then no finding is left on the field.
    form = inv.locator('form[data-table="patients"]')
    form.locator('[name$="-progression_date"]').fill("2024-06-20")
    form.locator("button[value=save]").click()
    assert inv.locator("#reason-needed").count() == 1
    form = inv.locator('form[data-table="patients"]')
    form.locator('[name="reason"]').fill("typo in the year: scan of 2024-06-20")
    form.locator("button[value=save]").click()
    assert _field(inv, "patients", "progression_date").locator(".finding.error").count() == 0
    assert _field(inv, "patients", "progression_date").locator("input").input_value() == "2024-06-20"
    inv.click("#audit-link")
    cells = inv.locator("#audit tbody tr").last.locator("td").all_inner_texts()
    assert cells[2:] == [f"investigator_{a.lower()}", "update", "patients", cells[5], "progression_date",
                         "2024-01-15", "2024-06-20", "typo in the year: scan of 2024-06-20"]
    shot(inv, "audit-trail")

    # 2. Another center's investigator: not in the list, and the URL is a 404.
    other = _login(browser, server, f"investigator_{b.lower()}")
    other.goto(server.url + "/patients/")
    assert PID not in other.locator("#patients").inner_text()
    assert other.goto(f"{server.url}/patients/{PID}/").status == 404
    assert other.goto(f"{server.url}/patients/{PID}/audit").status == 404
    other.context.close()

    # 3. The coordinator raises a query on a field.
    coord = _login(browser, server, "coordinator")
    assert coord.locator("#dashboard tbody tr").count() > 1  # every center
    shot(coord, "dashboard")
    coord.goto(f"{server.url}/patients/{PID}/")
    raise_form = coord.locator('form.raise-query[data-for^="patients-"]')
    raise_form.locator("select[name=field]").select_option("ecog")
    raise_form.locator("input[name=text]").fill("ECOG is missing: what was it at the start of treatment?")
    raise_form.locator("button").click()
    assert "opened on ecog" in coord.locator(".msg").first.inner_text()
    assert "open" in _field(coord, "patients", "ecog").locator(".query").inner_text()
    _field(coord, "patients", "ecog").evaluate("e => e.scrollIntoView({block: 'center'})")
    shot(coord, "patient-query")

    # 4. The center answers it (the query is beside the field on its patient page).
    inv.goto(f"{server.url}/patients/{PID}/")
    inv.locator('form[data-table="patients"] .field[data-field="ecog"] .query a').click()
    inv.fill("#id_answer", "ECOG 1 on the day of the first infusion")
    inv.click("#answer-form button")
    assert inv.locator("#query-status").inner_text() == "answered"

    # 5. The coordinator closes it and exports.
    coord.goto(inv.url)
    assert "ECOG 1 on the day of the first infusion" in coord.locator("#thread").inner_text()
    coord.click("#close-form button")
    assert coord.locator("#query-status").inner_text() == "closed"
    shot(coord, "query")
    with coord.expect_download() as dl:
        coord.click("#export")
    zip_path = tmp_path / "snapshot.zip"
    dl.value.save_as(zip_path)
    snap = tmp_path / "snapshot"
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(snap)
    assert PID in (snap / "patients.csv").read_text()
    # The other tests of this session leave deliberate errors in the shared study: --allow-errors.
    rep = cli("report", str(snap), "--out", str(tmp_path / "report"), "--no-figures", "--allow-errors", timeout=600)
    assert rep.returncode == 0 and (tmp_path / "report" / "report.html").exists()
