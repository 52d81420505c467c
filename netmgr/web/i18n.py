"""Languages of the admin UI: gettext catalogs (Babel) and locale-aware dates, numbers and rupiah.

The language comes from ``?lang=``, then the ``netmgr_lang`` cookie, then the user's ``language``,
then ``settings.default_language`` (Indonesian).
"""

from __future__ import annotations

from datetime import date, datetime

from babel import dates
from babel.support import NullTranslations

from netmgr import formats, localtime
from netmgr.i18n import LANGUAGES, normalise

__all__ = ["LANGUAGES", "normalise"]

LOCALE_DIR = formats.LOCALE_DIR
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
    return formats.translations(lang)


def format_number(value: float | int | None, lang: str, *, decimals: int | None = None) -> str:
    return formats.number(value, lang, decimals=decimals)


def format_rupiah(value: float | int | None, lang: str) -> str:
    """Whole rupiah with the locale's grouping: ``Rp 27.500.000`` in Indonesian."""
    return formats.rupiah(value, lang)


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
