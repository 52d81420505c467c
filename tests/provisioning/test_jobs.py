"""Jobs end to end on SQLite and PostgreSQL: targets, canary, policy, progress, backups, drift, audit, locks."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from netmgr.demo.simulators.sshsim import SimulatorHandle, SimulatorThread
from netmgr.errors import ValidationFailed
from netmgr.models import AuditLog, ConfigBackup, ConfigText, Device, DeviceLock, ProvisionJob
from netmgr.models.enums import DeviceRole, Platform
from netmgr.models.provisioning import BackupSource, JobPolicy, JobStatus, ResultStatus
from netmgr.security.permissions import SYSTEM
from netmgr.settings import Settings
from provisioning import backups, job_store, locks
from provisioning.connections import NetmikoConnector
from provisioning.drivers import MikrotikRouterosDriver, default_drivers
from provisioning.jobs import (
    JobCreate,
    Targets,
    approve_job,
    cancel_job,
    create_job,
    get_job,
    prepare_work,
    preview_render,
    run_job,
)
from provisioning.orchestrator import execute_job
from provisioning.runner import ProvisionResult
from tests import factories

PASSWORD = "Sim-pass-1"
HOTSPOT = {"ssid": "Sampit Free WiFi", "vlan_id": 20, "interface": "ether2", "gateway": "10.20.0.1/22",
           "radius_server": "10.0.0.2", "radius_secret": "rad-s3cret-xyz"}


@pytest.fixture
def fleet() -> Iterator[list[SimulatorHandle]]:
    """Three RouterOS APs on 127.0.0.11-13 (distinct management addresses, as in the inventory)."""
    runner = SimulatorThread()
    try:
        yield [runner.start("mikrotik_routeros", password=PASSWORD, host=f"127.0.0.{10 + n}",
                            hostname=f"ap-{n}") for n in (1, 2, 3)]
    finally:
        runner.stop()


@pytest.fixture
def aps(session: Session, fleet: list[SimulatorHandle]) -> list[int]:
    agency = factories.agency(session, code="DISKOMINFO")
    site = factories.site(session, agency_id=agency.id, name="Taman Kota Sampit")
    ids = []
    for n, handle in enumerate(fleet, start=1):
        device = factories.device(session, site_id=site.id, name=f"ap-taman-{n}", mgmt_address=handle.host,
                                  ssh_port=handle.port, ssh_username="admin", ssh_password=PASSWORD,
                                  radius_secret="rad-s3cret-xyz", platform=Platform.MIKROTIK_ROUTEROS,
                                  role=DeviceRole.ACCESS_POINT, tags=["taman"])
        ids.append(device.id)
    return ids


def _job(session: Session, **overrides: object) -> int:
    data = JobCreate.model_validate({"purpose": "hotspot", "targets": {"tags": ["taman"]}, "variables": HOTSPOT,
                                     "dry_run": False, "concurrency": 3, **overrides})
    job = create_job(session, SYSTEM, data)
    if not data.dry_run:
        approve_job(session, SYSTEM, job.id)
    session.commit()
    return job.id


def _run(factory: sessionmaker[Session], settings: Settings, job_id: int) -> list[ResultStatus]:
    outcome = run_job(factory, SYSTEM, job_id, drivers=default_drivers(), connect=NetmikoConnector(),
                      settings=settings, jitter_s=0.2)
    return [r.status for r in outcome.results]


def _occupy_address(handle: SimulatorHandle) -> None:
    """Make the device refuse the hotspot's gateway address (it already sits on another port)."""
    with NetmikoConnector()(_target(handle), "mikrotik_routeros") as conn:
        assert MikrotikRouterosDriver().push(conn, ["/ip address add address=10.20.0.1/22 interface=ether3"]).ok


def _target(handle: SimulatorHandle):  # type: ignore[no-untyped-def]
    from provisioning.connections import DeviceTarget

    return DeviceTarget(0, "sim", "mikrotik_routeros", handle.host, handle.port, "admin", PASSWORD)


def test_dry_run_job_records_a_diff_per_device_and_pushes_nothing(
        session: Session, session_factory: sessionmaker[Session], settings: Settings, aps: list[int]) -> None:
    job_id = _job(session, dry_run=True)
    assert _run(session_factory, settings, job_id) == [ResultStatus.DRY_RUN] * 3
    with session_factory() as s:
        job = get_job(s, SYSTEM, job_id)
        assert job.status == JobStatus.SUCCEEDED and "3 dry_run" in job.summary
        assert all("+/ip hotspot add name=hs-20" in r.diff for r in job.results)
        assert all("rad-s3cret-xyz" not in r.diff for r in job.results)
        assert "rad-s3cret-xyz" not in str(job.variables), "secret variables are stored encrypted"
        assert s.scalar(select(ConfigBackup.id)) is None


def test_one_device_rejects_others_continue_and_rerun_reports_no_change(
        session: Session, session_factory: sessionmaker[Session], settings: Settings, aps: list[int],
        fleet: list[SimulatorHandle]) -> None:
    _occupy_address(fleet[1])
    job_id = _job(session, policy=JobPolicy.CONTINUE)
    assert _run(session_factory, settings, job_id) == [ResultStatus.CHANGED, ResultStatus.ROLLED_BACK,
                                                       ResultStatus.CHANGED]
    with session_factory() as s:
        job = get_job(s, SYSTEM, job_id)
        assert job.status == JobStatus.PARTLY_DONE
        failed = job.results[1]
        assert failed.device_name == "ap-taman-2" and failed.error is not None
        assert "failure: already have such address" in failed.error and "rolled back" in failed.error
        assert all(r.finished_at is not None for r in job.results)
        sources = sorted(str(b.source) for b in s.scalars(select(ConfigBackup)))
        assert sources.count(BackupSource.POST_PUSH) == 2 and sources.count(BackupSource.PRE_PUSH) == 3
        texts = " ".join(s.scalars(select(ConfigText.text)))
        assert "rad-s3cret-xyz" not in texts and "secret=********" in texts
        audits = list(s.scalars(select(AuditLog.summary).where(AuditLog.entity_type.in_(["device",
                                                                                          "provision_job"]))))
        assert any("ap-taman-2 rolled back" in a for a in audits)
        assert any(a.startswith(f"provisioning job {job_id} (hotspot)") for a in audits)

    rerun = _job(session, targets={"devices": ["ap-taman-1", "ap-taman-3"]})
    assert _run(session_factory, settings, rerun) == [ResultStatus.NO_CHANGE] * 2


def test_failed_canary_halts_the_job_before_the_other_devices(
        session: Session, session_factory: sessionmaker[Session], settings: Settings, aps: list[int],
        fleet: list[SimulatorHandle]) -> None:
    _occupy_address(fleet[0])
    job_id = _job(session, canary_size=1, failure_threshold=0.0, policy=JobPolicy.CONTINUE)
    assert _run(session_factory, settings, job_id) == [ResultStatus.ROLLED_BACK, ResultStatus.SKIPPED,
                                                       ResultStatus.SKIPPED]
    with session_factory() as s:
        job = s.get(ProvisionJob, job_id)
        assert job is not None and job.status == JobStatus.HALTED and "canary" in job.summary


def test_drift_shows_devices_changed_behind_netmgrs_back(
        session: Session, session_factory: sessionmaker[Session], settings: Settings, aps: list[int],
        fleet: list[SimulatorHandle]) -> None:
    job_id = _job(session, targets={"devices": ["ap-taman-1"]})
    assert _run(session_factory, settings, job_id) == [ResultStatus.CHANGED]
    drivers, connect = default_drivers(), NetmikoConnector()
    unchanged = backups.take_backup(session, session_factory, SYSTEM, aps[0], drivers=drivers, connect=connect)
    session.commit()
    assert backups.find_drift(session, SYSTEM) == []
    with connect(_target(fleet[0]), "mikrotik_routeros") as conn:
        assert MikrotikRouterosDriver().push(conn, ["/ip dns set servers=9.9.9.9"]).ok
    changed = backups.take_backup(session, session_factory, SYSTEM, aps[0], drivers=drivers, connect=connect,
                                  source=BackupSource.SCHEDULED)
    session.commit()
    drift = backups.find_drift(session, SYSTEM)
    assert [(d.device_name, d.latest.id) for d in drift] == [("ap-taman-1", changed.id)]
    assert "+/ip dns set servers=9.9.9.9" in backups.device_diff(session, SYSTEM, aps[0], tz="Asia/Jakarta")
    assert unchanged.sha256 != changed.sha256
    # the two identical pre/post-push texts are stored once
    assert session.scalar(select(ConfigText).where(ConfigText.sha256 == unchanged.sha256)) is not None


def test_backups_and_drift_mask_the_inventory_secrets_wherever_the_config_repeats_them(
        session: Session, session_factory: sessionmaker[Session], settings: Settings, aps: list[int],
        fleet: list[SimulatorHandle]) -> None:
    job_id = _job(session, targets={"devices": ["ap-taman-1"]})
    assert _run(session_factory, settings, job_id) == [ResultStatus.CHANGED]
    with NetmikoConnector()(_target(fleet[0]), "mikrotik_routeros") as conn:  # a note left behind netmgr's back
        assert MikrotikRouterosDriver().push(
            conn, [f'/ip address add address=10.99.0.1/24 interface=ether3 comment="ssh {PASSWORD}"']).ok
    backups.take_backup(session, session_factory, SYSTEM, aps[0], drivers=default_drivers(),
                        connect=NetmikoConnector(), source=BackupSource.SCHEDULED)
    session.commit()
    assert [d.device_name for d in backups.find_drift(session, SYSTEM)] == ["ap-taman-1"]
    diff = backups.device_diff(session, SYSTEM, aps[0], tz="Asia/Jakarta")
    assert 'comment="ssh ********"' in diff and PASSWORD not in diff
    texts = " ".join(session.scalars(select(ConfigText.text)))
    assert PASSWORD not in texts and "rad-s3cret-xyz" not in texts


def test_template_preview_masks_the_inventory_secrets_a_template_repeats(
        session: Session, settings: Settings) -> None:
    site = factories.site(session, agency_id=factories.agency(session).id)
    device = factories.device(session, site_id=site.id, ssh_password="Prev1ew-ssh-pass")
    body = ('/snmp community add name={{ community | q }} addresses={{ allowed_from }}\n'
            '/system note set note="snmp {{ community }}, ssh Prev1ew-ssh-pass"\n')
    preview = preview_render(session, SYSTEM, device_id=device.id, purpose="snmp",
                             variables={"contact": "NOC", "allowed_from": "10.0.0.0/8"},
                             drivers=default_drivers(), settings=settings, body=body)
    # previews render with placeholders (provisioning.secrets); where a secret is set it reads as the mask
    assert "name=********" in preview.rendered
    assert 'note="snmp <secret:snmp_community>, ssh <secret:ssh_password>"' in preview.rendered
    assert "s3cret-community" not in preview.rendered and "Prev1ew-ssh-pass" not in preview.rendered


def test_a_locked_device_is_not_configured_twice(
        session: Session, session_factory: sessionmaker[Session], settings: Settings, aps: list[int]) -> None:
    assert locks.acquire(session_factory, aps[0], "job:other")
    assert not locks.acquire(session_factory, aps[0], "job:mine")
    job_id = _job(session, targets={"devices": ["ap-taman-1"]}, dry_run=True)
    outcome = run_job(session_factory, SYSTEM, job_id, drivers=default_drivers(), connect=NetmikoConnector(),
                      settings=settings, jitter_s=0)
    assert outcome.results[0].failed and "job:other" in (outcome.results[0].error or "")
    assert locks.holder_of(session_factory, aps[0]) == "job:other", "a busy device's lock is not taken from its holder"
    locks.release(session_factory, aps[0], "job:other")
    assert locks.acquire(session_factory, aps[0], "job:mine")


def test_a_job_takes_over_an_expired_lock_and_frees_every_device_when_done(
        session: Session, session_factory: sessionmaker[Session], settings: Settings, aps: list[int]) -> None:
    assert locks.acquire(session_factory, aps[0], "job:died", ttl_s=-1)  # a worker that died long ago
    job_id = _job(session, dry_run=True)
    assert _run(session_factory, settings, job_id) == [ResultStatus.DRY_RUN] * 3
    with session_factory() as fresh:
        assert fresh.scalars(select(DeviceLock.device_id)).all() == [], "every lock, the expired one too, is gone"


def test_cancelling_a_running_job_skips_the_devices_it_has_not_started(
        session: Session, session_factory: sessionmaker[Session], settings: Settings, aps: list[int]) -> None:
    job_id = _job(session, dry_run=True, concurrency=1)

    def cancel_after_the_first(result: ProvisionResult) -> None:
        with session_factory() as other:
            if get_job(other, SYSTEM, job_id).status != JobStatus.CANCELLED:
                cancel_job(other, SYSTEM, job_id)
                other.commit()

    outcome = run_job(session_factory, SYSTEM, job_id, drivers=default_drivers(), connect=NetmikoConnector(),
                      settings=settings, jitter_s=0, on_progress=cancel_after_the_first)
    assert outcome.status == JobStatus.CANCELLED
    statuses = [r.status for r in outcome.results]
    assert statuses[0] == ResultStatus.DRY_RUN and statuses[-1] == ResultStatus.SKIPPED, statuses
    with session_factory() as fresh:
        assert fresh.scalars(select(DeviceLock.device_id)).all() == []


def test_a_device_deleted_mid_job_does_not_lose_the_other_devices_results(
        session: Session, session_factory: sessionmaker[Session], aps: list[int],
        caplog: pytest.LogCaptureFixture) -> None:
    job_id = _job(session, dry_run=False)
    kept, gone = aps[0], aps[1]
    for device_id in (kept, gone):
        assert job_store.claim(session_factory, job_id, device_id, f"job:{job_id}") is None
    with session_factory() as other:
        other.delete(other.get(Device, gone))
        other.commit()
    config = "/snmp set enabled=yes\n"
    results = [ProvisionResult(d, f"ap-taman-{n}", status=ResultStatus.CHANGED, changed=True, before=config,
                               after=config, log=["pushed"]) for n, d in ((1, kept), (2, gone))]

    job_store.persist(session_factory, SYSTEM, job_id, results, default_drivers(),
                    {kept: "mikrotik_routeros", gone: "mikrotik_routeros"}, f"job:{job_id}")

    assert "storing 2 result(s) together failed" in caplog.text  # the batch failed on the deleted device

    with session_factory() as fresh:
        stored = {r.device_name: r.status for r in get_job(fresh, SYSTEM, job_id).results}
        assert stored["ap-taman-1"] == ResultStatus.CHANGED, stored
        assert fresh.scalar(select(ConfigBackup.id).where(ConfigBackup.device_id == kept)) is not None
        assert fresh.scalars(select(DeviceLock.device_id)).all() == []


def test_a_job_that_changes_devices_needs_approval(
        session: Session, session_factory: sessionmaker[Session], settings: Settings, aps: list[int]) -> None:
    job = create_job(session, SYSTEM, JobCreate(purpose="hotspot", targets=Targets(tags=["taman"]),
                                                variables=HOTSPOT, dry_run=False))
    session.commit()
    with pytest.raises(ValidationFailed, match="not approved"):
        run_job(session_factory, SYSTEM, job.id, drivers=default_drivers(), connect=NetmikoConnector(),
                settings=settings)


def test_bad_variables_and_empty_targets_are_refused_before_anything_runs(
        session: Session, aps: list[int]) -> None:
    with pytest.raises(ValidationFailed, match="vlan_id"):
        create_job(session, SYSTEM, JobCreate(purpose="hotspot", targets=Targets(tags=["taman"]),
                                              variables={**HOTSPOT, "vlan_id": 5000}))
    with pytest.raises(ValidationFailed, match="no device matches"):
        create_job(session, SYSTEM, JobCreate(purpose="hotspot", targets=Targets(sites=["Nowhere"]),
                                              variables=HOTSPOT))


def test_a_job_spread_over_two_processes_runs_each_device_once_and_finishes_after_all(
        session: Session, session_factory: sessionmaker[Session], settings: Settings, aps: list[int]) -> None:
    job_id = _job(session, purpose="snmp", variables={"contact": "NOC Diskominfo"}, canary_size=1)
    dispatched: list[list[int]] = []
    chunks: list[threading.Thread] = []

    def dispatch(device_ids: list[int], sessions: int) -> None:  # stands in for provisioning.run_chunk
        dispatched.append(device_ids)
        chunk = threading.Thread(target=run_job, args=(session_factory, SYSTEM, job_id), kwargs={
            "drivers": default_drivers(), "connect": NetmikoConnector(), "settings": settings,
            "device_ids": device_ids, "sessions": sessions, "jitter_s": 0})
        chunk.start()
        chunks.append(chunk)

    outcome = run_job(session_factory, SYSTEM, job_id, drivers=default_drivers(), connect=NetmikoConnector(),
                      settings=settings, jitter_s=0, dispatch=dispatch, parts=2)
    for chunk in chunks:
        chunk.join()
    assert dispatched == [[aps[1]]]  # after the canary (aps[0]): one chunk sent away, one run here
    assert [r.status for r in outcome.results] == [ResultStatus.CHANGED] * 3
    with session_factory() as check:
        job = get_job(check, SYSTEM, job_id)
        assert job.status == JobStatus.SUCCEEDED and job.summary == "3 changed"
        assert sorted(str(r.status) for r in job.results) == ["changed"] * 3
        provisioned = check.scalars(select(AuditLog.entity_id).where(AuditLog.action == "provision"))
        assert sorted(provisioned) == sorted(str(i) for i in aps)


def test_a_dispatched_chunk_nobody_starts_is_run_by_the_coordinator(
        session: Session, session_factory: sessionmaker[Session], settings: Settings, aps: list[int]) -> None:
    job_id = _job(session, purpose="snmp", variables={"contact": "NOC Diskominfo"})
    with session_factory() as s:
        job = get_job(s, SYSTEM, job_id)
        work = prepare_work(s, job, drivers=default_drivers(), settings=settings)
    lost: list[list[int]] = []
    outcome = execute_job(session_factory, SYSTEM, job_id, work, connect=NetmikoConnector(),
                          drivers=default_drivers(), jitter_s=0, dispatch=lambda ids, n: lost.append(ids),
                          parts=2, chunk_start_timeout_s=0.5)
    assert lost == [[aps[0], aps[1]]]
    assert outcome.status == JobStatus.SUCCEEDED
    assert [r.status for r in outcome.results] == [ResultStatus.CHANGED] * 3


def test_device_whose_platform_has_no_driver_fails_with_the_reason_in_both_languages(
        session: Session, session_factory: sessionmaker[Session], settings: Settings) -> None:
    # Discovery now recognises FortiGate, PAN-OS, OLTs …; provisioning drives none of them and must say so.
    import gettext
    from pathlib import Path

    from provisioning import messages

    site = factories.site(session)
    factories.device(session, site_id=site.id, name="fw-pemkab", platform=Platform.FORTINET, tags=["fw"])
    job_id = _job(session, purpose="snmp", variables={"contact": "NOC"}, targets={"tags": ["fw"]}, dry_run=True)
    with session_factory() as s:
        work = prepare_work(s, get_job(s, SYSTEM, job_id), drivers=default_drivers(), settings=settings)
    assert [(w.driver, w.problem) for w in work] == [
        (None, "no driver for platform fortinet; netmgr configures cisco_ios, linux, mikrotik_routeros")]
    indonesian = gettext.translation("messages", Path(messages.__file__).parent / "locale", languages=["id"])
    assert messages.translate(work[0].problem or "", indonesian.gettext) == (
        "tidak ada driver untuk platform fortinet; netmgr mengonfigurasi cisco_ios, linux, mikrotik_routeros")


def test_a_hotspot_job_with_the_portal_pushes_dhcp_option_114_to_routeros(
        session: Session, session_factory: sessionmaker[Session], settings: Settings, aps: list[int],
        fleet: list[SimulatorHandle]) -> None:
    """RFC 8910: the template's ``/ip dhcp-server option`` lines are accepted by the device and kept."""
    job_id = _job(session, variables={**HOTSPOT, "hotspot_slug": "taman-kota-sampit"},
                  targets={"devices": ["ap-taman-1"]})
    assert _run(session_factory, settings, job_id) == [ResultStatus.CHANGED]
    with NetmikoConnector()(_target(fleet[0]), "mikrotik_routeros") as conn:
        export = conn.send_command("/export terse")
    api = f"{settings.portal.base_url.rstrip('/')}/api/captive/taman-kota-sampit"
    assert f"/ip dhcp-server option add code=114 name=captive-20 value=\"'{api}'\"" in export.splitlines()
    assert any(line.startswith("/ip dhcp-server network add address=10.20.0.0/22 dhcp-option=captive-20")
               for line in export.splitlines())
    assert any(line.startswith("/ip dhcp-server add address-pool=hs-pool-20 disabled=no interface=vlan20-hotspot")
               for line in export.splitlines())
