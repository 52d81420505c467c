"""/api/v1/provisioning against RouterOS simulators and a real database (SQLite and PostgreSQL).

Jobs run through the real ``provisioning.run_job`` task body (see ``api_support.TaskRunner``) while the
test polls ``GET /jobs/{id}`` as the admin UI does.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from netmiko import ConnectHandler

from netmgr.demo.simulators.sshsim import SimulatorHandle
from tests.provisioning.api_support import API, People, TaskRunner, wait_for_job

SNMP_VARS = {"contact": "NOC Diskominfo", "allowed_from": "10.0.0.0/8"}
SNMP_JOB = {"purpose": "snmp", "targets": {"tags": ["taman"]}, "variables": SNMP_VARS, "concurrency": 2}


def _export(handle: SimulatorHandle) -> str:
    conn = ConnectHandler(**handle.netmiko_params())
    try:
        text = str(conn.send_command("/export terse"))
    finally:
        conn.disconnect()
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))  # the header has the time



def test_dry_run_job_shows_every_devices_diff_as_it_runs_and_changes_nothing(
        client: TestClient, people: People, runner: TaskRunner, ap_ids: list[int],
        ap_fleet: list[SimulatorHandle]) -> None:
    before = [_export(h) for h in ap_fleet]
    created = client.post(f"{API}/jobs", json={**SNMP_JOB, "dry_run": True}, headers=people.headers("op1"))
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["status"] == "queued" and [r["status"] for r in job["results"]] == ["pending", "pending"]
    assert runner.sent == [("provisioning.run_job", {"job_id": job["id"]})]

    done = wait_for_job(client, job["id"], people.headers("op1"))
    assert done["status"] == "succeeded" and done["counts"]["dry_run"] == 2
    for result in done["results"]:
        assert result["status"] == "dry_run" and result["error"] is None
        assert "+/snmp set enabled=yes contact=\"NOC Diskominfo\"" in result["diff"]
        assert "k0mun1tas" not in result["diff"], "the SNMP community is masked in diffs"
        assert "dry run: 2 command(s) would be pushed" in result["log"]
    assert [_export(h) for h in ap_fleet] == before, "a dry run must not touch the devices"
    listed = client.get(f"{API}/jobs", headers=people.headers("finance")).json()
    assert listed["total"] == 1 and listed["items"][0]["counts"]["dry_run"] == 2


def test_a_change_needs_another_person_to_approve_then_runs_is_backed_up_and_reruns_as_no_change(
        client: TestClient, people: People, runner: TaskRunner, ap_ids: list[int]) -> None:
    op1, op2 = people.headers("op1"), people.headers("op2")
    job = client.post(f"{API}/jobs", json={**SNMP_JOB, "dry_run": False}, headers=op1).json()
    assert job["status"] == "pending" and job["approved_by"] is None and runner.sent == []

    not_yet = client.post(f"{API}/jobs/{job['id']}/run", headers=op1)
    assert not_yet.status_code == 422 and "not approved" in not_yet.json()["detail"]
    own = client.post(f"{API}/jobs/{job['id']}/approve", headers=op1)
    assert own.status_code == 403 and "maker-checker" in own.json()["detail"]
    approved = client.post(f"{API}/jobs/{job['id']}/approve", headers=op2)
    assert approved.status_code == 200 and approved.json()["approved_by"] == people.names["op2"]

    started = client.post(f"{API}/jobs/{job['id']}/run", headers=op1)
    assert started.status_code == 202 and started.json()["status"] == "queued"
    assert client.post(f"{API}/jobs/{job['id']}/run", headers=op1).status_code == 409, "no double start"
    done = wait_for_job(client, job["id"], op1)
    assert done["status"] == "succeeded" and [r["status"] for r in done["results"]] == ["changed", "changed"]
    assert "pushed 2 command(s), verified and saved" in done["results"][0]["log"]

    history = client.get(f"{API}/devices/{ap_ids[0]}/backups", headers=op1).json()
    assert [b["source"] for b in history["items"]] == ["post_push", "pre_push"]
    diff = client.get(f"{API}/backups/{history['items'][0]['id']}/diff", headers=op1).json()
    assert diff["older_id"] == history["items"][1]["id"] and "+/snmp community add addresses=10.0.0.0/8" in diff["diff"]
    text = client.get(f"{API}/backups/{history['items'][0]['id']}", headers=people.headers("finance")).json()
    assert "/snmp set contact=" in text["text"] and "k0mun1tas" not in text["text"]
    assert client.get(f"{API}/drift", headers=op1).json() == []

    # The same change again: every device already complies.
    again = client.post(f"{API}/jobs/{job['id']}/copy", json={"dry_run": False}, headers=op2).json()
    assert again["approved_by"] is None and again["created_by"] == people.names["op2"]
    client.post(f"{API}/jobs/{again['id']}/approve", headers=op1).raise_for_status()
    client.post(f"{API}/jobs/{again['id']}/run", headers=op2).raise_for_status()
    rerun = wait_for_job(client, again["id"], op2)
    assert [r["status"] for r in rerun["results"]] == ["no_change", "no_change"] and rerun["status"] == "succeeded"


def test_backup_now_and_drift_show_a_device_changed_by_hand(
        client: TestClient, people: People, runner: TaskRunner, ap_ids: list[int],
        ap_fleet: list[SimulatorHandle]) -> None:
    admin = people.headers("admin")
    job = client.post(f"{API}/jobs", json={**SNMP_JOB, "targets": {"devices": ["ap-taman-1"]}, "dry_run": False},
                      headers=admin).json()
    client.post(f"{API}/jobs/{job['id']}/approve", headers=admin).raise_for_status()  # an admin may self-approve
    client.post(f"{API}/jobs/{job['id']}/run", headers=admin).raise_for_status()
    assert wait_for_job(client, job["id"], admin)["results"][0]["status"] == "changed"

    conn = ConnectHandler(**ap_fleet[0].netmiko_params())
    conn.send_config_set(["/snmp set contact=\"someone at the site\""])
    conn.disconnect()
    queued = client.post(f"{API}/devices/{ap_ids[0]}/backups", headers=admin)
    assert queued.status_code == 202 and queued.json()["task"] == "provisioning.backup_device"
    runner.wait()

    drift = client.get(f"{API}/drift", headers=people.headers("finance")).json()
    assert [d["device_name"] for d in drift] == ["ap-taman-1"]
    assert '+/snmp set contact="someone at the site"' in drift[0]["diff"]
    assert client.get(f"{API}/devices/{ap_ids[0]}/backups", headers=admin).json()["items"][0]["source"] == "on_demand"


def test_templates_keep_their_versions_and_preview_renders_with_a_diff_against_the_newest_backup(
        client: TestClient, people: People, runner: TaskRunner, ap_ids: list[int]) -> None:
    op1 = people.headers("op1")
    body = "/snmp set enabled=yes contact={{ contact | q }}\n"
    created = client.post(f"{API}/templates", json={"name": "snmp-noc", "platform": "mikrotik_routeros",
                                                     "purpose": "snmp", "body": body}, headers=op1)
    assert created.status_code == 201, created.text
    template = created.json()
    edited = client.put(f"{API}/templates/{template['id']}", json={"body": body + "/snmp set location=Sampit\n"},
                        headers=people.headers("op2")).json()
    assert edited["version"] == 2 and [v["version"] for v in edited["versions"]] == [1, 2]
    assert edited["versions"][0]["body"] == body and edited["versions"][1]["created_by"] == people.names["op2"]

    preview = {"device_id": ap_ids[0], "purpose": "snmp", "variables": SNMP_VARS, "template_id": template["id"]}
    first = client.post(f"{API}/templates/preview", json=preview, headers=op1).json()
    assert first["rendered"] == '/snmp set enabled=yes contact="NOC Diskominfo"\n/snmp set location=Sampit\n'
    assert first["backup_id"] is None and first["diff"] == ""

    client.post(f"{API}/devices/{ap_ids[0]}/backups", headers=op1).raise_for_status()
    runner.wait()
    second = client.post(f"{API}/templates/preview", json=preview, headers=op1).json()
    assert second["backup_id"] is not None
    assert '+/snmp set enabled=yes contact="NOC Diskominfo"\n+/snmp set location=Sampit' in second["diff"]
    assert " /system identity set name=ap-1" in second["diff"], "the diff is against the device's backup"

    broken = client.post(f"{API}/templates/preview", json={**preview, "template_id": None,
                                                            "body": "/snmp set contact={{ contact | q }\n"},
                         headers=op1)
    assert broken.status_code == 422 and "line 1" in broken.json()["detail"]
    bad_save = client.post(f"{API}/templates", json={"name": "x", "platform": "junos", "purpose": "snmp",
                                                     "body": "x"}, headers=op1)
    assert bad_save.status_code == 422 and "junos" in bad_save.json()["detail"]
    listing = client.get(f"{API}/templates", headers=people.headers("finance")).json()
    assert [t["name"] for t in listing["stored"]] == ["snmp-noc"]
    assert {"platform": "cisco_ios", "purpose": "hotspot",
            "path": "provisioning/templates/cisco_ios/hotspot.j2"} in listing["shipped"]


def test_a_template_line_is_refused_with_its_number_at_save_and_preview_and_never_left_out_of_the_diff(
        client: TestClient, people: People, runner: TaskRunner, ap_ids: list[int]) -> None:
    op1 = people.headers("op1")
    stray = "/snmp set enabled=yes contact={{ contact | q }}\nadd name=netmgr-ro addresses=10.0.0.0/8\n"
    saved = client.post(f"{API}/templates", json={"name": "snmp-stray", "platform": "mikrotik_routeros",
                                                   "purpose": "snmp", "body": stray}, headers=op1)
    assert saved.status_code == 422, saved.text
    assert "line 2: a command outside any menu" in saved.json()["detail"]
    assert "`add name=netmgr-ro addresses=10.0.0.0/8`" in saved.json()["detail"]
    preview = {"device_id": ap_ids[0], "purpose": "snmp", "variables": SNMP_VARS, "body": stray}
    refused = client.post(f"{API}/templates/preview", json=preview, headers=op1)
    assert refused.status_code == 422 and "line 2: a command outside any menu" in refused.json()["detail"]

    client.post(f"{API}/devices/{ap_ids[0]}/backups", headers=op1).raise_for_status()
    runner.wait()
    mistyped = "/snmp set enabled=yes\n/ip address ad address=10.1.1.1/24 interface=ether1\n"
    shown = client.post(f"{API}/templates/preview", json={**preview, "body": mistyped}, headers=op1)
    assert shown.status_code == 200, shown.text
    assert "+/ip address ad address=10.1.1.1/24 interface=ether1" in shown.json()["diff"].splitlines()


def test_cancel_skips_devices_not_started_and_the_job_cannot_start_afterwards(
        client: TestClient, people: People, runner: TaskRunner, ap_ids: list[int]) -> None:
    op1 = people.headers("op1")
    job = client.post(f"{API}/jobs", json={**SNMP_JOB, "dry_run": False}, headers=op1).json()
    cancelled = client.post(f"{API}/jobs/{job['id']}/cancel", headers=people.headers("op2")).json()
    assert cancelled["status"] == "cancelled" and cancelled["done"]
    assert {r["status"] for r in cancelled["results"]} == {"skipped"}
    assert all("cancelled by" in r["error"] for r in cancelled["results"])
    assert client.post(f"{API}/jobs/{job['id']}/approve", headers=people.headers("op2")).status_code == 409
    assert client.post(f"{API}/jobs/{job['id']}/run", headers=op1).status_code == 409
    assert client.post(f"{API}/jobs/{job['id']}/cancel", headers=op1).status_code == 409
    assert runner.sent == []


def test_finance_reads_agency_viewers_are_refused_and_nobody_but_operators_changes_anything(
        client: TestClient, people: People, runner: TaskRunner, ap_ids: list[int]) -> None:
    job = client.post(f"{API}/jobs", json={**SNMP_JOB, "dry_run": False}, headers=people.headers("op1")).json()
    finance, viewer = people.headers("finance"), people.headers("viewer")
    assert client.get(f"{API}/jobs/{job['id']}", headers=finance).status_code == 200
    for method, path in (("POST", "/jobs"), ("POST", f"/jobs/{job['id']}/approve"), ("POST", "/templates"),
                         ("POST", f"/devices/{ap_ids[0]}/backups")):
        assert client.request(method, API + path, json={}, headers=finance).status_code == 403
    for path in ("/jobs", f"/jobs/{job['id']}", "/templates", "/drift", f"/devices/{ap_ids[0]}/backups"):
        refused = client.get(API + path, headers=viewer)
        assert refused.status_code == 403 and "agency" in refused.json()["detail"]
    assert client.get(f"{API}/jobs").status_code == 401
    assert runner.sent == []
