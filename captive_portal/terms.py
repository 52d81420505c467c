"""Versioned terms of use and privacy text per hotspot: the one rule for changing them, and their history.

Admin page, API or CLI → ``change_terms`` (a new version for every change of text) → ``hotspots`` and
``hotspot_terms_versions``; the portal shows the current version and a citizen's consent names the version
accepted (``consent_records.terms_version_id``), so what they agreed to can be shown later (UU PDP).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.errors import NotFound, ValidationFailed
from netmgr.models import Hotspot, HotspotTermsVersion
from netmgr.security.permissions import Actor, Permission


def record_version(session: Session, hotspot: Hotspot, *, created_by: str) -> HotspotTermsVersion:
    """Keep the hotspot's current terms and privacy text as the version it names (a new hotspot's first)."""
    row = HotspotTermsVersion(hotspot_id=hotspot.id, version=hotspot.terms_version, terms_text=hotspot.terms_text,
                              privacy_text=hotspot.privacy_text or "", created_by=created_by)
    session.add(row)
    session.flush()
    return row


def change_terms(session: Session, hotspot: Hotspot, *, version: str, terms_text: str | None,
                 privacy_text: str | None, created_by: str) -> HotspotTermsVersion | None:
    """Apply new terms or privacy text (None keeps it) under ``version``; returns the new version, or None
    when nothing changed.

    A changed text needs a new version, so that citizens consent again; a version name is used once per
    hotspot. A new version name without new text is a new version too (consent again to the same text).

    Raises:
        ValidationFailed: on ``terms_version``: empty, text changed under the same version, or used before.
    """
    version = version.strip()
    if not version:
        raise ValidationFailed("the terms need a version, e.g. 2026-01", field="terms_version")
    terms = hotspot.terms_text if terms_text is None else terms_text
    privacy = (hotspot.privacy_text or "") if privacy_text is None else privacy_text
    text_changed = (terms, privacy) != (hotspot.terms_text, hotspot.privacy_text or "")
    if version == hotspot.terms_version:
        if text_changed:
            raise ValidationFailed("the terms or privacy text changed: give it a new version so citizens consent "
                                   "again", field="terms_version")
        return None
    used = session.scalar(select(HotspotTermsVersion.id).where(HotspotTermsVersion.hotspot_id == hotspot.id,
                                                               HotspotTermsVersion.version == version))
    if used is not None:
        raise ValidationFailed(f"version {version} was used before at this hotspot: give a new one",
                               field="terms_version")
    hotspot.terms_version, hotspot.terms_text, hotspot.privacy_text = version, terms, privacy
    return record_version(session, hotspot, created_by=created_by)


def list_versions(session: Session, actor: Actor, hotspot_id: int) -> Sequence[HotspotTermsVersion]:
    """Every version of a hotspot's terms, newest first."""
    actor.require(Permission.PORTAL_MANAGE)
    if session.get(Hotspot, hotspot_id) is None:
        raise NotFound(f"hotspot {hotspot_id} does not exist")
    return list(session.scalars(select(HotspotTermsVersion).where(HotspotTermsVersion.hotspot_id == hotspot_id)
                                .order_by(HotspotTermsVersion.created_at.desc(), HotspotTermsVersion.id.desc())))


def get_version(session: Session, actor: Actor, hotspot_id: int, version_id: int) -> HotspotTermsVersion:
    actor.require(Permission.PORTAL_MANAGE)
    row = session.get(HotspotTermsVersion, version_id)
    if row is None or row.hotspot_id != hotspot_id:
        raise NotFound(f"terms version {version_id} of hotspot {hotspot_id} does not exist")
    return row


def current_version_id(session: Session, hotspot_id: int, version: str) -> int | None:
    """The kept version a consent to ``version`` of the hotspot's terms refers to."""
    return session.scalar(select(HotspotTermsVersion.id).where(HotspotTermsVersion.hotspot_id == hotspot_id,
                                                               HotspotTermsVersion.version == version))
