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

from jinja2 import ChainableUndefined, FunctionLoader, StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr import localtime
from netmgr.errors import NotFound, ValidationFailed
from netmgr.models import ConfigTemplate, ConfigTemplateVersion
from netmgr.registry import Registry
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit
from provisioning import messages as msg
from provisioning.drivers.base import Driver, LineProblem
from provisioning.messages import say

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class TemplateSource:
    """A template body and where it came from, e.g. ``mikrotik_routeros/hotspot.j2`` or ``db:taman v3``."""

    name: str
    body: str
    version: int = 0


class TemplateRenderError(ValidationFailed):
    """A template did not compile or render; the message names the template and line."""


class TemplateLinesRefused(TemplateRenderError):
    """A rendered template has lines its platform's driver can neither compare nor push (``problems``)."""

    def __init__(self, template: TemplateSource, problems: list[LineProblem]) -> None:
        self.template, self.problems = template.name, problems
        shown = "; ".join(_described(template, p) for p in problems)
        super().__init__(say(msg.TEMPLATE_REFUSED, template=template.name, problems=shown), field="body")


def _described(template: TemplateSource, problem: LineProblem) -> str:
    """The problem with the template's own line number when the line is written out in it, else the rendered one."""
    body = template.body.replace("\r\n", "\n").split("\n")
    wanted = problem.text.strip()
    found = [i for i, line in enumerate(body, start=1) if line.strip() == wanted]
    if len(found) == 1:
        return say(msg.TEMPLATE_LINE, number=found[0], reason=problem.reason, text=wanted)
    return say(msg.RENDERED_LINE, number=problem.number, reason=problem.reason, text=wanted)


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


def zone_label(tz: object) -> object:
    """``Asia/Makassar`` → ``WITA``: the zone's Indonesian name for device clocks (``clock timezone WITA 8 0``).

    A preview's placeholder passes through unchanged.
    """
    return localtime.zone_label(tz) if isinstance(tz, str) else tz


def utc_hours(tz: object) -> object:
    """``Asia/Makassar`` → ``8``: the zone's whole-hour offset from UTC today (Indonesia has no summer time)."""
    if not isinstance(tz, str):
        return tz
    offset = localtime.local_now(tz).utcoffset()
    return int(offset.total_seconds() // 3600) if offset is not None else 0


_FILTERS = {"q": quote_value, "rate": rate, "zone_label": zone_label, "utc_hours": utc_hours}


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
    env.filters.update(_FILTERS)
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


def check_rendered(driver: Driver, template: TemplateSource, rendered: str) -> str:
    """``rendered`` when its driver can account for every line; the one check at save, preview and job time.

    Every non-blank, non-comment line a template renders is either compared with the device and pushed
    when missing, or the template is refused here with the line's number and the reason.

    Raises:
        TemplateLinesRefused: a line no command can carry (e.g. a RouterOS command outside any menu).
    """
    problems = driver.check_lines(rendered)
    if problems:
        raise TemplateLinesRefused(template, problems)
    return rendered


def render_checked(driver: Driver, template: TemplateSource, context: dict[str, Any]) -> str:
    """``render`` then ``check_rendered``: what a preview and a job send to the driver.

    Raises:
        TemplateRenderError: the template does not render, or renders lines the driver refuses.
    """
    return check_rendered(driver, template, render(template, context))


class _Placeholder(ChainableUndefined):
    """Stands in for every variable when a template is saved, so its fixed lines can be checked already."""

    def __str__(self) -> str:
        return "x"

    # Undefined fails these on purpose; a placeholder is a number where a filter such as ``rate`` needs one.
    def __float__(self) -> float:  # type: ignore[override]
        return 1.0

    def __int__(self) -> int:  # type: ignore[override]
        return 1


def _stays(self: _Placeholder, *_: object) -> _Placeholder:
    return self


# ``gateway.ip + 1`` on a placeholder is a placeholder again (Undefined would fail).
for _operator in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
                  "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__neg__", "__pos__"):
    setattr(_Placeholder, _operator, _stays)


def _sample_render(template: TemplateSource) -> str | None:
    """The template rendered with placeholders (loops over unknown lists render nothing); None if it cannot."""
    env = SandboxedEnvironment(undefined=_Placeholder, trim_blocks=True, lstrip_blocks=True,
                               autoescape=False)  # noqa: S701 - device configs, not HTML
    env.filters.update(_FILTERS)
    try:
        text = env.from_string(template.body).render()
    except Exception:  # a placeholder cannot stand in everywhere; preview and job time check the real render
        return None
    return "\n".join(line.rstrip() for line in text.split("\n") if line.strip()) + "\n"


def check_template(driver: Driver, template: TemplateSource) -> bool:
    """The save-time check: ``check_rendered`` on the template rendered with placeholder variables.

    Returns whether the lines could be checked (False when a placeholder cannot stand in somewhere; the
    preview and every job check the real render).

    Raises:
        TemplateLinesRefused: a line the driver refuses.
    """
    sample = _sample_render(template)
    if sample is None:
        return False
    check_rendered(driver, template, sample)
    return True


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
                  drivers: Registry[Driver], description: str = "") -> ConfigTemplate:
    """Create a template or store a new version of it (the old body stays in the history).

    ``drivers`` holds the platform's driver: the lines the body renders with placeholder variables go through the
    same check as a preview and a job (``check_rendered``).

    Raises:
        TemplateRenderError: the body does not compile, or renders lines the driver refuses.
    """
    actor.require(Permission.NETWORK_CHANGE)
    try:
        SandboxedEnvironment(undefined=StrictUndefined).parse(body)
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(f"template {name}, line {exc.lineno}: {exc.message}") from exc
    check_template(drivers.get(platform), TemplateSource(name=name, body=body))
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
                 message="config_template.saved",
                 params={"name": name, "platform": platform, "purpose": purpose, "version": row.version})
    return row
