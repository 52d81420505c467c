"""Edge collectors as the centre manages them: register one for a site (its token shown once), remove it, list
them with the state of their links, and recognise an edge by its token.

What an edge sends is taken by ``collectors.edge.centre``; ``netmgr edge …`` and the edge pages call these.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.errors import AuthenticationFailed, Conflict, NotFound, ValidationFailed
from netmgr.i18n import N_
from netmgr.models import EdgeCollector, Site
from netmgr.models.base import utcnow
from netmgr.security.passwords import hash_token
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit

TOKEN_PREFIX = "nme_"  # noqa: S105 - the public prefix that marks an edge token, not a secret
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
NAME_RULE = N_("an edge's name is lower-case letters, digits and dashes, e.g. edge-kec-baamang")


@dataclass(frozen=True)
class EdgeLink:
    """What the centre knows of one edge's link: ``down`` when it has been silent too long (or never spoke)."""

    edge_id: int
    name: str
    site_id: int
    site: str
    last_seen_at: datetime | None
    down: bool
    backlog_points: int


def register(session: Session, actor: Actor, *, site_id: int, name: str) -> tuple[EdgeCollector, str]:
    """Make an edge collector for a site; returns it and its token, which is shown this once and never again."""
    actor.require(Permission.INVENTORY_WRITE)
    if not _NAME.match(name):
        raise ValidationFailed(NAME_RULE, field="name")
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"site {site_id} does not exist")
    if session.scalar(select(EdgeCollector.id).where(EdgeCollector.site_id == site_id)) is not None:
        raise Conflict(f"site {site.name!r} already has an edge collector; remove it first to replace it")
    if session.scalar(select(EdgeCollector.id).where(EdgeCollector.name == name)) is not None:
        raise Conflict(f"an edge collector named {name!r} exists already")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    edge = EdgeCollector(name=name, site_id=site_id, token_hash=hash_token(token), token_prefix=token[:10])
    session.add(edge)
    session.flush()
    audit.record(session, actor, action="create", entity_type="edge_collector", entity_id=edge.id,
                 message="edge.registered", params={"name": name, "site": site.name})
    return edge, token


def remove(session: Session, actor: Actor, edge_id: int) -> None:
    """Forget an edge: its token stops working and the centre polls the site's devices itself again."""
    actor.require(Permission.INVENTORY_WRITE)
    edge = session.get(EdgeCollector, edge_id)
    if edge is None:
        raise NotFound(f"edge collector {edge_id} does not exist")
    audit.record(session, actor, action="delete", entity_type="edge_collector", entity_id=edge.id,
                 message="edge.removed", params={"name": edge.name})
    session.delete(edge)


def list_edges(session: Session) -> list[EdgeCollector]:
    return list(session.scalars(select(EdgeCollector).order_by(EdgeCollector.name)))


def authenticate(session: Session, token: str, *, address: str = "", now: datetime | None = None) -> EdgeCollector:
    """The edge a bearer token belongs to (and note that it was seen); AuthenticationFailed otherwise."""
    edge = session.scalar(select(EdgeCollector).where(EdgeCollector.token_hash == hash_token(token))) \
        if token.startswith(TOKEN_PREFIX) else None
    if edge is None or not edge.enabled:
        raise AuthenticationFailed("unknown or disabled edge collector token: register the edge with "
                                   "`netmgr edge register` and give the box the token it printed")
    edge.last_seen_at = now or utcnow()
    edge.last_address = address[:64]
    return edge


def links(session: Session, *, link_down_after_s: float, now: datetime | None = None) -> list[EdgeLink]:
    """Every enabled edge and whether its link counts as down now."""
    moment = now or utcnow()
    return [EdgeLink(e.id, e.name, e.site_id, e.site.name, e.last_seen_at, e.silent(moment, after_s=link_down_after_s),
                     e.backlog_points)
            for e in session.scalars(select(EdgeCollector).where(EdgeCollector.enabled.is_(True))
                                     .order_by(EdgeCollector.name))]


def refresh_links(session: Session, *, link_down_after_s: float, now: datetime | None = None) -> list[EdgeLink]:
    """``links`` and store each edge's ``link_down`` for the status pages (not committed here)."""
    found = links(session, link_down_after_s=link_down_after_s, now=now)
    down = {link.edge_id: link.down for link in found}
    for edge in session.scalars(select(EdgeCollector).where(EdgeCollector.id.in_(list(down)))):
        edge.link_down = down[edge.id]
    return found




__all__ = ["TOKEN_PREFIX", "EdgeLink", "authenticate", "links", "list_edges", "refresh_links", "register", "remove"]
