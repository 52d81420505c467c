"""Languages of the admin UI: gettext catalogs (Babel) and locale-aware dates, numbers and rupiah.

The language comes from ``?lang=``, then the ``netmgr_lang`` cookie, then the user's ``language``,
then ``settings.default_language`` (Indonesian).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from babel import dates, numbers
from babel.support import NullTranslations

from netmgr import localtime
from netmgr.i18n import LANGUAGES, catalog, normalise

__all__ = ["LANGUAGES", "normalise"]

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGE_NAMES = {"id": "ID", "en": "EN"}
LANG_COOKIE = "netmgr_lang"


def choose_language(*, query: str | None, cookie: str | None, user_language: str | None, default: str) -> str:
    for candidate in (query, cookie, user_language, default):
        lang = normalise(candidate)
        if lang:
            return lang
    return LANGUAGES[0]


def translations(lang: str) -> NullTranslations:
    """The admin UI's compiled catalog for ``lang`` (English msgids fall through unchanged)."""
    return catalog(LOCALE_DIR, lang)


def format_number(value: float | int | None, lang: str, *, decimals: int | None = None) -> str:
    if value is None:
        return "—"
    if decimals is None:
        return numbers.format_decimal(value, locale=lang)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return numbers.format_decimal(value, format=pattern, locale=lang)


def format_rupiah(value: float | int | None, lang: str) -> str:
    """Whole rupiah with the locale's grouping: ``Rp 27.500.000`` in Indonesian."""
    if value is None:
        return "—"
    return "Rp " + numbers.format_decimal(round(value), format="#,##0", locale=lang)


def format_date(value: date | datetime | None, lang: str, tz: str) -> str:
    """A date, or the local date (zone ``tz``) of a stored UTC time: ``1 Mar 2026``."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = localtime.to_local(value, tz).date()
    return dates.format_date(value, "medium", locale=lang)


def format_datetime(value: datetime | None, lang: str, tz: str) -> str:
    """A stored UTC time as local wall-clock time in zone ``tz`` with its label: ``1 Mar 2026, 14.05.00 WITA``."""
    if value is None:
        return "—"
    local = localtime.to_local(value, tz)
    shown = dates.format_datetime(local, "medium", tzinfo=local.tzinfo, locale=lang)
    return f"{shown} {localtime.zone_label(tz, value)}"
