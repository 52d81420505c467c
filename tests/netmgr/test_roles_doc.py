"""docs/operations.md's table of roles says exactly what netmgr.security.permissions enforces."""

from __future__ import annotations

import re
from pathlib import Path

from netmgr.models.enums import Role
from netmgr.security.permissions import ROLE_PERMISSIONS, Permission

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_the_documented_role_table_is_the_enforced_one() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    header = re.search(r"^\| permission \| what it allows \|(.*)\|$", text, re.MULTILINE)
    assert header is not None, "docs/operations.md lost its role table"
    roles = [Role(cell.strip()) for cell in header.group(1).split("|")]
    assert set(roles) == set(Role), "every role has a column"
    documented: dict[Role, set[Permission]] = {role: set() for role in roles}
    rows = re.findall(r"^\| `([a-z.]+)` \|[^|]*\|(.*)\|$", text, re.MULTILINE)
    assert {Permission(name) for name, _ in rows} == set(Permission), "every permission has a row"
    for name, cells in rows:
        for role, cell in zip(roles, cells.split("|"), strict=True):
            if cell.strip() == "yes":
                documented[role].add(Permission(name))
    assert documented == {role: set(ROLE_PERMISSIONS[role]) for role in roles}
