"""The public-service dashboard for leaders: what the free Wi-Fi gives citizens, and its open-data export.

Hotspot sessions (UTC) → per park, per area, per local day and month, day × hour → small counts suppressed
(k-anonymity, ``open_data.suppression_threshold``) → the page (``netmgr.web.pages.leadership``) and the CSV +
JSON open-data package. A citizen is a device: its MAC is hashed as soon as it is read and never leaves here.

netmgr has no kecamatan field, so the "area" of a park is its site (``Site.name``); the export says so.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr import localtime
from netmgr.models.hotspot import Hotspot, HotspotSession
from netmgr.models.inventory import Site
from netmgr.security.formulas import SafeCsvWriter
from netmgr.security.permissions import Actor, Permission
from netmgr.settings import Settings

MB = 1_000_000


@dataclass
class Figures:
    """Counts for one cell: unique devices (hashed), sessions, bytes served; ``suppressed`` hides all three."""

    devices: set[str] = field(default_factory=set)
    sessions: int = 0
    octets: int = 0
    suppressed: bool = False

    @property
    def unique(self) -> int:
        return len(self.devices)

    def add(self, device: str, octets: int) -> None:
        if device:
            self.devices.add(device)
        self.sessions += 1
        self.octets += octets

    def public(self) -> dict[str, int | None]:
        """The cell as published: ``None`` for every figure when suppressed."""
        if self.suppressed:
            return {"unique_devices": None, "sessions": None, "data_mb": None}
        return {"unique_devices": self.unique, "sessions": self.sessions, "data_mb": round(self.octets / MB)}


@dataclass(frozen=True)
class Park:
    """A hotspot as leaders know it: its name and its area (the site, for want of a kecamatan field)."""

    id: int
    name: str
    area: str


@dataclass(frozen=True)
class Trend:
    """This month's installation-wide totals against the previous month and the same month a year earlier."""

    current: dict[str, int | None]
    previous: dict[str, int | None]
    last_year: dict[str, int | None]


@dataclass
class Dashboard:
    """One local month of the public-service figures, already suppressed below ``threshold``."""

    month: date
    threshold: int
    parks: list[Park]
    park_month: dict[int, Figures]
    park_days: dict[int, dict[date, Figures]]
    area_month: dict[str, Figures]
    heat: list[list[Figures]]
    """7 × 24 cells: local weekday (Monday first) × local hour of the session start."""
    trend: Trend
    total: Figures


def _device_key(mac: str, salt: bytes) -> str:
    """A keyed hash of a MAC: counts unique devices without holding the address."""
    return hashlib.blake2b(mac.upper().encode(), key=salt, digest_size=16).hexdigest() if mac else ""


def _rows(db: Session, start: Any, end: Any) -> list[Any]:
    query = (
        select(HotspotSession.hotspot_id, HotspotSession.mac, HotspotSession.started_at,
               HotspotSession.input_octets, HotspotSession.output_octets)
        .where(HotspotSession.started_at >= start, HotspotSession.started_at < end,
               HotspotSession.hotspot_id.is_not(None))
    )
    return list(db.execute(query))


def _month_total(db: Session, month: date, tz: str, salt: bytes, threshold: int) -> Figures:
    start, end = localtime.month_bounds_utc(month, tz)
    total = Figures()
    for _hotspot, mac, _started, up, down in _rows(db, start, end):
        total.add(_device_key(mac, salt), int(up) + int(down))
    total.suppressed = total.unique < threshold
    return total


def _suppress(cells: list[Figures], parent: Figures | None) -> None:
    """Complementary suppression among ``cells`` whose sum is published as ``parent``.

    A single hidden cell could be recovered as ``parent`` minus the others, so one more is hidden: the smallest
    published sibling, or (with none left) the parent itself.
    """
    hidden = [c for c in cells if c.suppressed]
    if len(hidden) != 1 or parent is None or parent.suppressed:
        return
    shown = sorted((c for c in cells if not c.suppressed), key=lambda c: (c.sessions, c.unique))
    if shown:
        shown[0].suppressed = True
    else:
        parent.suppressed = True


def dashboard(db: Session, actor: Actor, month: date, *, tz: str, threshold: int, salt: bytes) -> Dashboard:
    """The dashboard for the local month holding ``month``, small counts suppressed.

    Args:
        threshold: any cell with fewer unique devices is hidden (and enough others so totals cannot reveal it).
        salt: key of the device hash (the installation's secret key), so hashes mean nothing elsewhere.

    Raises:
        PermissionDenied: the actor lacks ``leadership.read``.
    """
    actor.require(Permission.LEADERSHIP_READ)
    month = month.replace(day=1)
    parks = [Park(hid, name, area) for hid, name, area in db.execute(
        select(Hotspot.id, Hotspot.name, Site.name).join(Site, Site.id == Hotspot.site_id).order_by(Hotspot.name))]
    start, end = localtime.month_bounds_utc(month, tz)
    board = aggregate(parks, _rows(db, start, end), month=month, tz=tz, threshold=threshold, salt=salt)
    previous = (month - timedelta(days=1)).replace(day=1)
    last_year = month.replace(year=month.year - 1)
    board.trend = Trend(board.total.public(), _month_total(db, previous, tz, salt, threshold).public(),
                        _month_total(db, last_year, tz, salt, threshold).public())
    return board


def aggregate(parks: list[Park], rows: Iterable[Any], *, month: date, tz: str, threshold: int,
              salt: bytes) -> Dashboard:
    """The month's cells from session rows ``(hotspot_id, mac, started_at, input, output)``, suppressed.

    Primary suppression hides every cell counting fewer than ``threshold`` devices; complementary suppression
    then hides enough others that no published total, minus the published parts, leaves a hidden one alone.
    """
    by_id = {p.id: p for p in parks}
    park_month: dict[int, Figures] = defaultdict(Figures)
    park_days: dict[int, dict[date, Figures]] = defaultdict(lambda: defaultdict(Figures))
    area_month: dict[str, Figures] = defaultdict(Figures)
    heat = [[Figures() for _ in range(24)] for _ in range(7)]
    total = Figures()
    for hotspot_id, mac, started, up, down in rows:
        park = by_id.get(hotspot_id)
        if park is None:
            continue
        key, octets = _device_key(mac, salt), int(up) + int(down)
        local = localtime.to_local(started, tz)
        for cell in (park_month[park.id], park_days[park.id][local.date()], area_month[park.area],
                     heat[local.weekday()][local.hour], total):
            cell.add(key, octets)
    # Primary suppression: every cell counting fewer devices than the threshold.
    for cell in [*park_month.values(), *area_month.values(), total, *(c for row in heat for c in row),
                 *(c for days in park_days.values() for c in days.values())]:
        cell.suppressed = cell.unique < threshold
    # Complementary: days within a park's month; parks within an area (their days already published, so a
    # second park cannot be hidden safely: the area total goes instead).
    for park_id, days in park_days.items():
        _suppress(list(days.values()), park_month[park_id])
    for area, cell in area_month.items():
        children = [park_month[p.id] for p in parks if p.area == area and p.id in park_month]
        if sum(c.suppressed for c in children) == 1 and not cell.suppressed:
            cell.suppressed = True
    # The installation's total is the sum of every park and every area: one hidden among either hides it.
    if sum(c.suppressed for c in park_month.values()) == 1 or sum(c.suppressed for c in area_month.values()) == 1:
        total.suppressed = True
    _suppress([c for row in heat for c in row if c.sessions], total)
    no_trend: dict[str, int | None] = {"unique_devices": None, "sessions": None, "data_mb": None}
    return Dashboard(month, threshold, [p for p in parks if p.id in park_month], dict(park_month),
                     {k: dict(v) for k, v in park_days.items()}, dict(area_month), heat,
                     Trend(total.public(), no_trend, no_trend), total)


CSV_FIELDS = ("level", "period", "area", "park", "unique_devices", "sessions", "data_mb")


def open_data_rows(board: Dashboard) -> list[dict[str, Any]]:
    """The export's rows: each park per day and per month, each area per month; suppressed figures are None."""
    rows: list[dict[str, Any]] = []
    month_key = board.month.strftime("%Y-%m")
    for park in board.parks:
        for day, cell in sorted(board.park_days.get(park.id, {}).items()):
            rows.append({"level": "park_day", "period": day.isoformat(), "area": park.area, "park": park.name,
                         **cell.public()})
        rows.append({"level": "park_month", "period": month_key, "area": park.area, "park": park.name,
                     **board.park_month[park.id].public()})
    for area, cell in sorted(board.area_month.items()):
        rows.append({"level": "area_month", "period": month_key, "area": area, "park": "", **cell.public()})
    return rows


def open_data_csv(board: Dashboard) -> str:
    """The export as CSV (UTF-8, CRLF); a suppressed figure is an empty cell; text cells are formula-safe."""
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(CSV_FIELDS)
    for row in open_data_rows(board):
        writer.writerow(["" if row[name] is None else row[name] for name in CSV_FIELDS])
    return out.getvalue()


def open_data_description(board: Dashboard, *, publisher: str, licence: str, csv_name: str) -> str:
    """A Frictionless-style data package (``datapackage.json``) describing the CSV for an open-data portal."""
    month_key = board.month.strftime("%Y-%m")
    k = board.threshold
    fields = [
        {"name": "level", "type": "string", "constraints": {"enum": ["park_day", "park_month", "area_month"]},
         "description": "Tingkat baris: taman per hari, taman per bulan, wilayah per bulan / row level"},
        {"name": "period", "type": "string",
         "description": "Hari (YYYY-MM-DD) atau bulan (YYYY-MM), zona waktu instalasi / local day or month"},
        {"name": "area", "type": "string",
         "description": "Wilayah: nama lokasi (site) taman; netmgr belum menyimpan kecamatan / the park's site"},
        {"name": "park", "type": "string", "description": "Nama hotspot (taman); kosong untuk total wilayah"},
        {"name": "unique_devices", "type": "integer", "unit": "perangkat / devices",
         "description": "Perangkat unik (alamat MAC di-hash, tidak diterbitkan) / unique devices"},
        {"name": "sessions", "type": "integer", "unit": "sesi / sessions", "description": "Jumlah sesi"},
        {"name": "data_mb", "type": "integer", "unit": "MB (10^6 byte)",
         "description": "Data yang dilayani (unduh + unggah) / data served"},
    ]
    package = {
        "profile": "tabular-data-package",
        "name": f"wifi-publik-{month_key}",
        "title": f"Wi-Fi publik gratis: pemakaian warga {month_key}",
        "description": "Pemakaian Wi-Fi publik per taman dan wilayah. Angka kecil disamarkan (k-anonimitas) "
                       "sesuai UU PDP.",
        "licenses": [{"name": licence}],
        "publisher": publisher,
        "temporal": {"start": board.month.isoformat(), "end": _month_end(board.month).isoformat()},
        "suppression": {
            "method": "k-anonymity with complementary suppression",
            "threshold": k,
            "rule": (f"A row counting fewer than {k} unique devices has all its figures empty. When exactly one "
                     "day of a park is hidden, the smallest other day is hidden too; when exactly one park of an "
                     "area is hidden, the area's total is hidden, so no total reveals a hidden figure."),
            "aturan": (f"Baris dengan kurang dari {k} perangkat unik dikosongkan (<{k}); bila hanya satu hari "
                       "suatu taman yang disamarkan, satu hari lain ikut disamarkan; bila hanya satu taman di "
                       "suatu wilayah yang disamarkan, total wilayah ikut disamarkan."),
            "missingValue": "",
        },
        "resources": [{
            "name": "pemakaian",
            "path": csv_name,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": {"fields": fields, "missingValues": [""]},
        }],
    }
    return json.dumps(package, ensure_ascii=False, indent=2)


def _month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def monthly_dashboard(db: Session, actor: Actor, month: date, settings: Settings) -> Dashboard:
    """``dashboard`` with the installation's zone, threshold and hash key (what the page and exports use)."""
    return dashboard(db, actor, month, tz=settings.timezone, threshold=settings.open_data.suppression_threshold,
                     salt=hashlib.sha256(settings.secret_key.get_secret_value().encode()).digest()[:32])


def open_data_files(board: Dashboard, settings: Settings) -> dict[str, tuple[str, str]]:
    """The open-data package as file name → (media type, text): the CSV and its ``datapackage.json``."""
    csv_name = f"wifi-publik-{board.month.strftime('%Y-%m')}.csv"
    description = open_data_description(board, publisher=settings.open_data.publisher or settings.regency_name,
                                        licence=settings.open_data.licence, csv_name=csv_name)
    return {csv_name: ("text/csv; charset=utf-8", open_data_csv(board)),
            "datapackage.json": ("application/json", description)}
