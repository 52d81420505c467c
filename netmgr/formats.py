"""How people read numbers, money, data volumes and dates, per language (Babel): the one home for every page,
export and printout (``Rp 40.515.000``, ``67.069,8 GB``, ``7 Desember 2026`` in Indonesian).

Also loads the core's gettext catalog (``netmgr/web/locale``) for code that renders outside a web request,
such as the report files: ``translator("id")("Agencies")`` → ``"Instansi"``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel import dates, numbers
from babel.support import NullTranslations

from netmgr.i18n import DEFAULT_LANGUAGE as DEFAULT_LANGUAGE
from netmgr.i18n import LANGUAGES as LANGUAGES
from netmgr.i18n import catalog
from netmgr.localtime import to_local, zone_label

LOCALE_DIR = Path(__file__).parent / "web" / "locale"
EMPTY = "—"


def language(lang: str | None) -> str:
    """A supported language code for ``lang`` (``"EN-us"`` → ``"en"``); Indonesian for anything else."""
    code = (lang or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def translations(lang: str) -> NullTranslations:
    """The core's compiled catalog for ``lang`` (English msgids fall through unchanged), through the one loader."""
    return catalog(LOCALE_DIR, lang)


def translator(lang: str) -> Callable[..., str]:
    """``t(msgid, **values)`` in ``lang``: the translated text with ``%(name)s`` placeholders filled."""
    catalog = translations(language(lang))

    def t(message: str, **values: Any) -> str:
        text = catalog.gettext(message)
        return text % values if values else text

    return t


def number(value: float | int | None, lang: str, *, decimals: int | None = None) -> str:
    """``1234.5`` → ``1.234,5`` (id) / ``1,234.5`` (en); a fixed number of decimals when given."""
    if value is None:
        return EMPTY
    if decimals is None:
        return numbers.format_decimal(value, locale=lang)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return numbers.format_decimal(value, format=pattern, locale=lang)


def rupiah(value: float | int | None, lang: str) -> str:
    """Whole rupiah with the locale's grouping: ``Rp 27.500.000``."""
    if value is None:
        return EMPTY
    return "Rp " + numbers.format_decimal(round(value), format="#,##0", locale=lang)


def gigabytes(value: float | int | None, lang: str) -> str:
    """A data volume in GB with one decimal: ``67.069,8 GB``."""
    if value is None:
        return EMPTY
    return number(value, lang, decimals=1) + " GB"


def percent(value: float | int | None, lang: str) -> str:
    """``12.5`` → ``12,5 %`` (one decimal at most)."""
    if value is None:
        return EMPTY
    return numbers.format_decimal(round(value, 1), format="#,##0.#", locale=lang) + " %"


def long_date(value: date, lang: str) -> str:
    """``7 Desember 2026`` / ``December 7, 2026``."""
    return dates.format_date(value, "long", locale=lang)


def long_datetime(moment: datetime, lang: str, tz: str) -> str:
    """A moment as people in zone ``tz`` read it: ``7 Desember 2026 23.45 WIB`` / ``December 7, 2026 11:45 PM WITA``."""
    local = to_local(moment, tz)
    return (f"{dates.format_date(local.date(), 'long', locale=lang)} "
            f"{dates.format_time(local, 'short', locale=lang)} {zone_label(tz, moment)}")


def month_name(month_key: str, lang: str) -> str:
    """A report month ``"2026-12"`` as people say it: ``Desember 2026`` / ``December 2026``."""
    year, month = (int(part) for part in month_key.split("-"))
    return dates.format_date(date(year, month, 1), "LLLL y", locale=lang)
