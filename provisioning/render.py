"""Config templates: found device → role → platform (database first, then the shipped files), rendered sandboxed.

Lookup for purpose P on a device with platform X and role R: a database template named by the job
(``config_templates``), else ``templates/X/R/P.j2``, else ``templates/X/P.j2``. Rendering runs in
``SandboxedEnvironment(undefined=StrictUndefined)``; every error names the template and the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

from jinja2 import FunctionLoader, StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.errors import NotFound, ValidationFailed
from netmgr.models import ConfigTemplate, ConfigTemplateVersion
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class TemplateSource:
    """A template body and where it came from, e.g. ``mikrotik_routeros/hotspot.j2`` or ``db:taman v3``."""

    name: str
    body: str
    version: int = 0


class TemplateRenderError(ValidationFailed):
    """A template did not compile or render; the message names the template and line."""


def shipped_template(platform: str, purpose: str, role: str | None = None) -> TemplateSource | None:
    candidates = ([TEMPLATES_DIR / platform / role / f"{purpose}.j2"] if role else []) + [
        TEMPLATES_DIR / platform / f"{purpose}.j2"
    ]
    for path in candidates:
        if path.is_file():
            return TemplateSource(name=str(path.relative_to(TEMPLATES_DIR)), body=path.read_text(encoding="utf-8"))
    return None


def shipped_templates() -> list[tuple[str, str]]:
    """(platform, purpose) of every shipped template."""
    return sorted((p.parent.name, p.stem) for p in TEMPLATES_DIR.glob("*/*.j2"))


def find_template(session: Session | None, *, platform: str, purpose: str, role: str | None = None,
                  name: str | None = None) -> TemplateSource:
    """The template a device gets for ``purpose``.

    Raises:
        NotFound: nothing matches; the message lists what exists for the platform.
    """
    if name:
        row = None
        if session is not None:
            row = session.scalar(select(ConfigTemplate).where(ConfigTemplate.name == name,
                                                              ConfigTemplate.platform == platform))
        if row is None:
            raise NotFound(f"no template named {name!r} for platform {platform}")
        if row.purpose != purpose:
            raise ValidationFailed(f"template {name!r} is for purpose {row.purpose}, not {purpose}", field="template")
        return TemplateSource(name=f"db:{row.name} v{row.version}", body=row.body, version=row.version)
    found = shipped_template(platform, purpose, role)
    if found is None:
        known = ", ".join(p for plat, p in shipped_templates() if plat == platform) or "(none)"
        raise NotFound(f"no {purpose!r} template for platform {platform}; shipped for it: {known}")
    return found


def quote_value(value: object) -> str:
    """Quote a value for a device CLI when it holds spaces or separators (``name="Taman Kota"``)."""
    text = str(value)
    if text == "" or any(c in text for c in ' \t;"\'=[]{}$\\'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def rate(mbps: float) -> str:
    """Mbps as a RouterOS rate: ``50`` → ``50M``, ``1.5`` → ``1500k``."""
    return f"{int(mbps)}M" if float(mbps).is_integer() else f"{round(mbps * 1000)}k"


def _line_of(name: str, tb: TracebackType | None) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


@lru_cache(maxsize=256)
def _compiled(name: str, body: str) -> Template:
    """``body`` compiled once per process (a job renders one template for hundreds of devices).

    Raises:
        TemplateSyntaxError: the body does not compile (not cached; the next call raises again).
    """
    env = SandboxedEnvironment(
        undefined=StrictUndefined,
        loader=FunctionLoader(lambda n: (body, n, lambda: True) if n == name else None),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - device configs, not HTML
    )
    env.filters.update(q=quote_value, rate=rate)
    return env.get_template(name)


def render(template: TemplateSource, context: dict[str, Any]) -> str:
    """Render ``template`` with ``context`` in a sandbox; undefined names are errors, not blanks.

    Raises:
        TemplateRenderError: syntax error, undefined variable or sandbox violation, with template and line.
    """
    try:
        text = _compiled(template.name, template.body).render(context)
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(f"template {template.name}, line {exc.lineno}: {exc.message}") from exc
    except TemplateError as exc:
        line = _line_of(template.name, exc.__traceback__)
        where = f", line {line}" if line else ""
        raise TemplateRenderError(f"template {template.name}{where}: {exc}") from exc
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line.strip()) + "\n"


# --- templates stored in the database ----------------------------------------------------------------

def list_templates(session: Session, actor: Actor) -> list[ConfigTemplate]:
    actor.require(Permission.INVENTORY_READ)
    return list(session.scalars(select(ConfigTemplate).order_by(ConfigTemplate.platform, ConfigTemplate.name)))


def get_template(session: Session, actor: Actor, template_id: int) -> ConfigTemplate:
    """A stored template with its version history (oldest first)."""
    actor.require(Permission.INVENTORY_READ)
    row = session.get(ConfigTemplate, template_id)
    if row is None:
        raise NotFound(f"config template {template_id} does not exist")
    return row


def template_version(row: ConfigTemplate, version: int) -> ConfigTemplateVersion:
    for past in row.versions:
        if past.version == version:
            return past
    known = ", ".join(str(v.version) for v in row.versions)
    raise NotFound(f"template {row.name} has no version {version}; it has {known}")


def save_template(session: Session, actor: Actor, *, name: str, platform: str, purpose: str, body: str,
                  description: str = "") -> ConfigTemplate:
    """Create a template or store a new version of it (the old body stays in the history).

    Raises:
        TemplateRenderError: the body does not compile.
    """
    actor.require(Permission.NETWORK_CHANGE)
    try:
        SandboxedEnvironment(undefined=StrictUndefined).parse(body)
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(f"template {name}, line {exc.lineno}: {exc.message}") from exc
    row = session.scalar(select(ConfigTemplate).where(ConfigTemplate.name == name, ConfigTemplate.platform == platform))
    if row is None:
        row = ConfigTemplate(name=name, platform=platform, purpose=purpose, body=body, version=1,
                             description=description)
        session.add(row)
        session.flush()
    elif row.body != body or row.purpose != purpose:
        row.version += 1
        row.body, row.purpose = body, purpose
        row.description = description or row.description
    else:
        return row
    session.add(ConfigTemplateVersion(template_id=row.id, version=row.version, body=body, created_by=actor.username))
    session.flush()
    audit.record(session, actor, action="save", entity_type="config_template", entity_id=row.id,
                 summary=f"saved template {name} ({platform}, {purpose}) version {row.version}")
    return row
