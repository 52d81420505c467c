"""Languages of the citizens' portal: Bahasa Indonesia by default, English on request.

The language comes from ``?lang=``, then the ``portal_lang`` cookie, then the hotspot's default. Each
language has its own Jinja2 environment with its gettext catalog installed, so rendering needs no globals.
"""

from __future__ import annotations

from pathlib import Path

from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from netmgr.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalog, normalise

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "normalise"]

LOCALE_DIR = Path(__file__).parent / "locale"
TEMPLATE_DIR = Path(__file__).parent / "templates"
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
LANG_COOKIE = "portal_lang"


def choose_language(*, query: str | None, cookie: str | None, default: str | None) -> str:
    for candidate in (query, cookie, default):
        lang = normalise(candidate)
        if lang:
            return lang
    return DEFAULT_LANGUAGE


def translations(lang: str) -> NullTranslations:
    """The portal's compiled catalog for ``lang`` (msgids are English, so English needs almost nothing)."""
    return catalog(LOCALE_DIR, lang)


def gettext(message: str, lang: str) -> str:
    return translations(lang).gettext(message)


def make_environments(template_dir: Path = TEMPLATE_DIR) -> dict[str, Environment]:
    """One autoescaping environment per language with ``_()`` bound to that language's catalog."""
    envs: dict[str, Environment] = {}
    for lang in LANGUAGES:
        env = Environment(
            loader=FileSystemLoader(template_dir),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # templates ship with the code: no stat() of every file on every render
        )
        env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
        env.globals.update(lang=lang, language_names=LANGUAGE_NAMES, languages=LANGUAGES)
        envs[lang] = env
    return envs
