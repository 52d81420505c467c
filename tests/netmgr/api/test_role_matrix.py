"""Every /api/v1 route × every role: who is let in, who gets 401/403, and what agency viewers may see.

Routes are read from the app's OpenAPI document, so a new endpoint is covered automatically; one whose
path matches no rule below fails the test until someone decides who may call it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient

from netmgr.models.enums import Role
from tests.netmgr.api.conftest import World

API = "/api/v1"
MISSING_ID = 987654
EVERYONE = frozenset(Role)
STAFF = EVERYONE - {Role.LEADERSHIP}
"""Every role but the Bupati's office, which sees only its dashboard (no inventory, reports or citizens' data)."""
WRITERS = frozenset({Role.ADMIN, Role.OPERATOR})
ADMINS = frozenset({Role.ADMIN})
CONFIG_READERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.FINANCE})
INVENTORY = ("/agencies", "/sites", "/devices", "/interfaces", "/uplinks", "/inventory")


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[Role]
    anonymous_ok: bool = False
    edge_token_only: bool = False
    """Only an edge collector's own token opens the route: every person's token is refused with 401."""


def rule_for(method: str, path: str) -> Rule | None:
    """Who may call ``method path``; None for a route nobody has classified yet."""
    rest = path.removeprefix(API)
    if (method, rest) == ("POST", "/auth/login"):
        return Rule(EVERYONE, anonymous_ok=True)
    if rest.startswith("/auth/"):
        return Rule(EVERYONE)  # one's own session and tokens
    if rest.startswith(("/users", "/audit")):
        return Rule(ADMINS)
    if rest.startswith(INVENTORY):
        return Rule(STAFF if method == "GET" else WRITERS)
    if rest.startswith("/alert-transports"):
        return Rule(WRITERS)  # secrets.write: transports carry SMTP passwords and bot tokens
    if rest.startswith(("/alerts", "/monitoring")):
        return Rule(STAFF if method == "GET" else WRITERS)  # acknowledging needs alerts.ack
    if method == "GET" and rest in ("/reports/budget", "/reports/contracts", "/reports/sla"):
        return Rule(frozenset({Role.ADMIN, Role.OPERATOR, Role.FINANCE}))  # regency-wide: not agency viewers
    if rest.startswith("/reports"):
        return Rule(STAFF if method == "GET" else frozenset({Role.ADMIN, Role.FINANCE}))  # close months, pagu
    if rest.startswith("/plans"):
        return Rule(STAFF if method == "GET" else WRITERS)
    if rest == "/bandwidth-requests" and method == "POST":
        return Rule(frozenset({Role.ADMIN, Role.OPERATOR, Role.AGENCY_VIEWER}))
    if rest.startswith("/bandwidth-requests"):
        return Rule(STAFF if method == "GET" else WRITERS)  # approving: maker-checker among writers
    if rest.startswith("/provisioning"):
        # Configs and jobs span every agency: finance reads, agency viewers get 403, operators change. A
        # template preview renders from a device's inventory: operators and admins only.
        return Rule(CONFIG_READERS if method == "GET" else WRITERS)
    if rest == "/edge":
        return Rule(WRITERS)  # the list of edge collectors names every site
    if rest.startswith("/edge/"):
        return Rule(frozenset(), edge_token_only=True)
    if rest.startswith(("/hotspots", "/hotspot-policies", "/hotspot-sessions", "/voucher-batches")):
        return Rule(WRITERS)  # portal.manage: citizens' sessions and vouchers span every agency
    return None


def _ids(world: World, role: Role | None, method: str) -> dict[str, object]:
    viewer = role == Role.AGENCY_VIEWER
    ids: dict[str, object] = {
        # An agency viewer is pointed at the other agency's rows: they must stay invisible.
        "agency_id": world.other_agency if viewer else world.own_agency,
        "site_id": world.other_site if viewer else world.own_site,
        "device_id": world.other_device if viewer else world.own_device,
        "interface_id": world.other_interface if viewer else world.own_interface,
        "uplink_id": world.uplink,
        "alert_id": world.other_alert if viewer else world.own_alert,
        "user_id": world.user_ids[Role.OPERATOR],
        "token_id": MISSING_ID,
        "plan_id": MISSING_ID,
        "version_id": MISSING_ID,
        "request_id": MISSING_ID,
        "kind": "devices",
        "job_id": world.job,
        "template_id": world.template,
        "backup_id": world.backup,
        "platform": "mikrotik_routeros",
        "purpose": "snmp",
        "hotspot_id": world.hotspot,
        "policy_id": world.policy,
        "batch_id": world.batch,
        "session_id": MISSING_ID,
        "transport_id": world.transport,
        "route_id": MISSING_ID,
    }
    if method == "DELETE":  # allowed deletes must not eat the fixtures the next requests use
        ids.update({k: MISSING_ID for k in ids if k.endswith("_id")})
    return ids


def _expected_hidden(role: Role | None, method: str, path: str) -> bool:
    """True when an agency viewer's GET must answer 404: another agency's row, or any uplink contract."""
    if role != Role.AGENCY_VIEWER or method != "GET":
        return False
    return bool(re.search(r"\{(agency_id|site_id|device_id|interface_id|uplink_id|alert_id)\}", path))


def _routes(client: TestClient) -> list[tuple[str, str]]:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    out = []
    for path, operations in spec["paths"].items():
        if path.startswith(API + "/"):
            out.extend((method.upper(), path) for method in operations if method in {"get", "post", "put",
                                                                                      "patch", "delete"})
    return sorted(out)


def test_every_api_route_allows_and_denies_each_role_as_the_matrix_says(client: TestClient, world: World) -> None:
    routes = _routes(client)
    assert ("GET", f"{API}/devices") in routes and ("POST", f"{API}/auth/login") in routes
    unclassified = [f"{m} {p}" for m, p in routes if rule_for(m, p) is None]
    assert not unclassified, f"add these routes to the role matrix in {__name__}: {unclassified}"

    failures: list[str] = []
    for method, path in routes:
        rule = rule_for(method, path)
        assert rule is not None
        for role in (None, *Role):
            url = path.format(**_ids(world, role, method))
            body = {} if method in {"POST", "PUT", "PATCH"} else None
            response = client.request(method, url, json=body, headers=world.headers(role))
            got = response.status_code
            who = role.value if role else "anonymous"
            if rule.edge_token_only:
                ok = got == 401
                want = "401 (an edge collector's token only)"
            elif role is None and not rule.anonymous_ok:
                ok = got == 401
                want = "401"
            elif role is not None and role not in rule.allowed:
                ok = got == 403
                want = "403"
            elif _expected_hidden(role, method, path):
                ok = got == 404
                want = "404 (another agency's row)"
            elif method == "GET":
                ok = got in (200, 422)
                want = "200"
            else:
                ok = got not in (401, 403) and got < 500
                want = "not 401/403/5xx"
            if not ok:
                failures.append(f"{who:14} {method:6} {url}: got {got}, want {want}: {response.text[:160]}")
    assert not failures, "\n" + "\n".join(failures)


def test_agency_viewer_lists_only_its_own_agencys_rows(client: TestClient, world: World) -> None:
    headers = world.headers(Role.AGENCY_VIEWER)
    sites = client.get(f"{API}/sites", headers=headers).json()
    devices = client.get(f"{API}/devices", headers=headers).json()
    agencies = client.get(f"{API}/agencies", headers=headers).json()
    uplinks = client.get(f"{API}/uplinks", headers=headers).json()
    assert [s["id"] for s in sites["items"]] == [world.own_site] and sites["total"] == 1
    assert [d["id"] for d in devices["items"]] == [world.own_device] and devices["total"] == 1
    assert [a["id"] for a in agencies["items"]] == [world.own_agency]
    assert uplinks == {"items": [], "total": 0, "offset": 0, "limit": 50}
    # Asking for the other agency by filter does not widen the scope.
    other = client.get(f"{API}/devices", params={"agency_id": world.other_agency}, headers=headers).json()
    assert other["items"] == [] and other["total"] == 0


def test_finance_reads_the_whole_inventory_but_cannot_change_it(client: TestClient, world: World) -> None:
    headers = world.headers(Role.FINANCE)
    assert client.get(f"{API}/devices", headers=headers).json()["total"] == 2
    assert client.get(f"{API}/uplinks/{world.uplink}", headers=headers).status_code == 200
    valid_site = {"name": "Taman Kota Sampit", "kind": "public_hotspot"}
    response = client.post(f"{API}/sites", json=valid_site, headers=headers)
    assert response.status_code == 403
    assert "finance" in response.json()["detail"] and "inventory.write" in response.json()["detail"]
    assert client.get(f"{API}/sites", params={"q": "Taman"}, headers=headers).json()["total"] == 0
