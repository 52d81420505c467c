"""The provisioning "done when" checks on the demo: Kotawaringin Timur seeded as ``netmgr demo`` seeds it, its
MikroTik and Cisco devices answered by SSH simulators on their own management addresses (free port).

A dry run shows exact diffs and changes nothing; a device that refuses a command is rolled back with its
own message while the others carry on; running a finished job again reports no change anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from netmgr.demo import catalog
from netmgr.demo.seed import community_for, seed_demo
from netmgr.demo.simulators.sshsim import SimulatorHandle, SimulatorThread
from netmgr.models import Device
from netmgr.models.enums import Role
from netmgr.models.provisioning import JobPolicy, JobStatus, ResultStatus
from netmgr.security.permissions import Actor
from netmgr.settings import Settings
from provisioning import jobs
from provisioning.connections import DeviceTarget, NetmikoConnector
from provisioning.diff import quiet_diff
from provisioning.drivers import default_drivers
from provisioning.orchestrator import JobOutcome
from tests.servers.process import free_port

MAKER = Actor(user_id=None, username="operator", role=Role.OPERATOR)
CHECKER = Actor(user_id=None, username="operator2", role=Role.OPERATOR)
SNMP_DEVICES = ["core-diskominfo", "sw-core-diskominfo", "dist-dinkes", "gw-taman-kota"]
SNMP_VARS = {"contact": "NOC Diskominfo Kotim", "allowed_from": "10.0.0.0/8"}
HOTSPOT_DEVICES = ["gw-taman-kota", "gw-ikon-jelawat", "dist-disdik"]
HOTSPOT_VARS = {"ssid": "Sampit Free WiFi", "vlan_id": 20, "interface": "ether2", "gateway": "10.20.0.1/22",
                "radius_server": "10.0.0.2", "radius_secret": "Radius-Kotim-2025"}


@dataclass
class Demo:
    sims: dict[str, SimulatorHandle]
    devices: dict[str, Device]

    def target(self, name: str) -> DeviceTarget:
        sim = self.sims[name]
        return DeviceTarget(0, name, sim.platform, sim.host, sim.port, catalog.DEMO_SSH_USERNAME,
                            catalog.DEMO_SSH_PASSWORD, catalog.DEMO_SSH_PASSWORD)

    def running(self, name: str) -> str:
        driver = default_drivers().get(self.sims[name].platform)
        with NetmikoConnector()(self.target(name), driver.netmiko_device_type) as conn:
            return driver.get_running_config(conn)


@pytest.fixture
def demo(session: Session) -> Iterator[Demo]:
    port = free_port()
    wanted = [d for d in catalog.DEVICES if d.name in {*SNMP_DEVICES, *HOTSPOT_DEVICES}]
    assert all(catalog.ssh_capable(d) for d in wanted)
    ssh_ports = {d.name: port for d in catalog.DEVICES if catalog.ssh_capable(d)}
    seed_demo(session, snmp_port=free_port(), ssh_ports=ssh_ports, timezone="Asia/Jakarta")
    session.commit()
    runner = SimulatorThread()
    try:
        sims = {d.name: runner.start(d.platform.value, host=d.address, port=port, username=catalog.DEMO_SSH_USERNAME,
                                     password=catalog.DEMO_SSH_PASSWORD, hostname=d.name) for d in wanted}
        devices = {d.name: d for d in session.scalars(select(Device).where(Device.name.in_(sims)))}
        yield Demo(sims, devices)
    finally:
        runner.stop()


def _job(session: Session, purpose: str, names: list[str], variables: dict[str, object], *, dry_run: bool,
         policy: JobPolicy = JobPolicy.CONTINUE) -> int:
    job = jobs.create_job(session, MAKER, jobs.JobCreate(
        purpose=purpose, targets=jobs.Targets(devices=names), variables=variables, dry_run=dry_run, policy=policy,
        concurrency=4))
    if not dry_run:
        jobs.approve_job(session, CHECKER, job.id)
    session.commit()
    return job.id


def _run(factory: sessionmaker[Session], settings: Settings, job_id: int) -> JobOutcome:
    return jobs.run_job(factory, MAKER, job_id, drivers=default_drivers(), connect=NetmikoConnector(),
                        settings=settings, jitter_s=0.2)


def _added(diff: str) -> list[str]:
    return [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]


def test_dry_run_on_the_demo_shows_exact_diffs_per_device_and_changes_nothing(
        demo: Demo, session: Session, session_factory: sessionmaker[Session], settings: Settings) -> None:
    before = {name: demo.running(name) for name in SNMP_DEVICES}
    outcome = _run(session_factory, settings, _job(session, "snmp", SNMP_DEVICES, SNMP_VARS, dry_run=True))
    assert outcome.status == JobStatus.SUCCEEDED
    by_name = {r.device_name: r for r in outcome.results}
    assert sorted(by_name) == sorted(SNMP_DEVICES) and {r.status for r in outcome.results} == {ResultStatus.DRY_RUN}
    assert _added(by_name["core-diskominfo"].diff) == [
        '/snmp set enabled=yes contact="NOC Diskominfo Kotim" location="Ruang Server Diskominfo"',
        "/snmp community add name=******** addresses=10.0.0.0/8",
    ], by_name["core-diskominfo"].diff
    for name in ("sw-core-diskominfo", "dist-dinkes"):
        site = demo.devices[name].site.name
        assert _added(by_name[name].diff) == ["snmp-server community ******** RO", f"snmp-server location {site}",
                                              "snmp-server contact NOC Diskominfo Kotim"], name
    for name in SNMP_DEVICES:
        community = community_for(next(d for d in catalog.DEVICES if d.name == name))
        assert not [line for line in _added(by_name[name].diff) if community in line], "secrets are masked"
        driver = default_drivers().get(demo.sims[name].platform)
        assert quiet_diff(driver, before[name], demo.running(name)) == "", f"{name} was changed by a dry run"


def test_a_device_that_refuses_is_rolled_back_with_its_message_and_the_others_carry_on(
        demo: Demo, session: Session, session_factory: sessionmaker[Session], settings: Settings) -> None:
    refusing = "gw-ikon-jelawat"
    driver = default_drivers().get("mikrotik_routeros")
    with NetmikoConnector()(demo.target(refusing), "mikrotik_routeros") as conn:
        assert driver.push(conn, ["/ip address add address=10.20.0.1/22 interface=ether3"]).ok
    before = demo.running(refusing)

    outcome = _run(session_factory, settings, _job(session, "hotspot", HOTSPOT_DEVICES, HOTSPOT_VARS,
                                                  dry_run=False))
    by_name = {r.device_name: r for r in outcome.results}
    assert outcome.status == JobStatus.PARTLY_DONE, "one device refused, the others carried on"
    assert by_name[refusing].status == ResultStatus.ROLLED_BACK, by_name[refusing].log
    error = by_name[refusing].error or ""
    assert "failure: already have such address" in error and "rolled back to the pre-push config" in error
    assert "WARNING" not in error
    assert quiet_diff(driver, before, demo.running(refusing)) == "", "the refusing device is back where it was"
    for name in ("gw-taman-kota", "dist-disdik"):
        assert by_name[name].status == ResultStatus.CHANGED, by_name[name].log
        assert "/ip hotspot add" in demo.running(name) and "name=hs-20" in demo.running(name)


def test_running_a_finished_job_again_reports_no_change_on_every_device(
        demo: Demo, session: Session, session_factory: sessionmaker[Session], settings: Settings) -> None:
    first = _run(session_factory, settings, _job(session, "snmp", SNMP_DEVICES, SNMP_VARS, dry_run=False))
    assert first.status == JobStatus.SUCCEEDED and {r.status for r in first.results} == {ResultStatus.CHANGED}
    with pytest.raises(jobs.ValidationFailed, match="already succeeded"):
        _run(session_factory, settings, first.job_id)

    again = jobs.copy_job(session, CHECKER, first.job_id, dry_run=False)
    jobs.approve_job(session, MAKER, again.id)
    session.commit()
    rerun = _run(session_factory, settings, again.id)
    assert rerun.status == JobStatus.SUCCEEDED
    assert [(r.device_name, r.status) for r in rerun.results] == [(n, ResultStatus.NO_CHANGE) for n in
                                                                  sorted(SNMP_DEVICES)]
