"""The one gettext catalog loader (Babel) and the languages netmgr speaks: Bahasa Indonesia first, English.

Each package keeps its own ``locale/`` (the admin UI ``netmgr/web/locale``, the portal, provisioning); all of
them are loaded here, once per directory and language, and choose from the same languages.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"


def normalise(lang: str | None) -> str | None:
    """``lang`` if it names a supported language (``"EN-us"`` → ``"en"``), else None."""
    if not lang:
        return None
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


@lru_cache(maxsize=16)
def catalog(locale_dir: Path, lang: str) -> NullTranslations:
    """The compiled ``messages`` catalog for ``lang`` under ``locale_dir`` (English msgids fall through unchanged;
    a language without a compiled catalog gets none, so its texts stay English)."""
    return Translations.load(str(locale_dir), [lang], domain="messages")


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name for "mark for translation only"
    """Marks wording a page translates later (a service's error message) for the catalog extraction."""
    return message
