"""Edge collectors: small pollers at remote sites that forward what they measured when their link allows.

For example ``edge-kec-baamang``, a small Linux box in the Kecamatan Baamang office that polls the office's
router and access points over the LAN and keeps their metrics on its disk while the radio link to
Diskominfo is down. Only the SHA-256 of its token is stored; its prefix is shown for recognition.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from netmgr.models.base import Base, TimestampMixin
from netmgr.models.inventory import Site


class EdgeCollector(TimestampMixin, Base):
    """One edge box and the site whose devices it polls (the centre then polls none of them itself)."""

    __tablename__ = "edge_collectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(12))
    enabled: Mapped[bool] = mapped_column(default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column()
    """When the edge last reached the centre (any authenticated request)."""
    last_address: Mapped[str] = mapped_column(String(64), default="")
    backlog_points: Mapped[int] = mapped_column(Integer, default=0)
    """Points the edge said were still in its spool at its last report (0 = caught up)."""
    oldest_backlog_at: Mapped[datetime | None] = mapped_column()
    agent_version: Mapped[str] = mapped_column(String(40), default="")
    link_down: Mapped[bool] = mapped_column(default=False)
    """Set by each alert round (``collectors.edge.centre.refresh_links``): silent longer than allowed."""

    site: Mapped[Site] = relationship()

    def silent(self, now: datetime, *, after_s: float) -> bool:
        """True when the edge has not called for ``after_s`` seconds (or never has): its site's link is down."""
        return self.last_seen_at is None or self.last_seen_at < now - timedelta(seconds=after_s)
