"""Prepares the snmpsim data directory of the demo: one recording per device, with traffic that moves.

Data flow: a base recording (``netmgr/demo/snmprec/<name>.snmprec``, shipped in the package)
→ sysName/sysLocation set, interfaces added where the recording has none, interface counters turned
into snmpsim ``numeric`` variations at office-hours rates scaled to the time of day → ``<community>.snmprec``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from netmgr.demo import catalog
from netmgr.errors import ConfigError
from netmgr.models.enums import DeviceRole, Platform, SiteKind

BUILTIN_DIR = Path(__file__).parent / "snmprec"
WIB = timezone(timedelta(hours=7), "WIB")

IF_TABLE = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX_TABLE = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
QUEUE_TABLE = (1, 3, 6, 1, 4, 1, 14988, 1, 1, 2, 1, 1)
SYS_DESCR, SYS_UPTIME, SYS_CONTACT, SYS_NAME, SYS_LOCATION = (
    (1, 3, 6, 1, 2, 1, 1, n, 0) for n in (1, 3, 4, 5, 6)
)
IF_NUMBER = (1, 3, 6, 1, 2, 1, 2, 1, 0)

# (table, column) of octet and packet counters → direction
OCTET_COLUMNS: dict[tuple[tuple[int, ...], int], str] = {
    (IF_TABLE, 10): "in", (IF_TABLE, 16): "out", (IFX_TABLE, 6): "in", (IFX_TABLE, 10): "out",
}
PACKET_COLUMNS: dict[tuple[tuple[int, ...], int], str] = {(IFX_TABLE, 7): "in", (IFX_TABLE, 11): "out"}
_RATE = re.compile(r"rate=([0-9.]+)")


@dataclass
class Record:
    oid: tuple[int, ...]
    tag: str
    value: str

    def line(self) -> str:
        return f"{'.'.join(map(str, self.oid))}|{self.tag}|{self.value}"


def parse(text: str) -> list[Record]:
    """The records of an ``.snmprec`` text (comments and blank lines dropped)."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        oid, tag, value = line.split("|", 2)
        out.append(Record(tuple(int(x) for x in oid.split(".")), tag, value))
    return out


def render(records: Iterable[Record]) -> str:
    return "".join(r.line() + "\n" for r in sorted(records, key=lambda r: r.oid))


def find_base(name: str, extra_dir: Path | None = None) -> Path:
    """The base recording ``name``: from ``extra_dir`` (``NETMGR_DEMO__SNMPREC_DIR``) when set and it has one,
    else the demo's own copy shipped in the package (``netmgr/demo/snmprec``, see SOURCES.md there)."""
    candidates = ([extra_dir / f"{name}.snmprec"] if extra_dir is not None else []) + [BUILTIN_DIR / f"{name}.snmprec"]
    for path in candidates:
        if path.is_file():
            return path
    where = ", ".join(str(c.parent) for c in candidates)
    raise ConfigError(f"SNMP recording {name}.snmprec not found in {where}; the package is incomplete "
                      "(reinstall netmgr) or NETMGR_DEMO__SNMPREC_DIR names the wrong folder")


# --- traffic ----------------------------------------------------------------------------------


def traffic_factor(now: datetime, *, public: bool = False, around_the_clock: bool = False) -> float:
    """How busy a network is at ``now`` (Sampit time), 1.0 = a weekday morning in the office.

    Offices work 07:30-16:00 on weekdays; public Wi-Fi peaks in the evening; a hospital never sleeps.
    """
    local = now.astimezone(WIB)
    hour = local.hour + local.minute / 60
    weekend = local.weekday() >= 5
    if public:
        factor = 1.0 if 16 <= hour < 22 else 0.6 if 9 <= hour < 16 else 0.4 if 6 <= hour < 9 else 0.15
        return factor * (1.2 if weekend else 1.0)
    if weekend:
        factor = 0.08
    else:
        factor = 1.0 if 7.5 <= hour < 16 else 0.25 if 16 <= hour < 21 else 0.06
    return max(factor, 0.6) if around_the_clock else factor


def _jitter(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) for the same inputs (so re-runs look alike)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def _agency(code: str | None) -> catalog.DemoAgency | None:
    return next((a for a in catalog.AGENCIES if a.code == code), None)


def device_load(device: catalog.DemoDevice) -> float:
    """Office-hours download rate through the device's uplink, in octets per second."""
    pool = catalog.HOTSPOT_POOL.ceiling_mbps * catalog.HOTSPOT_POOL.usage * 125_000
    if device.site == catalog.POP_SITE:
        return 45_000_000.0  # the core switch carries every office
    agency = _agency(device.agency)
    if agency is None:  # a public hotspot: a third of the pool each
        share = 0.7 + 0.6 * _jitter(device.name) if device.role == DeviceRole.HOTSPOT_GATEWAY else 0.85
        return pool / 3 * share
    share = 0.35 if device.role == DeviceRole.ACCESS_POINT else 1.0
    return agency.ceiling_mbps * agency.usage * 125_000 * share


def device_factor(device: catalog.DemoDevice, now: datetime) -> float:
    site_kind = next((s.kind for s in catalog.SITES if s.name == device.site), SiteKind.OFFICE)
    if site_kind == SiteKind.PUBLIC_HOTSPOT:
        return traffic_factor(now, public=True)
    if site_kind == SiteKind.POP:
        return 0.75 * traffic_factor(now) + 0.25 * traffic_factor(now, public=True)
    agency = _agency(device.agency)
    return traffic_factor(now, around_the_clock=bool(agency and agency.around_the_clock))


def _scale_rate(value: str, factor: float) -> str:
    return _RATE.sub(lambda m: f"rate={max(1, round(float(m.group(1)) * factor))}", value)


# --- synthesised interfaces for recordings without IF-MIB --------------------------------------

_SYNTH_IFACES: dict[Platform, list[tuple[str, str, int, int, bool, str]]] = {
    # platform → [(ifDescr, ifName, ifType, speed Mbps, up, alias)]; the first one is the uplink
    Platform.CISCO_IOS: [
        ("GigabitEthernet0/1", "Gi0/1", 6, 1000, True, "uplink ke core"),
        ("GigabitEthernet0/2", "Gi0/2", 6, 1000, False, ""),
        *[(f"FastEthernet0/{n}", f"Fa0/{n}", 6, 100, n <= 6, f"ruang {n}" if n <= 6 else "") for n in range(1, 9)],
        ("Vlan1", "Vl1", 53, 1000, True, "manajemen"),
    ],
    Platform.UBIQUITI_UNIFI: [
        ("eth0", "eth0", 6, 1000, True, "uplink PoE"),
        ("wifi0", "wifi0", 71, 300, True, "2.4 GHz"),
        ("wifi1", "wifi1", 71, 867, True, "5 GHz"),
        ("br0", "br0", 209, 0, True, ""),
    ],
    Platform.UBIQUITI_AIROS: [
        ("eth0", "eth0", 6, 1000, True, "uplink ke gateway"),
        ("ath0", "ath0", 71, 867, True, "Sampit Free WiFi"),
        ("br0", "br0", 209, 0, True, ""),
    ],
    Platform.LINUX: [
        ("eth0", "eth0", 6, 1000, True, "WAN ke core-diskominfo"),
        ("eth1", "eth1", 6, 1000, True, "LAN hotspot (openNDS)"),
        ("lo", "lo", 24, 10, True, ""),
    ],
}


def _synth_interfaces(device: catalog.DemoDevice) -> list[Record]:
    ifaces = _SYNTH_IFACES.get(device.platform, [("eth0", "eth0", 6, 1000, True, "uplink")])
    out = [Record(IF_NUMBER, "2", str(len(ifaces)))]
    for idx, (descr, name, iftype, speed, up, alias) in enumerate(ifaces, start=1):
        mac = hashlib.sha256(f"{device.name}/{idx}".encode()).hexdigest()[:12].upper()
        status = "1" if up else "2"
        octets = int(5e10 * _jitter(device.name, idx, "octets")) if up else 0
        out += [
            Record((*IF_TABLE, 1, idx), "2", str(idx)),
            Record((*IF_TABLE, 2, idx), "4", descr),
            Record((*IF_TABLE, 3, idx), "2", str(iftype)),
            Record((*IF_TABLE, 4, idx), "2", "1500"),
            Record((*IF_TABLE, 5, idx), "66", str(min(speed * 1_000_000, 4_294_967_295))),
            Record((*IF_TABLE, 6, idx), "4x", "" if iftype == 24 else "02" + mac[2:]),
            Record((*IF_TABLE, 7, idx), "2", "1"),
            Record((*IF_TABLE, 8, idx), "2", status),
            Record((*IF_TABLE, 10, idx), "65", str(octets % 4_294_967_295)),
            Record((*IF_TABLE, 16, idx), "65", str(octets // 3 % 4_294_967_295)),
            Record((*IFX_TABLE, 1, idx), "4", name),
            Record((*IFX_TABLE, 6, idx), "70", str(octets)),
            Record((*IFX_TABLE, 10, idx), "70", str(octets // 3)),
            Record((*IFX_TABLE, 15, idx), "66", str(speed)),
            Record((*IFX_TABLE, 18, idx), "4", alias),
        ]
    return out


# --- one device --------------------------------------------------------------------------------


def build_recording(device: catalog.DemoDevice, base: list[Record], now: datetime) -> list[Record]:
    """The recording ``device`` answers with, derived from ``base`` at time ``now``."""
    records = {r.oid: Record(r.oid, r.tag, r.value) for r in base}
    if not any(oid[: len(IF_TABLE) + 1] == (*IF_TABLE, 2) for oid in records):
        for r in _synth_interfaces(device):
            records[r.oid] = r
    site = next((s for s in catalog.SITES if s.name == device.site), None)
    agency = _agency(device.agency)
    location = f"{device.site}, {site.address if site else agency.address if agency else 'Sampit'}"
    records[SYS_NAME] = Record(SYS_NAME, "4", device.name)
    records[SYS_LOCATION] = Record(SYS_LOCATION, "4", location)
    records[SYS_CONTACT] = Record(SYS_CONTACT, "4", "NOC Diskominfo Kotim <noc@diskominfo.kotimkab.go.id>")
    if SYS_DESCR not in records:
        records[SYS_DESCR] = Record(SYS_DESCR, "4", f"{device.vendor} {device.model}")
    uptime = records.get(SYS_UPTIME)
    if uptime is None or ":" not in uptime.tag:
        initial = int(8_640_000 * (3 + 60 * _jitter(device.name, "uptime")))  # 3-63 days in centiseconds
        records[SYS_UPTIME] = Record(SYS_UPTIME, "67:numeric", f"rate=100,initial={initial}")

    factor = device_factor(device, now)
    load = device_load(device) * factor
    oper = {oid[-1]: r.value for oid, r in records.items() if oid[:-1] == (*IF_TABLE, 8)}
    active = sorted(idx for idx, status in oper.items() if status == "1")
    uplink = active[0] if active else None
    for oid, rec in records.items():
        if len(oid) < 2:
            continue
        table, column, idx = oid[:-2], oid[-2], oid[-1]
        if oid[: len(QUEUE_TABLE)] == QUEUE_TABLE and "numeric" in rec.tag:
            queue_agency = (*catalog.AGENCIES, catalog.HOTSPOT_POOL)[idx - 1] if idx <= len(catalog.AGENCIES) + 1 \
                else None
            public = queue_agency is catalog.HOTSPOT_POOL
            around = bool(queue_agency and queue_agency.around_the_clock)
            rec.value = _scale_rate(rec.value, traffic_factor(now, public=public, around_the_clock=around))
            continue
        if "numeric" in rec.tag:
            if (table, column) in OCTET_COLUMNS or (table, column) in PACKET_COLUMNS:
                rec.value = _scale_rate(rec.value, factor)
            continue
        direction = OCTET_COLUMNS.get((table, column)) or PACKET_COLUMNS.get((table, column))
        if direction is None or rec.tag not in ("65", "70") or oper.get(idx, "1") != "1":
            continue
        weight = 1.0 if idx == uplink else 0.15 + 0.5 * _jitter(device.name, idx)
        downstream = idx != uplink
        # On the uplink the download comes in; on the access ports it goes out.
        down_dir = "out" if downstream else "in"
        rate = load * weight * (1.0 if direction == down_dir else 0.22)
        if (table, column) in PACKET_COLUMNS:
            rate /= 900
        rate = max(1, round(rate))
        initial = int(rec.value or "0")
        if rec.tag == "65":
            rec.tag, rec.value = "65:numeric", f"rate={rate},initial={initial % 4_294_967_295},wrap=1"
        else:
            rec.tag, rec.value = "70:numeric", f"rate={rate},initial={initial}"
    return list(records.values())


@dataclass(frozen=True)
class PreparedData:
    data_dir: Path
    communities: dict[str, str]
    """device name → community (= recording file name without ``.snmprec``)."""


def prepare(target: Path, *, extra_dir: Path | None = None, now: datetime | None = None,
            devices: Iterable[catalog.DemoDevice] = catalog.DEVICES) -> PreparedData:
    """Write one ``<community>.snmprec`` per demo device into ``target`` (replacing older ones)."""
    from netmgr.demo.seed import community_for

    now = now or datetime.now(UTC)
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.snmprec"):
        old.unlink()
    bases: dict[str, list[Record]] = {}
    communities = {}
    for device in devices:
        if device.recording not in bases:
            bases[device.recording] = parse(find_base(device.recording, extra_dir).read_text(encoding="utf-8"))
        community = community_for(device)
        (target / f"{community}.snmprec").write_text(render(build_recording(device, bases[device.recording], now)),
                                                     encoding="utf-8")
        communities[device.name] = community
    return PreparedData(target, communities)
