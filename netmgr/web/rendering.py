"""The admin UI's own autoescaping Jinja2 environment (separate from the provisioning sandbox).

Templates call ``_("English msgid", name=value)`` (new-style gettext, autoescaped); the catalog for the
request's language is bound in a context variable for the duration of one render.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from netmgr import localtime
from netmgr.services.reachability import device_reachability
from netmgr.web import i18n, labels

TEMPLATE_DIR = Path(__file__).parent / "templates"
_catalog: ContextVar[NullTranslations] = ContextVar("netmgr_web_catalog")


def _gettext(message: str) -> str:
    return _catalog.get().gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog.get().ngettext(singular, plural, n)


@contextmanager
def catalog_for(lang: str) -> Iterator[NullTranslations]:
    """Bind the catalog for ``lang`` while rendering (or translating) in this context."""
    token = _catalog.set(i18n.translations(lang))
    try:
        yield _catalog.get()
    finally:
        _catalog.reset(token)


def gettext(message: str) -> str:
    """Translate in the bound language (outside a render, the message is returned unchanged)."""
    try:
        return _gettext(message)
    except LookupError:
        return message


@pass_context
def _f_date(ctx: Context, value: date | datetime | None) -> str:
    return i18n.format_date(value, ctx["lang"], ctx["timezone"])


@pass_context
def _f_datetime(ctx: Context, value: datetime | None) -> str:
    return i18n.format_datetime(value, ctx["lang"], ctx["timezone"])


@pass_context
def _f_number(ctx: Context, value: float | int | None, decimals: int | None = None) -> str:
    return i18n.format_number(value, ctx["lang"], decimals=decimals)


@pass_context
def _f_rupiah(ctx: Context, value: float | int | None) -> str:
    return i18n.format_rupiah(value, ctx["lang"])


def make_environment(timezone: str) -> Environment:
    """The admin UI's environment; ``timezone`` (``Settings.timezone``) is the zone every shown time is in."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(date=_f_date, datetime=_f_datetime, number=_f_number, rupiah=_f_rupiah,
                       reachability=lambda device: device_reachability(device).value)
    env.globals.update(
        timezone=timezone,
        zone_label=localtime.zone_label(timezone),
        tr=gettext,  # for msgids held in variables (labels); literal texts use _("...")
        role_labels=labels.ROLES,
        status_labels=labels.DEVICE_STATUS,
        reach_labels=labels.REACHABILITY,
        reach_css=labels.REACHABILITY_CSS,
        kind_labels=labels.SITE_KINDS,
        role_device_labels=labels.DEVICE_ROLES,
    )
    return env


def render(env: Environment, template: str, lang: str, context: dict[str, Any]) -> str:
    with catalog_for(lang):
        return env.get_template(template).render({**context, "lang": lang})
