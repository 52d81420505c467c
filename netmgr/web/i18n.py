"""Languages of the admin UI: gettext catalogs (Babel) and locale-aware dates, numbers and rupiah.

The language comes from ``?lang=``, then the ``netmgr_lang`` cookie, then the user's ``language``,
then ``settings.default_language`` (Indonesian).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

from babel import dates, numbers
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("id", "en")
LANGUAGE_NAMES = {"id": "ID", "en": "EN"}
LANG_COOKIE = "netmgr_lang"
# Sampit and most regencies using netmgr are on WIB; shown times are local wall-clock times.
DISPLAY_TIMEZONE = "Asia/Jakarta"


def normalise(lang: str | None) -> str | None:
    """``lang`` if it is a supported language code (``"EN"`` → ``"en"``), else None."""
    if not lang:
        return None
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def choose_language(*, query: str | None, cookie: str | None, user_language: str | None, default: str) -> str:
    for candidate in (query, cookie, user_language, default):
        lang = normalise(candidate)
        if lang:
            return lang
    return LANGUAGES[0]


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> NullTranslations:
    """The compiled catalog for ``lang`` (English msgids fall through unchanged)."""
    return Translations.load(str(LOCALE_DIR), [lang], domain="messages")


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


def _local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # the database stores UTC
    return value


def format_date(value: date | datetime | None, lang: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = _local(value).astimezone(dates.get_timezone(DISPLAY_TIMEZONE)).date()
    return dates.format_date(value, "medium", locale=lang)


def format_datetime(value: datetime | None, lang: str) -> str:
    if value is None:
        return "—"
    return dates.format_datetime(_local(value), "medium", tzinfo=dates.get_timezone(DISPLAY_TIMEZONE), locale=lang)
