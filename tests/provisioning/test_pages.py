"""The "Konfigurasi" admin pages: job form → dry run with live progress → real job, maker-checker approval,
template editor with versions and preview, backups, diffs and drift, languages and roles.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from netmiko import ConnectHandler
from sqlalchemy.orm import Session

from netmgr.demo.simulators.sshsim import SimulatorHandle
from netmgr.models import Device
from netmgr.models.enums import Platform, Role
from provisioning.pages import LOCALE_DIR, TEMPLATE_DIR
from tests import factories
from tests.netmgr.web.helpers import csrf_from, login
from tests.provisioning.api_support import People, TaskRunner

PROVISIONING_DIR = Path(__file__).parents[2] / "provisioning"
JOB_FORM = {"purpose": "snmp", "tags": "taman", "variables": "contact: NOC Diskominfo\nallowed_from: 10.0.0.0/8\n",
            "policy": "continue", "concurrency": "2", "canary_size": "0", "failure_threshold": "0"}


def _browser(client: TestClient, who: str) -> TestClient:
    browser = TestClient(client.app)
    assert login(browser, f"p2-{who}").status_code == 303
    return browser


def _job_id(location: str) -> int:
    match = re.fullmatch(r"/provisioning/jobs/(\d+)", location)
    assert match, location
    return int(match.group(1))


def test_dry_run_from_the_form_updates_live_then_the_real_job_needs_a_second_operator(
        client: TestClient, people: People, runner: TaskRunner, ap_ids: list[int]) -> None:
    op1 = _browser(client, "op1")
    form = op1.get("/provisioning/jobs/new")
    assert form.status_code == 200 and "Pratinjau (uji coba)" in form.text  # Indonesian first
    posted = op1.post("/provisioning/jobs/new", data={**JOB_FORM, "action": "preview",
                                                      "csrf_token": csrf_from(form.text)}, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    dry_id = _job_id(posted.headers["location"])
    page = op1.get(f"/provisioning/jobs/{dry_id}")
    assert f'hx-get="/provisioning/jobs/{dry_id}/progress" hx-trigger="every 2s"' in page.text
    assert "Uji coba dimulai" in page.text  # the flash

    runner.wait()
    fragment = op1.get(f"/provisioning/jobs/{dry_id}/progress").text
    assert "hx-trigger" not in fragment, "a finished job stops polling"
    assert fragment.count('data-status="dry_run"') == 2
    assert '<span class="add">+/snmp set enabled=yes contact=&#34;NOC Diskominfo&#34;' in fragment
    assert "akan berubah" in fragment

    made = op1.post(f"/provisioning/jobs/{dry_id}/copy", data={"dry_run": "0", "csrf_token": csrf_from(page.text)},
                    follow_redirects=False)
    real_id = _job_id(made.headers["location"])
    real = op1.get(f"/provisioning/jobs/{real_id}")
    assert 'id="approve"' not in real.text and 'id="run"' not in real.text, "the maker cannot approve"
    refused = op1.post(f"/provisioning/jobs/{real_id}/approve", data={"csrf_token": csrf_from(real.text)})
    assert "maker-checker" in refused.text

    op2 = _browser(client, "op2")
    checker = op2.get(f"/provisioning/jobs/{real_id}")
    assert 'id="approve"' in checker.text
    approved = op2.post(f"/provisioning/jobs/{real_id}/approve", data={"csrf_token": csrf_from(checker.text)})
    assert 'id="run"' in approved.text
    op2.post(f"/provisioning/jobs/{real_id}/run", data={"csrf_token": csrf_from(approved.text)}).raise_for_status()
    runner.wait()
    done = op2.get(f"/provisioning/jobs/{real_id}").text
    assert done.count('data-status="changed"') == 2 and "berhasil" in done
    listing = op2.get("/provisioning").text
    assert f'data-job-id="{real_id}"' in listing and f'data-job-id="{dry_id}"' in listing


def test_a_job_with_one_unreachable_device_is_partly_done_and_its_words_are_indonesian(
        client: TestClient, people: People, runner: TaskRunner, ap_ids: list[int], session: Session) -> None:
    device = session.get(Device, ap_ids[1])
    assert device is not None
    device.ssh_port = 9  # nothing listens on discard: the access point is unreachable
    session.commit()
    op1 = _browser(client, "op1")
    form = op1.get("/provisioning/jobs/new")
    posted = op1.post("/provisioning/jobs/new", data={**JOB_FORM, "action": "preview",
                                                      "csrf_token": csrf_from(form.text)}, follow_redirects=False)
    job_id = _job_id(posted.headers["location"])
    runner.wait()
    fragment = op1.get(f"/provisioning/jobs/{job_id}/progress").text
    assert 'data-status="partly_done"' in fragment and "sebagian selesai" in fragment
    summary = re.search(r'id="job-result-summary">([^<]*)<', fragment)
    assert summary is not None and summary.group(1) == "1 akan berubah, 1 gagal", fragment
    assert re.search(r"uji coba: \d perintah akan dikirim", fragment) and "would be pushed" not in fragment
    assert "ap-taman-2 (127.0.0.22:9) tidak dapat dihubungi" in fragment \
        or "ap-taman-2 (127.0.0.22:9) tidak menjawab tepat waktu" in fragment, fragment
    assert "galat: ap-taman-2" in fragment
    english = _browser(client, "op2").get(f"/provisioning/jobs/{job_id}/progress?lang=en").text
    assert "1 would change, 1 failed" in english and "partly done" in english


def test_job_form_shows_the_problem_and_keeps_what_was_typed(client: TestClient, people: People,
                                                             runner: TaskRunner, ap_ids: list[int]) -> None:
    op1 = _browser(client, "op1")
    token = csrf_from(op1.get("/provisioning/jobs/new").text)
    bad = op1.post("/provisioning/jobs/new", data={**JOB_FORM, "purpose": "hotspot", "variables": "vlan_id: 9999\n",
                                                   "action": "preview", "csrf_token": token})
    assert bad.status_code == 422 and "vlan_id" in bad.text and "vlan_id: 9999" in bad.text
    assert runner.sent == []


def test_template_editor_keeps_versions_and_previews_against_the_newest_backup(
        client: TestClient, people: People, runner: TaskRunner, ap_ids: list[int]) -> None:
    op1 = _browser(client, "op1")
    new = op1.get("/provisioning/templates/new?platform=mikrotik_routeros&purpose=snmp")
    assert "/snmp set enabled=yes" in new.text, "starts from the shipped template"
    body = "/snmp set enabled=yes contact={{ contact | q }}\n"
    saved = op1.post("/provisioning/templates/new", data={"name": "snmp-noc", "platform": "mikrotik_routeros",
                                                          "purpose": "snmp", "body": body,
                                                          "csrf_token": csrf_from(new.text)}, follow_redirects=False)
    url = saved.headers["location"]
    page = op1.post(url, data={"purpose": "snmp", "body": body + "/snmp set location=Sampit\n",
                               "csrf_token": csrf_from(new.text)})
    assert "versi 2" in page.text and 'href="' + url + '/versions/1"' in page.text
    version = op1.get(url + "/versions/2").text
    assert '<span class="add">+/snmp set location=Sampit</span>' in version

    op1.post(f"/provisioning/devices/{ap_ids[0]}/backups", data={"csrf_token": csrf_from(page.text)})
    runner.wait()
    preview = op1.post("/provisioning/templates/preview", data={
        "device_id": str(ap_ids[0]), "purpose": "snmp", "body": body, "variables": "contact: NOC",
        "csrf_token": csrf_from(page.text)}, headers={"HX-Request": "true"})
    assert '<pre class="code" id="rendered">/snmp set enabled=yes contact=NOC' in preview.text
    assert '<span class="add">+/snmp set enabled=yes contact=NOC</span>' in preview.text
    broken = op1.post("/provisioning/templates/preview", data={
        "device_id": str(ap_ids[0]), "purpose": "snmp", "body": "{{ contact", "csrf_token": csrf_from(page.text)})
    assert 'id="preview-error"' in broken.text and "line 1" in broken.text


def test_preview_for_a_platform_without_driver_says_so_in_the_readers_language(
        client: TestClient, people: People, session: Session) -> None:
    firewall = factories.device(session, site_id=factories.site(session).id, name="fw-pemkab",
                                platform=Platform.FORTINET)
    session.commit()
    op1 = _browser(client, "op1")
    page = op1.get("/provisioning/templates/new?platform=mikrotik_routeros&purpose=snmp")
    preview = op1.post("/provisioning/templates/preview", data={
        "device_id": str(firewall.id), "purpose": "snmp", "variables": "contact: NOC",
        "csrf_token": csrf_from(page.text)}, headers={"HX-Request": "true"})
    assert 'id="preview-error"' in preview.text
    assert "tidak ada driver untuk platform fortinet; netmgr mengonfigurasi cisco_ios, linux" in preview.text


def test_backup_history_diff_and_drift_pages_show_a_hand_made_change(
        client: TestClient, people: People, runner: TaskRunner, ap_ids: list[int],
        ap_fleet: list[SimulatorHandle]) -> None:
    admin = _browser(client, "admin")
    token = csrf_from(admin.get("/provisioning/jobs/new").text)
    made = admin.post("/provisioning/jobs/new", data={**JOB_FORM, "tags": "", "devices": "ap-taman-1",
                                                      "action": "create", "csrf_token": token}, follow_redirects=False)
    job_id = _job_id(made.headers["location"])
    admin.post(f"/provisioning/jobs/{job_id}/approve", data={"csrf_token": token})  # admins may self-approve
    admin.post(f"/provisioning/jobs/{job_id}/run", data={"csrf_token": token})
    runner.wait()
    conn = ConnectHandler(**ap_fleet[0].netmiko_params())
    conn.send_config_set(['/snmp set contact="teknisi lapangan"'])
    conn.disconnect()
    admin.post(f"/provisioning/devices/{ap_ids[0]}/backups", data={"csrf_token": token})
    runner.wait()

    history = admin.get(f"/provisioning/devices/{ap_ids[0]}/backups").text
    assert history.count("data-backup-id=") == 3 and "sesuai permintaan" in history
    newest = re.search(r'data-backup-id="(\d+)"', history)
    assert newest
    backup = admin.get(f"/provisioning/backups/{newest.group(1)}").text
    assert '<span class="add">+/snmp set contact=&#34;teknisi lapangan&#34;' in backup
    drift = admin.get("/provisioning/drift").text
    assert 'data-device="ap-taman-1"' in drift and "teknisi lapangan" in drift
    overview = admin.get("/provisioning/backups").text
    assert f'/provisioning/devices/{ap_ids[0]}/backups">ap-taman-1</a></td><td>mikrotik_routeros</td><td>3</td>' \
        in overview


def test_finance_reads_without_buttons_agency_viewers_are_refused_and_english_works(
        client: TestClient, session: Session, people: People, ap_ids: list[int]) -> None:
    finance = _browser(client, "finance")
    jobs_page = finance.get("/provisioning?lang=en")
    assert jobs_page.status_code == 200 and "Provisioning jobs" in jobs_page.text
    assert 'id="new-job"' not in jobs_page.text
    assert finance.get("/provisioning/jobs/new").status_code == 403
    viewer = _browser(client, "viewer")
    assert viewer.get("/provisioning").status_code == 403
    assert ">Konfigurasi<" not in viewer.get("/").text
    factories.user(session, role=Role.OPERATOR, username="p2-op3")
    assert ">Konfigurasi<" in _browser(client, "op3").get("/").text


def test_every_msgid_of_the_pages_has_an_indonesian_translation() -> None:
    keywords = {"_": None, "_t": (2,), "gettext": None, "ngettext": (1, 2)}
    found = {m[2] for m in extract_from_dir(
        str(PROVISIONING_DIR), [("templates_web/**.html", "jinja2.ext:babel_extract"), ("pages.py", "python"),
                                ("messages.py", "python")],
        {"templates_web/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "yes", "lstrip_blocks": "yes"}},
        keywords=keywords)}
    with (LOCALE_DIR / "id" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="id")
    missing = sorted(str(m) for m in found if isinstance(m, str) and not (catalog.get(m) and catalog.get(m).string))
    assert TEMPLATE_DIR.is_dir() and len(found) > 100
    assert not missing, f"translate these in {LOCALE_DIR}/id/LC_MESSAGES/messages.po: {missing}"
