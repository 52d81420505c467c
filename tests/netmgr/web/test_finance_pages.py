"""Finance pages: the monthly report per role, downloads, closing a month, the budget year, bandwidth plans
(new versions with their rules shown next to the fields, dry run → push against a RouterOS simulator) and
offices' bandwidth requests with maker-checker. SQLite and PostgreSQL, as every database test.
"""
# ruff: noqa: F811 - the fixtures imported below (world, runner) are parameters of the tests

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.demo.simulators.sshsim import SimulatorHandle, SimulatorThread
from netmgr.models import ClosedPeriod
from netmgr.models.enums import Role
from netmgr.models.finance import BandwidthRequest, PlanStatus, PlanVersion, RequestStatus
from netmgr.schemas.inventory import DeviceUpdate
from netmgr.security.permissions import SYSTEM, Actor
from netmgr.services import devices
from netmgr.web.charts import bar_chart
from provisioning import jobs
from tests import factories
from tests.netmgr.finance.conftest import MONTH, World, standard_month, world  # noqa: F401 - fixture
from tests.netmgr.web.helpers import login, signed_in_csrf
from tests.provisioning.api_support import TaskRunner, runner, task_env  # noqa: F401 - fixtures

KEY = "2025-02"
TELKOM_WITH_PPN = "Rp 30.525.000"  # 27.500.000 + 11 % PPN, Indonesian grouping
INVOICES = "Rp 40.515.000"  # Telkom 30.525.000 + Icon+ 9.990.000
SIM_PASSWORD = "Sim-pass-1"


def _rupiah(text: str) -> int:
    """``Rp 2.540.000`` → 2540000 (as an Indonesian reader adds them up)."""
    return int(text.replace("Rp", "").replace(".", "").strip())


def _as(client: TestClient, session: Session, role: Role, world: World | None = None, *,
        username: str | None = None) -> None:
    name = username or f"{role.value}-user"
    agency = world.agency_busy if world is not None and role == Role.AGENCY_VIEWER else None
    factories.user(session, username=name, role=role, agency_id=agency)
    client.cookies.clear()
    assert login(client, name).status_code == 303


# --- monthly report --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.FINANCE, Role.OPERATOR, Role.AGENCY_VIEWER])
def test_monthly_report_page_shows_each_role_its_figures_in_rupiah(client: TestClient, session: Session,
                                                                   world: World, role: Role) -> None:
    standard_month(session, world)
    _as(client, session, role, world)
    home = client.get("/").text
    assert 'href="/reports"' in home and 'href="/plans"' in home and 'href="/requests"' in home
    page = client.get(f"/reports?month={KEY}")
    assert page.status_code == 200
    html = page.text
    assert "Laporan bandwidth Februari 2025" in html
    assert 'data-agency="DUKCAPIL"' in html
    viewer = role == Role.AGENCY_VIEWER
    # an agency viewer sees only its own office: no other office, no uplink invoices, no budget tab
    assert ('data-agency="INSPEKTORAT"' in html) is not viewer
    assert ('id="uplink-table"' in html) is not viewer
    assert (TELKOM_WITH_PPN in html) is not viewer
    assert ('href="/reports/budget"' in html) is not viewer
    assert ('id="close-month"' in html) is (role in (Role.ADMIN, Role.FINANCE))
    if not viewer:
        assert f'id="invoice-total">{INVOICES}<' in html
        assert re.search(r"Dapat dijumlahkan|Cocok", html), "the reconciliation line says the shares add up"
        # Icon+ runs at 20 % of capacity: the downgrade recommendation names its rupiah saving
        saving = re.search(r'class="saving ?">Menghemat sekitar (Rp [\d.]+) per bulan<', html)
        assert saving and _rupiah(saving.group(1)) > 0
        assert '<svg class="chart bars"' in html and 'class="bar p95"' in html
        assert 'id="sla-table"' in html


def test_report_shares_add_up_to_the_invoices_on_the_page(client: TestClient, session: Session, world: World) -> None:
    standard_month(session, world)
    _as(client, session, Role.FINANCE)
    html = client.get(f"/reports?month={KEY}").text
    by_allocation = [_rupiah(m) for m in re.findall(r'class="num share-alloc">(Rp [\d.]+)<', html)]
    by_use = [_rupiah(m) for m in re.findall(r'class="num share-use">(Rp [\d.]+)<', html)]
    assert len(by_allocation) == len(by_use) == 3
    assert sum(by_allocation) == sum(by_use) == _rupiah(INVOICES)


def test_unknown_month_falls_back_to_last_month_with_a_message(client: TestClient, session: Session) -> None:
    _as(client, session, Role.FINANCE)
    page = client.get("/reports?month=Februari")
    assert page.status_code == 200 and "bukan bulan seperti 2025-05" in page.text


@pytest.mark.parametrize(("kind", "media", "magic"), [
    ("csv", "text/csv; charset=utf-8", b""), ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml"
                                              ".sheet", b"PK"), ("pdf", "application/pdf", b"%PDF")])
def test_downloads_have_the_right_content_type_and_file_name(client: TestClient, session: Session, world: World,
                                                              kind: str, media: str, magic: bytes) -> None:
    standard_month(session, world)
    _as(client, session, Role.FINANCE)
    response = client.get(f"/reports/monthly.{kind}?month={KEY}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media
    assert response.headers["content-disposition"] == f'attachment; filename="laporan-bandwidth-{KEY}.{kind}"'
    assert response.content.startswith(magic)
    if kind == "csv":
        assert "DUKCAPIL" in response.text and "INSPEKTORAT" in response.text
    if kind == "xlsx":
        book = load_workbook(io.BytesIO(response.content))
        cells = {str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row}
        assert "DUKCAPIL" in cells


def test_agency_viewers_download_only_their_own_office(client: TestClient, session: Session, world: World) -> None:
    standard_month(session, world)
    _as(client, session, Role.AGENCY_VIEWER, world)
    lines = client.get(f"/reports/monthly.csv?month={KEY}").text.splitlines()
    assert any(line.startswith("DUKCAPIL,") for line in lines)
    assert not any(line.startswith(("INSPEKTORAT,", "telkom-astinet-500,")) for line in lines)


def test_finance_closes_a_month_from_the_page_and_an_operator_may_not(client: TestClient, session: Session,
                                                                      world: World) -> None:
    standard_month(session, world)
    _as(client, session, Role.OPERATOR)
    refused = client.post("/reports/close", data={"csrf_token": signed_in_csrf(client), "month": KEY},
                          follow_redirects=False)
    assert refused.status_code == 403
    _as(client, session, Role.FINANCE)
    page = client.get(f"/reports?month={KEY}").text
    assert 'id="close-month"' in page and "terbuka" in page
    closed = client.post("/reports/close", data={"csrf_token": signed_in_csrf(client), "month": KEY},
                         follow_redirects=False)
    assert closed.status_code == 303 and closed.headers["location"] == f"/reports?month={KEY}"
    after = client.get(closed.headers["location"]).text
    assert "Bulan 2025-02 ditutup" in after  # the flash
    assert 'id="close-month"' not in after and "ditutup oleh finance-user" in after
    row = session.scalar(select(ClosedPeriod))
    assert row is not None and row.closed_by == "finance-user" and row.sha256[:12] in after
    again = client.post("/reports/close", data={"csrf_token": signed_in_csrf(client), "month": KEY})
    assert "2025-02 sudah ditutup." in again.text
    future = client.post("/reports/close", data={"csrf_token": signed_in_csrf(client), "month": "2999-01"})
    assert "2999-01 belum berakhir" in future.text


def test_budget_year_page_shows_the_pagu_and_finance_sets_it(client: TestClient, session: Session,
                                                             world: World) -> None:
    _as(client, session, Role.AGENCY_VIEWER, world)
    assert client.get("/reports/budget?year=2025").status_code == 403
    _as(client, session, Role.FINANCE)
    page = client.get("/reports/budget?year=2025")
    assert page.status_code == 200 and 'id="contracts"' in page.text and "telkom-astinet-500" in page.text
    bad = client.post("/reports/budget", data={"csrf_token": signed_in_csrf(client), "year": "2025",
                                               "pagu_idr": "banyak"})
    assert bad.status_code == 422 and "Isi pagu dalam rupiah" in bad.text
    saved = client.post("/reports/budget", data={"csrf_token": signed_in_csrf(client), "year": "2025",
                                                 "pagu_idr": "520.000.000"})
    assert saved.status_code == 200
    assert 'id="pagu">Rp 520.000.000<' in saved.text
    # the projection counts 12 months of both contracts (no usage written): 12 × 40.515.000
    assert 'id="projected">Rp 486.180.000<' in saved.text


# --- plans -------------------------------------------------------------------------------------


def test_plan_pages_show_agency_viewers_only_their_share_and_finance_cannot_apply(
        client: TestClient, session: Session, world: World) -> None:
    _as(client, session, Role.AGENCY_VIEWER, world)
    listing = client.get("/plans").text
    assert "Internet Pemkab" in listing and "20 / 30 Mbps" in listing
    version = client.get(f"/plans/versions/{world.version}").text
    assert 'data-allocation="DUKCAPIL"' in version and 'data-allocation="INSPEKTORAT"' not in version
    assert 'id="week-grid"' in version and 'id="dry-run"' not in version

    _as(client, session, Role.FINANCE)
    version = client.get(f"/plans/versions/{world.version}").text
    assert 'data-allocation="INSPEKTORAT"' in version and 'id="dry-run"' not in version
    assert client.get(f"/plans/{world.plan}/versions/new").status_code == 403
    refused = client.post(f"/plans/versions/{world.version}/apply",
                          data={"csrf_token": signed_in_csrf(client), "mode": "push"}, follow_redirects=False)
    assert refused.status_code == 403

    _as(client, session, Role.OPERATOR)
    version = client.get(f"/plans/versions/{world.version}").text
    assert 'id="dry-run"' in version
    # the week grid shows Σ CIR = 20 + 10 + 50 Mbps at every hour
    assert version.count('title="80 Mbps"') == 7 * 24


def _rows(**rows: tuple[str, str, str, str, str]) -> dict[str, str]:
    """Form fields for allocation rows: name → (agency id or "pool", target, cir, mir, priority)."""
    data = {"rows": str(len(rows)), "note": "uji"}
    for n, (name, (agency, target, cir, mir, priority)) in enumerate(rows.items()):
        data |= {f"name-{n}": name, f"target-{n}": target, f"cir_mbps-{n}": cir, f"mir_mbps-{n}": mir,
                 f"priority-{n}": priority}
        data[f"is_hotspot_pool-{n}" if agency == "pool" else f"agency_id-{n}"] = "on" if agency == "pool" else agency
    return data


def test_new_version_form_shows_each_broken_rule_next_to_its_field(client: TestClient, session: Session,
                                                                   world: World) -> None:
    _as(client, session, Role.OPERATOR)
    form = client.get(f"/plans/{world.plan}/versions/new")
    assert form.status_code == 200 and 'value="DUKCAPIL"' in form.text  # a copy of the active version
    csrf = signed_in_csrf(client)
    busy, idle = str(world.agency_busy), str(world.agency_idle)
    broken = client.post(f"/plans/{world.plan}/versions/new", data={"csrf_token": csrf, **_rows(
        DUKCAPIL=(busy, "10.20.8.0/24", "40", "30", "4"),  # CIR above MIR
        INSPEKTORAT=(idle, "10.20.10.0/33", "10", "10", "8"),  # not a network
        HOTSPOT=("pool", "10.30.0.0/16", "650", "700", "6"))})
    assert broken.status_code == 422
    html = broken.text
    dukcapil = html[html.index('data-row="0"'):html.index('data-row="1"')]
    assert "kecepatan terjamin (CIR) 40 Mbps melebihi batas atasnya (MIR) 30 Mbps" in dukcapil  # in Indonesian
    inspektorat = html[html.index('data-row="1"'):html.index('data-row="2"')]
    assert 'class="error"' in inspektorat
    assert session.scalar(select(PlanVersion).where(PlanVersion.number == 2)) is None

    too_much = client.post(f"/plans/{world.plan}/versions/new", data={"csrf_token": csrf, **_rows(
        DUKCAPIL=(busy, "10.20.8.0/24", "300", "300", "4"),
        INSPEKTORAT=(idle, "10.20.10.0/24", "10", "10", "8"),
        HOTSPOT=("pool", "10.30.0.0/16", "400", "600", "6"))})
    assert too_much.status_code == 422
    total = too_much.text[too_much.text.index('id="cir-sum"'):]
    assert "(CIR) 710 Mbps pada" in total[:total.index("</td>")] and "kapasitas rencana 700 Mbps" in total

    saved = client.post(f"/plans/{world.plan}/versions/new", data={"csrf_token": csrf, **_rows(
        DUKCAPIL=(busy, "10.20.8.0/24", "30", "40", "4"),
        INSPEKTORAT=(idle, "10.20.10.0/24", "5", "10", "8"),
        HOTSPOT=("pool", "10.30.0.0/16", "50", "100", "6"))}, follow_redirects=False)
    assert saved.status_code == 303
    draft = session.scalar(select(PlanVersion).where(PlanVersion.number == 2))
    assert draft is not None and draft.status == PlanStatus.DRAFT
    assert saved.headers["location"] == f"/plans/versions/{draft.id}"
    page = client.get(saved.headers["location"]).text
    assert "~ DUKCAPIL: CIR 20 → 30, MIR 30 → 40" in page.replace("&gt;", ">")


@pytest.fixture
def core_router(session: Session, world: World) -> Iterator[SimulatorHandle]:
    """The world's core router answered by a RouterOS simulator on a loopback address."""
    sims = SimulatorThread()
    try:
        handle = sims.start("mikrotik_routeros", password=SIM_PASSWORD, host="127.0.0.31", hostname="core-sampit")
        devices.update_device(session, SYSTEM, world.core, DeviceUpdate(
            mgmt_address=handle.host, ssh_port=handle.port, ssh_username="admin",
            ssh_password=SecretStr(SIM_PASSWORD)))
        session.commit()
        yield handle
    finally:
        sims.stop()


def test_operator_dry_runs_a_version_sees_the_queue_diff_then_pushes_it(
        client: TestClient, session: Session, world: World, runner: TaskRunner,
        core_router: SimulatorHandle) -> None:
    _as(client, session, Role.OPERATOR)
    csrf = signed_in_csrf(client)
    before = client.get(f"/plans/versions/{world.version}").text
    assert 'id="push"' not in before  # no push before a dry run
    started = client.post(f"/plans/versions/{world.version}/apply", data={"csrf_token": csrf, "mode": "dry_run"},
                          follow_redirects=False)
    assert started.status_code == 303
    runner.wait()
    page = client.get(f"/plans/versions/{world.version}").text
    assert "Uji coba dimulai" in page  # the flash
    job = page[page.index('<section id="job"'):page.index("</section>", page.index('<section id="job"'))]
    assert 'id="job-status">selesai<' in job, job
    diff = page[page.index('class="diff queue-diff"'):]
    assert "/queue simple add name=DUKCAPIL target=10.20.8.0/24" in diff
    assert "max-limit=30M/30M limit-at=20M/20M" in diff
    assert 'id="push"' in page

    pushing = client.post(f"/plans/versions/{world.version}/apply", data={"csrf_token": csrf, "mode": "push"})
    assert "setelah operator lain atau admin menyetujuinya" in pushing.text
    runner.wait()
    session.expire_all()
    version = session.get(PlanVersion, world.version)
    assert version is not None and version.status == PlanStatus.ACTIVE and version.activated_by == "operator-user"
    assert [name for name, _ in runner.sent] == ["provisioning.run_job"], "the push waits for approval"
    assert version.provision_job_id is not None
    checker = Actor(user_id=None, username="admin-user", role=Role.ADMIN)  # maker-checker: not the operator
    jobs.approve_job(session, checker, version.provision_job_id)
    jobs.queue_job(session, checker, version.provision_job_id)
    session.commit()
    runner(jobs.RUN_JOB_TASK, kwargs={"job_id": version.provision_job_id})
    runner.wait()
    pushed = client.get(f"/plans/versions/{world.version}/job").text
    assert "Kirim" in pushed and 'id="job-status">selesai<' in pushed


# --- requests ----------------------------------------------------------------------------------


def test_agency_viewer_asks_for_more_and_diskominfo_decides_but_never_its_own_request(
        client: TestClient, session: Session, world: World) -> None:
    _as(client, session, Role.AGENCY_VIEWER, world)
    page = client.get("/requests").text
    assert 'id="request-form"' in page and 'name="agency_id"' not in page  # always the viewer's own office
    assert "CIR 20 / MIR 30 Mbps" in page
    csrf = signed_in_csrf(client)
    short = client.post("/requests", data={"csrf_token": csrf, "plan_id": str(world.plan), "cir_mbps": "30",
                                           "mir_mbps": "40", "reason": "x"})
    assert short.status_code == 422 and "Terlalu pendek" in short.text
    sent = client.post("/requests", data={"csrf_token": csrf, "plan_id": str(world.plan), "cir_mbps": "30",
                                          "mir_mbps": "40", "reason": "antrean unggah e-KTP tiap pagi"},
                       follow_redirects=False)
    assert sent.status_code == 303
    listing = client.get("/requests").text
    assert "antrean unggah e-KTP" in listing and "lebih" in listing and 'id="approve-' not in listing

    _as(client, session, Role.FINANCE)
    assert "antrean unggah e-KTP" in client.get("/requests").text
    refused = client.post("/requests/1/approve", data={"csrf_token": signed_in_csrf(client)},
                          follow_redirects=False)
    assert refused.status_code == 403

    _as(client, session, Role.OPERATOR, username="ops-a")
    request_id = session.scalar(select(BandwidthRequest.id))
    approved = client.post(f"/requests/{request_id}/approve", data={"csrf_token": signed_in_csrf(client),
                                                                    "note": "ok"}, follow_redirects=False)
    assert approved.status_code == 303 and approved.headers["location"].startswith("/plans/versions/")
    session.expire_all()
    row = session.get(BandwidthRequest, request_id)
    assert row is not None and row.status == RequestStatus.APPROVED and row.decided_by == "ops-a"

    # an operator's own request needs another person
    own = client.post("/requests", data={"csrf_token": signed_in_csrf(client), "plan_id": str(world.plan),
                                         "agency_id": str(world.agency_idle), "cir_mbps": "5", "mir_mbps": "10",
                                         "reason": "jarang dipakai"}, follow_redirects=False)
    assert own.status_code == 303
    own_id = session.scalar(select(BandwidthRequest.id).where(BandwidthRequest.requested_by == "ops-a"))
    refused_own = client.post(f"/requests/{own_id}/reject", data={"csrf_token": signed_in_csrf(client),
                                                                  "note": "tidak"})
    assert "orang lain yang harus menyetujui" in refused_own.text
    _as(client, session, Role.OPERATOR, username="ops-b")
    no_reason = client.post(f"/requests/{own_id}/reject", data={"csrf_token": signed_in_csrf(client), "note": ""})
    assert "Tuliskan alasan penolakan" in no_reason.text
    client.post(f"/requests/{own_id}/reject", data={"csrf_token": signed_in_csrf(client), "note": "masih cukup"})
    session.expire_all()
    rejected = session.get(BandwidthRequest, own_id)
    assert rejected is not None and rejected.status == RequestStatus.REJECTED and rejected.decided_by == "ops-b"


def test_bar_chart_scales_bars_on_one_axis_and_places_threshold_guides() -> None:
    chart = bar_chart([("telkom", [25.0, 50.0]), ("iconplus", [None, 100.0])], [("avg", "avg"), ("p95", "p95")],
                      format_value=lambda v: f"{v:g} %", top=100.0, guides=[(40.0, "right-size"), (150.0, "off")])
    left, _, right, _ = chart.plot
    widths = {(b.series, b.label): b.width for b in chart.bars}
    assert widths[("p95", "100 %")] == pytest.approx(right - left)
    assert widths[("avg", "25 %")] == pytest.approx((right - left) / 4, abs=0.1)
    assert len(chart.bars) == 3  # a missing value draws no bar
    assert chart.guides == [(pytest.approx(left + 0.4 * (right - left), abs=0.1), "right-size")]
    assert [text for _, text in chart.x_ticks] == ["0 %", "25 %", "50 %", "75 %", "100 %"]
    assert not chart.empty
