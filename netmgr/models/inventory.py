"""The inventory: agencies, sites, devices, interfaces and uplinks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from netmgr.models.base import Base, TimestampMixin, utcnow
from netmgr.models.enums import (
    BillingModel,
    DeviceRole,
    DeviceStatus,
    Platform,
    SiteKind,
    SnmpAuthProtocol,
    SnmpPrivProtocol,
    SnmpVersion,
)

device_tags = Table(
    "device_tags",
    Base.metadata,
    Column("device_id", ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Agency(TimestampMixin, Base):
    """A regional government agency (SOPD/OPD) that gets a share of the central bandwidth.

    For example, Dinas Pendidikan (code ``DISDIK``) or Kecamatan Baamang (``KEC-BAAMANG``).
    """

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contact_email: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")

    sites: Mapped[list[Site]] = relationship(back_populates="agency")


class Site(TimestampMixin, Base):
    """A physical place: an office building, a public hotspot area or a POP.

    For example, Taman Kota Sampit (public hotspot) or the Diskominfo server room (POP).
    """

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[SiteKind] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"), index=True)
    address: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")

    agency: Mapped[Agency | None] = relationship(back_populates="sites")
    devices: Mapped[list[Device]] = relationship(back_populates="site")


class Tag(Base):
    """A free label on devices, used to target jobs and filter lists (e.g. ``lantai-2``)."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Device(TimestampMixin, Base):
    """A router, switch, access point or hotspot gateway that netmgr monitors and configures.

    For example, ``core-diskominfo`` (MikroTik CCR, core router) or ``ap-taman-kota-01``.
    Secrets are stored only as ciphertext in the ``*_encrypted`` columns.
    """

    __tablename__ = "devices"
    # The device list sorts by these (netmgr.services.devices.SORTING); id keeps equal values in a stable order.
    __table_args__ = (
        Index("ix_devices_status_id", "status", "id"),
        Index("ix_devices_role_id", "role", "id"),
        Index("ix_devices_platform_id", "platform", "id"),
        Index("ix_devices_last_seen_at_id", "last_seen_at", "id"),
        Index("ix_devices_site_id_id", "site_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    role: Mapped[DeviceRole] = mapped_column(String(30))
    platform: Mapped[Platform] = mapped_column(String(40))
    mgmt_address: Mapped[str] = mapped_column(String(100), unique=True)
    ssh_port: Mapped[int] = mapped_column(Integer, default=22)
    snmp_port: Mapped[int] = mapped_column(Integer, default=161)
    snmp_version: Mapped[SnmpVersion] = mapped_column(String(5), default=SnmpVersion.V2C)
    snmp_community_encrypted: Mapped[str | None] = mapped_column(Text)
    snmp_v3_user: Mapped[str | None] = mapped_column(String(100))
    snmp_v3_auth_protocol: Mapped[SnmpAuthProtocol | None] = mapped_column(String(10))
    snmp_v3_auth_key_encrypted: Mapped[str | None] = mapped_column(Text)
    snmp_v3_priv_protocol: Mapped[SnmpPrivProtocol | None] = mapped_column(String(10))
    snmp_v3_priv_key_encrypted: Mapped[str | None] = mapped_column(Text)
    snmp_context: Mapped[str | None] = mapped_column(String(100))
    ssh_username: Mapped[str | None] = mapped_column(String(100))
    ssh_password_encrypted: Mapped[str | None] = mapped_column(Text)
    radius_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    vendor: Mapped[str] = mapped_column(String(40), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    os_version: Mapped[str] = mapped_column(String(100), default="")
    serial: Mapped[str] = mapped_column(String(100), default="")
    sys_object_id: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[DeviceStatus] = mapped_column(String(10), default=DeviceStatus.UNKNOWN)
    status_changed_at: Mapped[datetime | None] = mapped_column()
    last_seen_at: Mapped[datetime | None] = mapped_column()
    last_latency_ms: Mapped[float | None] = mapped_column(Float)
    ping_status: Mapped[DeviceStatus] = mapped_column(String(10), default=DeviceStatus.UNKNOWN,
                                                      server_default=DeviceStatus.UNKNOWN.value)
    """ICMP reachability from the last fping round (collectors.ping_targets), independent of SNMP."""
    ping_checked_at: Mapped[datetime | None] = mapped_column()
    ping_rtt_ms: Mapped[float | None] = mapped_column(Float)
    ping_loss_percent: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")

    site: Mapped[Site] = relationship(back_populates="devices")
    tags: Mapped[list[Tag]] = relationship(secondary=device_tags, order_by="Tag.name")
    interfaces: Mapped[list[Interface]] = relationship(
        back_populates="device", cascade="all, delete-orphan", order_by="Interface.if_index"
    )


class Interface(TimestampMixin, Base):
    """A network interface on a device, as discovered from IF-MIB (e.g. ``ether1`` on the core router).

    ``agency_id`` says which agency's traffic this interface measures, for usage attribution.
    """

    __tablename__ = "interfaces"
    __table_args__ = (UniqueConstraint("device_id", "name", name="uq_interfaces_device_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    if_index: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    descr: Mapped[str] = mapped_column(String(300), default="")
    alias: Mapped[str] = mapped_column(String(300), default="")
    if_type: Mapped[int | None] = mapped_column(Integer)
    speed_mbps: Mapped[int | None] = mapped_column(BigInteger)
    mac: Mapped[str] = mapped_column(String(17), default="")
    admin_status: Mapped[str] = mapped_column(String(20), default="unknown")
    oper_status: Mapped[str] = mapped_column(String(20), default="unknown")
    monitored: Mapped[bool] = mapped_column(default=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="SET NULL"))

    device: Mapped[Device] = relationship(back_populates="interfaces")


class Uplink(TimestampMixin, Base):
    """An ISP contract delivered on a router interface.

    For example, Telkom Astinet 500/500 Mbps at Rp 27.500.000 a month plus 11 % PPN, flat billing.
    """

    __tablename__ = "uplinks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    isp_name: Mapped[str] = mapped_column(String(100))
    interface_id: Mapped[int | None] = mapped_column(ForeignKey("interfaces.id", ondelete="SET NULL"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), index=True)
    interface_name: Mapped[str] = mapped_column(String(200), default="")
    capacity_down_mbps: Mapped[int] = mapped_column(Integer)
    capacity_up_mbps: Mapped[int] = mapped_column(Integer)
    monthly_price_idr: Mapped[int] = mapped_column(BigInteger)
    tax_percent: Mapped[float] = mapped_column(Float, default=11.0)
    billing_model: Mapped[BillingModel] = mapped_column(String(20), default=BillingModel.FLAT)
    committed_mbps: Mapped[int | None] = mapped_column(Integer)
    price_per_gb_idr: Mapped[int | None] = mapped_column(BigInteger)
    contract_start: Mapped[date | None] = mapped_column()
    contract_end: Mapped[date | None] = mapped_column()
    sla_availability_percent: Mapped[float | None] = mapped_column(Float)
    sla_max_latency_ms: Mapped[float | None] = mapped_column(Float)
    """The contract's promised monthly average round trip to ``probe_address``, e.g. 20 ms."""
    sla_max_loss_percent: Mapped[float | None] = mapped_column(Float)
    """The contract's promised monthly average packet loss to ``probe_address``, e.g. 1 %."""
    sla_restitution_cap_percent: Mapped[float | None] = mapped_column(Float)
    """The most of the monthly price (before PPN) the ISP restitutes for outage beyond the SLA, e.g. 100 %."""
    probe_address: Mapped[str | None] = mapped_column(String(100))
    """The far end netmgr pings to measure this uplink (e.g. the ISP gateway 203.0.113.1); None: not pinged."""
    ping_status: Mapped[DeviceStatus] = mapped_column(String(10), default=DeviceStatus.UNKNOWN,
                                                      server_default=DeviceStatus.UNKNOWN.value)
    ping_checked_at: Mapped[datetime | None] = mapped_column()
    ping_rtt_ms: Mapped[float | None] = mapped_column(Float)
    ping_loss_percent: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")

    device: Mapped[Device | None] = relationship()
    interface: Mapped[Interface | None] = relationship()
    contract_history: Mapped[list[UplinkContractHistory]] = relationship(
        back_populates="uplink", cascade="all, delete-orphan", passive_deletes=True,
        order_by="UplinkContractHistory.id")


class UplinkContractHistory(Base):
    """Terms an uplink was billed at before they were replaced (renewal or new price), for the days they covered.

    For example, Telkom Astinet from 1 Jan to 15 Jun 2025 at Rp 27.500.000 a month, kept when the contract was
    renewed from 16 Jun at Rp 25.000.000. Rows are written by the uplinks service only; the current terms stay
    on the uplink, the one place where terms are entered. A later row takes precedence over an earlier one, and
    the uplink's current terms over every row, on days they share.
    """

    __tablename__ = "uplink_contract_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    uplink_id: Mapped[int] = mapped_column(ForeignKey("uplinks.id", ondelete="CASCADE"), index=True)
    contract_start: Mapped[date | None] = mapped_column()
    contract_end: Mapped[date] = mapped_column()
    monthly_price_idr: Mapped[int] = mapped_column(BigInteger)
    tax_percent: Mapped[float] = mapped_column(Float)
    billing_model: Mapped[BillingModel] = mapped_column(String(20))
    committed_mbps: Mapped[int | None] = mapped_column(Integer)
    price_per_gb_idr: Mapped[int | None] = mapped_column(BigInteger)
    archived_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    uplink: Mapped[Uplink] = relationship(back_populates="contract_history")
