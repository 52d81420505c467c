"""Schemathesis over the app's whole OpenAPI, in process: no request may end in a server error, and every
answer must match the schema (status code, content type, body), signed in as an admin and as an agency viewer.

The operations are read from ``/api/openapi.json`` at run time, so routes added later are fuzzed too. The run is
bounded (examples per operation, a fixed seed, derandomized, no shrinking) so it stays within a few minutes of CI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup
from sqlalchemy.orm import Session, sessionmaker

from netmgr.models import ApiToken, User
from netmgr.models.enums import Role
from tests.netmgr.api.conftest import World

load_all_checks()
CHECK_NAMES = ("not_a_server_error", "response_schema_conformance", "status_code_conformance",
               "content_type_conformance")
CHECKS_RUN = [CHECKS.get_one(name) for name in CHECK_NAMES]


@dataclass
class Findings:
    """Failures per operation (the first few of each, so one cause does not hide the others)."""

    cases: int = 0
    failures: dict[str, list[str]] = field(default_factory=dict)

    def add(self, label: str, message: str) -> None:
        found = self.failures.setdefault(label, [])
        if len(found) < 3:
            found.append(message)

    def report(self) -> str:
        found = (f"{label}:\n" + "\n---\n".join(msgs) for label, msgs in sorted(self.failures.items()))
        return f"{self.cases} cases\n\n" + "\n\n".join(found)


class Recorder:
    """The app's task dispatch: keeps the tasks instead of sending them to a broker."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, name: str, *, kwargs: dict[str, Any]) -> object:
        self.sent.append((name, kwargs))
        return None


def _keep_access(factory: sessionmaker[Session], world: World, role: Role) -> None:
    """Undo what a fuzzed request may have done to the fuzzing user itself (deactivated, demoted, token revoked)."""
    with factory() as session:
        session.execute(sa.update(User).where(User.id == world.user_ids[role])
                        .values(is_active=True, role=role,
                                agency_id=world.own_agency if role == Role.AGENCY_VIEWER else None))
        session.execute(sa.update(ApiToken).where(ApiToken.user_id == world.user_ids[role])
                        .values(revoked=False, expires_at=None))
        session.commit()


def _fuzz_operation(operation: Any, mode: GenerationMode, max_examples: int, findings: Findings, *,
                    after: Callable[[], None], headers: dict[str, str]) -> None:
    @hypothesis.settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        findings.cases += 1
        try:
            case.validate_response(case.call(headers=headers), checks=CHECKS_RUN)
        except (Exception, FailureGroup) as exc:  # failed checks, or an exception the app let through
            findings.add(operation.label, f"{case.as_curl_command(headers=headers)}\n{type(exc).__name__}: {exc}")
        if case.method.upper() != "GET":
            after()

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        if mode != GenerationMode.NEGATIVE:
            raise  # an operation without inputs has no invalid request to make; any other has


def fuzz(client: TestClient, world: World, factory: sessionmaker[Session], role: Role, *,
         max_examples: int, modes: tuple[GenerationMode, ...]) -> Findings:
    client.app.state.task_dispatch = Recorder()  # type: ignore[attr-defined]
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", client.app)
    headers = world.headers(role)
    findings = Findings()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50, "the OpenAPI lost its operations"
    for operation in operations:
        for mode in modes:
            _fuzz_operation(operation, mode, max_examples, findings,
                            after=lambda: _keep_access(factory, world, role), headers=headers)
    return findings


@pytest.mark.timeout(900)
def test_fuzzing_the_api_as_admin_finds_no_server_error_and_no_schema_violation(
        client: TestClient, world: World, session_factory: sessionmaker[Session]) -> None:
    findings = fuzz(client, world, session_factory, Role.ADMIN, max_examples=6,
                    modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE))
    assert findings.cases > 800
    assert not findings.failures, findings.report()


@pytest.mark.timeout(600)
def test_fuzzing_the_api_as_an_agency_viewer_finds_no_server_error_and_no_schema_violation(
        client: TestClient, world: World, session_factory: sessionmaker[Session]) -> None:
    findings = fuzz(client, world, session_factory, Role.AGENCY_VIEWER, max_examples=3,
                    modes=(GenerationMode.POSITIVE,))
    assert findings.cases > 150
    assert not findings.failures, findings.report()


def test_every_operation_documents_the_one_error_body_netmgr_sends(client: TestClient, world: World) -> None:
    spec = client.get("/api/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "403", "404", "422"):
                body = operation["responses"][status]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/ErrorRead"}, (method, path, status)
    invalid = client.get("/api/v1/devices", params={"limit": "many"}, headers=world.headers(Role.ADMIN))
    assert invalid.status_code == 422
    assert isinstance(invalid.json()["detail"], str) and invalid.json()["errors"][0]["field"] == "limit"
