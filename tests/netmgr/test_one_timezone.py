"""One time zone: only the settings know the default (WIB); every library function is told the installation's zone.

A parameter or field named like a time zone with a default would let a caller forget ``settings.timezone`` and
quietly cut a WITA or WIT regency's days at Jakarta's midnight; these tests read the source to find any.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tests.sources import parsed_modules

ZONE_NAMES = {"tz", "timezone", "zone", "time_zone", "tz_name", "report_timezone"}
# Where the default lives: the settings object and the module that defines it.
HOMES = {"netmgr/settings.py", "netmgr/localtime.py"}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    yield from parsed_modules()


def test_default_timezone_is_used_only_by_the_settings() -> None:
    users = sorted({where for where, tree in _modules() for node in ast.walk(tree)
                    if isinstance(node, ast.Name | ast.Attribute | ast.alias)
                    and "DEFAULT_TIMEZONE" in (getattr(node, "id", None), getattr(node, "attr", None),
                                               getattr(node, "name", None))})
    assert set(users) <= HOMES, f"a silent WIB default outside the settings: {sorted(set(users) - HOMES)}"


def _is_none(node: ast.expr) -> bool:
    """``None`` as a default means "not given" (e.g. a device clock that follows the installation), not a zone."""
    return isinstance(node, ast.Constant) and node.value is None


def test_no_function_or_dataclass_defaults_its_time_zone() -> None:
    found: list[str] = []
    for where, tree in _modules():
        if where in HOMES:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = node.args
                positional = [*args.posonlyargs, *args.args]
                with_defaults = list(zip(positional[len(positional) - len(args.defaults):], args.defaults,
                                         strict=True))
                with_defaults += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
                                  if d is not None]
                found += [f"{where}:{node.lineno} {node.name}({a.arg}=…)" for a, d in with_defaults
                          if a.arg in ZONE_NAMES and not _is_none(d)]
            elif isinstance(node, ast.ClassDef):
                found += [f"{where}:{item.lineno} {node.name}.{item.target.id}" for item in node.body
                          if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                          and item.target.id in ZONE_NAMES and item.value is not None and not _is_none(item.value)]
    assert not found, f"time zones with a default (pass settings.timezone instead): {found}"
