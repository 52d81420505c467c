"""The project's own Python modules, parsed once per test run, for tests that check a rule by reading the code."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("netmgr", "collectors", "provisioning", "captive_portal")


@cache
def parsed_modules() -> tuple[tuple[str, ast.Module], ...]:
    """(path relative to the repository, syntax tree) of every module of the four packages."""
    out = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            out.append((where, ast.parse(path.read_text(), where)))
    return tuple(out)
