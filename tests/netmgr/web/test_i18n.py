"""UI catalogs are complete and compiled; locale formatting; the navigation registry."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from netmgr.models.enums import Role
from netmgr.security.permissions import Actor, Permission
from netmgr.web import catalogs, i18n, nav

ROOT = Path(__file__).resolve().parents[3]
PO_FILES = sorted(
    path for package in ("netmgr/web", "captive_portal", "provisioning")
    for path in (ROOT / package / "locale").glob("*/LC_MESSAGES/*.po")
)


def messages(catalog: Catalog) -> dict[object, object]:
    """What a reader of the catalog sees: each translated msgid and its msgstr (not the header, which carries
    the compiler's name and version and changes with Babel releases)."""
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_compiled_catalogs_carry_the_messages_of_their_po_files(po: Path) -> None:
    with po.open("rb") as fh:
        source = read_po(fh)
    with po.with_suffix(".mo").open("rb") as fh:
        compiled = read_mo(fh)
    assert messages(compiled) == messages(source), f"{po.with_suffix('.mo')} is stale: compile it (docs/admin-ui.md)"


def test_every_package_has_compiled_catalogs() -> None:
    assert {p.parts[len(ROOT.parts)] for p in PO_FILES} == {"netmgr", "captive_portal", "provisioning"}


def test_every_msgid_in_templates_and_code_has_an_indonesian_translation() -> None:
    used = {m.id for m in catalogs.extract() if m.id}
    indonesian = catalogs.read_catalog("id")
    missing = sorted(msgid for msgid in used if not (indonesian.get(msgid) and indonesian.get(msgid).string))
    assert not missing, f"translate in locale/id/LC_MESSAGES/messages.po (after catalogs update): {missing}"
    fuzzy = sorted(m.id for m in indonesian if m.id and m.fuzzy)
    assert not fuzzy, f"fuzzy translations are not used, review them: {fuzzy}"


def test_rupiah_numbers_and_dates_follow_the_locale() -> None:
    assert i18n.format_rupiah(27_500_000, "id") == "Rp 27.500.000"
    assert i18n.format_rupiah(27_500_000, "en") == "Rp 27,500,000"
    assert i18n.format_number(1234.5, "id") == "1.234,5"
    assert i18n.format_date(date(2026, 3, 1), "id", "Asia/Jakarta") == "1 Mar 2026"
    # 20:05 UTC is already the next day in WIB (UTC+7)
    assert i18n.format_date(datetime(2026, 3, 1, 20, 5, tzinfo=UTC), "id", "Asia/Jakarta") == "2 Mar 2026"


@pytest.mark.parametrize(("tz", "day", "shown"), [("Asia/Jakarta", "31 Jan 2026", "23.00.00 WIB"),
                                                  ("Asia/Makassar", "1 Feb 2026", "00.00.00 WITA"),
                                                  ("Asia/Jayapura", "1 Feb 2026", "01.00.00 WIT")])
def test_shown_times_are_in_the_installations_zone_with_its_label(tz: str, day: str, shown: str) -> None:
    moment = datetime(2026, 1, 31, 16, 0)  # naive: as SQLite returns a stored UTC time
    assert i18n.format_date(moment, "id", tz) == day
    assert i18n.format_datetime(moment, "id", tz) == f"{day} {shown}"


@pytest.mark.parametrize(("query", "cookie", "user", "expected"), [
    (None, None, None, "id"), ("en", "id", "id", "en"), (None, "en", "id", "en"), (None, None, "en", "en"),
    ("xx", None, None, "id"), ("EN", None, None, "en"),
])
def test_language_choice_order(query: str | None, cookie: str | None, user: str | None, expected: str) -> None:
    assert i18n.choose_language(query=query, cookie=cookie, user_language=user, default="id") == expected


def test_nav_registry_refuses_duplicate_keys_and_filters_by_permission() -> None:
    registry = nav.NavRegistry()
    nav.ensure_core_items(registry)
    nav.ensure_core_items(registry)  # idempotent
    with pytest.raises(ValueError, match="already registered"):
        registry.register(nav.NavItem("devices", "Devices", "/devices", Permission.INVENTORY_READ))
    registry.register(nav.NavItem("hotspot", "Hotspot", "/hotspot", Permission.PORTAL_MANAGE, 50,
                                  labels={"id": "Hotspot publik"}))
    finance = [i.key for i in registry.visible_to(Actor(1, "fin", Role.FINANCE))]
    operator = [i.key for i in registry.visible_to(Actor(2, "ops", Role.OPERATOR))]
    assert "hotspot" not in finance and "users" not in finance and "import" not in finance
    assert operator.index("uplinks") < operator.index("hotspot") < operator.index("import")
    item = registry.items()[[i.key for i in registry.items()].index("hotspot")]
    assert item.title(lambda s: s, "id") == "Hotspot publik"
