"""The demo regency, Kabupaten Kotawaringin Timur (capital Sampit), as plain data.

Data flow: this catalog → ``netmgr.demo.seed`` (database rows through the services) and
``netmgr.demo.snmpdata`` (one SNMP recording per device, with traffic that moves).
Names, addresses and coordinates look real but are illustrative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from netmgr.models.enums import DeviceRole, Platform, Role, SiteKind

REGENCY = "Kabupaten Kotawaringin Timur"
DEMO_SSH_USERNAME = "netadmin"
DEMO_SSH_PASSWORD = "Sampit-Demo-SSH-2025"  # noqa: S105 - the demo's simulated devices, printed to the user
DEMO_RADIUS_SECRET = "Sampit-Demo-RADIUS-2025"  # noqa: S105 - the demo gateway's RADIUS secret (loopback only)


@dataclass(frozen=True)
class DemoAgency:
    """An SOPD with its office site and its share of the central bandwidth (realised as a simple queue)."""

    code: str
    name: str
    site: str
    address: str
    lat: float
    lon: float
    ceiling_mbps: int
    usage: float
    """Typical share of the ceiling used in office hours (1.0 = always at the ceiling)."""
    around_the_clock: bool = False


@dataclass(frozen=True)
class DemoSite:
    name: str
    kind: SiteKind
    address: str
    lat: float
    lon: float
    agency: str | None = None


@dataclass(frozen=True)
class DemoDevice:
    name: str
    site: str
    role: DeviceRole
    platform: Platform
    address: str
    recording: str
    """Base recording: a file in ``netmgr/demo/snmprec`` (shipped in the package), without suffix."""
    vendor: str
    model: str
    tags: tuple[str, ...] = ()
    agency: str | None = None


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: Role
    full_name: str
    agency: str | None = None


@dataclass(frozen=True)
class DemoUplink:
    name: str
    isp_name: str
    interface_name: str
    capacity_mbps: int
    monthly_price_idr: int
    started_months_ago: int
    """The contract began on the 1st of the month this many months before the current one."""
    contract_months: int
    sla_percent: float
    notes: str = field(default="")

    def contract(self, today: date) -> tuple[date, date]:
        """The contract's first and last day, dated from ``today`` so the demo never runs out of contract."""
        index = today.year * 12 + today.month - 1 - self.started_months_ago
        start = date(index // 12, index % 12 + 1, 1)
        after = index + self.contract_months
        return start, date(after // 12, after % 12 + 1, 1) - timedelta(days=1)


AGENCIES: tuple[DemoAgency, ...] = (
    DemoAgency("DISKOMINFO", "Dinas Komunikasi, Informatika, Statistik dan Persandian", "Kantor Diskominfo Kotim",
               "Jl. Jenderal Sudirman No. 27, Sampit", -2.5382, 112.9502, 50, 0.40),
    DemoAgency("DISDIK", "Dinas Pendidikan", "Kantor Dinas Pendidikan",
               "Jl. Jenderal Sudirman Km 2,5, Sampit", -2.5461, 112.9415, 50, 0.97),
    DemoAgency("DINKES", "Dinas Kesehatan", "Kantor Dinas Kesehatan",
               "Jl. Jenderal Sudirman Km 3, Sampit", -2.5502, 112.9383, 40, 0.70),
    DemoAgency("BAPPEDA", "Badan Perencanaan Pembangunan Daerah", "Kantor Bappeda",
               "Jl. Jenderal Sudirman No. 30, Sampit", -2.5390, 112.9497, 20, 0.12),
    DemoAgency("BPKAD", "Badan Pengelolaan Keuangan dan Aset Daerah", "Kantor BPKAD",
               "Jl. Jenderal Sudirman No. 29, Sampit", -2.5386, 112.9510, 30, 0.60),
    DemoAgency("PUPR", "Dinas Pekerjaan Umum dan Penataan Ruang", "Kantor Dinas PUPR",
               "Jl. Pramuka No. 11, Sampit", -2.5318, 112.9556, 30, 0.25),
    DemoAgency("DPMPTSP", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", "Mal Pelayanan Publik Sampit",
               "Jl. Jenderal Sudirman No. 9, Sampit", -2.5371, 112.9528, 20, 0.92),
    DemoAgency("DUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil", "Kantor Dukcapil",
               "Jl. Sudirman Km 1, Sampit", -2.5420, 112.9466, 30, 1.0),
    DemoAgency("SETDA", "Sekretariat Daerah", "Kantor Bupati Kotawaringin Timur",
               "Jl. Jenderal Sudirman No. 1, Sampit", -2.5362, 112.9537, 50, 0.55),
    DemoAgency("INSPEKTORAT", "Inspektorat Daerah", "Kantor Inspektorat",
               "Jl. Jenderal Sudirman No. 21, Sampit", -2.5377, 112.9516, 10, 0.05),
    DemoAgency("KEC-BAAMANG", "Kecamatan Baamang", "Kantor Camat Baamang",
               "Jl. Baamang Tengah No. 1, Sampit", -2.5173, 112.9591, 10, 0.30),
    DemoAgency("KEC-MBK", "Kecamatan Mentawa Baru Ketapang", "Kantor Camat Mentawa Baru Ketapang",
               "Jl. MT Haryono No. 45, Sampit", -2.5447, 112.9612, 10, 0.20),
    DemoAgency("RSUD-MURJANI", "RSUD dr. Murjani Sampit", "RSUD dr. Murjani",
               "Jl. HM. Arsyad No. 65, Sampit", -2.5334, 112.9581, 100, 0.85, around_the_clock=True),
    DemoAgency("SATPOLPP", "Satuan Polisi Pamong Praja", "Markas Satpol PP",
               "Jl. Ahmad Yani No. 12, Sampit", -2.5345, 112.9463, 10, 0.08),
    DemoAgency("BPBD", "Badan Penanggulangan Bencana Daerah", "Kantor BPBD",
               "Jl. Jenderal Sudirman Km 6, Sampit", -2.5651, 112.9276, 20, 0.12, around_the_clock=True),
)

# The public Wi-Fi pool is an allocation too; its queue is named like the agency queues.
HOTSPOT_POOL = DemoAgency("HOTSPOT-PUBLIK", "Sampit Free WiFi (publik)", "", "", 0.0, 0.0, 100, 0.75)

POP_SITE = "Ruang Server Diskominfo"

SITES: tuple[DemoSite, ...] = (
    DemoSite(POP_SITE, SiteKind.POP, "Jl. Jenderal Sudirman No. 27, Sampit (lantai 2)", -2.5383, 112.9501,
             "DISKOMINFO"),
    DemoSite("Taman Kota Sampit", SiteKind.PUBLIC_HOTSPOT, "Jl. Jenderal Sudirman, Sampit", -2.5395, 112.9545),
    DemoSite("Pelabuhan Sampit", SiteKind.PUBLIC_HOTSPOT, "Jl. Usman Harun, Sampit", -2.5431, 112.9622),
    DemoSite("Taman Ikon Jelawat", SiteKind.PUBLIC_HOTSPOT, "Jl. Kapten Mulyono, Sampit", -2.5421, 112.9601),
)

_OFFICE_SWITCH = {
    # agency code → (platform, recording, vendor, model)
    "DISKOMINFO": (Platform.MIKROTIK_ROUTEROS, "routeros", "MikroTik", "RB4011iGS+"),
    "DISDIK": (Platform.MIKROTIK_ROUTEROS, "routeros", "MikroTik", "RB3011UiAS"),
    "DINKES": (Platform.CISCO_IOS, "ios", "Cisco", "WS-C2950-24"),
    "BAPPEDA": (Platform.MIKROTIK_ROUTEROS, "routeros", "MikroTik", "RB3011UiAS"),
    "BPKAD": (Platform.RUIJIE_OS, "ruijie", "Ruijie", "S6220-48XS4QXS"),
    "PUPR": (Platform.MIKROTIK_ROUTEROS, "routeros", "MikroTik", "hEX RB750Gr3"),
    "DPMPTSP": (Platform.CISCO_IOS, "ios", "Cisco", "WS-C2950-24"),
    "DUKCAPIL": (Platform.MIKROTIK_ROUTEROS, "routeros", "MikroTik", "RB3011UiAS"),
    "SETDA": (Platform.RUIJIE_OS, "ruijie", "Ruijie", "S6220-48XS4QXS"),
    "INSPEKTORAT": (Platform.MIKROTIK_ROUTEROS, "routeros", "MikroTik", "hEX RB750Gr3"),
    "KEC-BAAMANG": (Platform.MIKROTIK_ROUTEROS, "routeros", "MikroTik", "hAP ac lite"),
    "KEC-MBK": (Platform.MIKROTIK_ROUTEROS, "routeros", "MikroTik", "hAP ac lite"),
    "RSUD-MURJANI": (Platform.CISCO_IOS, "ios", "Cisco", "WS-C2950-24"),
    "SATPOLPP": (Platform.MIKROTIK_ROUTEROS, "routeros", "MikroTik", "hAP ac lite"),
    "BPBD": (Platform.MIKROTIK_ROUTEROS, "routeros", "MikroTik", "hEX RB750Gr3"),
}
_OFFICE_AP = {"DISDIK", "DINKES", "SETDA", "RSUD-MURJANI"}


def _slug(code: str) -> str:
    return code.lower().replace("_", "-")


def _devices() -> tuple[DemoDevice, ...]:
    devices = [
        DemoDevice("core-diskominfo", POP_SITE, DeviceRole.CORE_ROUTER, Platform.MIKROTIK_ROUTEROS, "127.0.10.1",
                   "core-diskominfo", "MikroTik", "CCR2004-16G-2S+", ("core", "uplink"), "DISKOMINFO"),
        DemoDevice("sw-core-diskominfo", POP_SITE, DeviceRole.DISTRIBUTION, Platform.CISCO_IOS, "127.0.10.2",
                   "ios", "Cisco", "WS-C2950-24", ("core",), "DISKOMINFO"),
    ]
    for n, agency in enumerate(AGENCIES, start=1):
        platform, recording, vendor, model = _OFFICE_SWITCH[agency.code]
        devices.append(DemoDevice(f"dist-{_slug(agency.code)}", agency.site, DeviceRole.DISTRIBUTION, platform,
                                  f"127.0.20.{n}", recording, vendor, model, ("kantor", "sopd"), agency.code))
        if agency.code in _OFFICE_AP:
            devices.append(DemoDevice(f"ap-{_slug(agency.code)}-01", agency.site, DeviceRole.ACCESS_POINT,
                                      Platform.UBIQUITI_UNIFI, f"127.0.21.{n}", "unifi", "Ubiquiti", "UAP-AC-Pro",
                                      ("kantor", "wifi"), agency.code))
    hotspots = (
        ("taman-kota", "Taman Kota Sampit", Platform.MIKROTIK_ROUTEROS, "routeros", "MikroTik", "RB4011iGS+"),
        ("pelabuhan", "Pelabuhan Sampit", Platform.LINUX, "linux", "Generic", "OpenWrt x86 (openNDS)"),
        ("ikon-jelawat", "Taman Ikon Jelawat", Platform.MIKROTIK_ROUTEROS, "routeros", "MikroTik", "hAP ac2"),
    )
    for n, (slug, site, platform, recording, vendor, model) in enumerate(hotspots, start=1):
        devices.append(DemoDevice(f"gw-{slug}", site, DeviceRole.HOTSPOT_GATEWAY, platform, f"127.0.30.{n}",
                                  recording, vendor, model, ("hotspot", "publik")))
        devices.append(DemoDevice(f"ap-{slug}-01", site, DeviceRole.ACCESS_POINT, Platform.UBIQUITI_AIROS,
                                  f"127.0.31.{n}", "airos", "Ubiquiti", "Rocket Prism 5AC Gen2",
                                  ("hotspot", "publik", "outdoor")))
    return tuple(devices)


DEVICES: tuple[DemoDevice, ...] = _devices()

UPLINKS: tuple[DemoUplink, ...] = (
    # Telkom: a two-year contract well inside its term; Icon+: a yearly one ending in about three months, so
    # the renewal reminder shows.
    DemoUplink("telkom-astinet-500", "Telkom Indonesia (Astinet)", "sfp-sfpplus1", 500, 27_500_000,
               13, 24, 99.5, "Astinet 500/500 Mbps, kontrak dua tahun"),
    DemoUplink("iconplus-200", "PLN Icon Plus", "sfp-sfpplus2", 200, 9_000_000,
               9, 12, 99.0, "Icon+ dedicated 200/200 Mbps, cadangan dan beban sore"),
)

USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Admin-Sampit-2025", Role.ADMIN, "Admin Jaringan Diskominfo"),
    DemoUser("operator", "Operator-Sampit-2025", Role.OPERATOR, "Operator NOC Diskominfo"),
    DemoUser("keuangan", "Keuangan-Sampit-2025", Role.FINANCE, "Staf Keuangan BPKAD"),
    DemoUser("viewer-disdik", "Disdik-Sampit-2025", Role.AGENCY_VIEWER, "Kasubag Umum Dinas Pendidikan", "DISDIK"),
    DemoUser("bupati", "Bupati-Sampit-2025", Role.LEADERSHIP, "Staf Khusus Bupati Kotawaringin Timur"),
)


def ssh_capable(device: DemoDevice) -> bool:
    """Devices whose CLI the demo simulates over SSH (linux gateways get no SSH server in the demo)."""
    return device.platform in (Platform.MIKROTIK_ROUTEROS, Platform.CISCO_IOS)
