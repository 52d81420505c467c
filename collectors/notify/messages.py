"""The Indonesian texts of alert notifications, e.g. "🔴 PERANGKAT MATI: ap-taman-kota-01 (Taman Kota Sampit) …".

Alert facts (names, times in UTC, measurements) → ``Message`` with times in the regency's zone (WIB/WITA/WIT).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from collectors.notify import Message
from netmgr import localtime
from netmgr.models.alerts import AlertKind
from netmgr.services import alert_reasons


def clock(moment: datetime, timezone: str) -> str:
    """``14:05 WIB``: the local time of ``moment`` with the Indonesian zone name."""
    return f"{localtime.to_local(moment, timezone):%H:%M} {localtime.zone_label(timezone, moment)}"


def duration(delta: timedelta) -> str:
    """``2 jam 5 menit``, ``45 menit``, ``30 detik``."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} hari"] if days else []
    if hours:
        parts.append(f"{hours} jam")
    if minutes and not days:
        parts.append(f"{minutes} menit")
    if not parts:
        parts.append(f"{secs} detik")
    return " ".join(parts)


def _where(facts: Mapping[str, Any]) -> str:
    site = facts.get("site")
    return f"{facts['name']} ({site})" if site else str(facts["name"])


# Kinds whose opening message does not say its evidence itself (a saturation or error message already names
# its figures, so a reason line would repeat them).
REASON_LINE = frozenset({AlertKind.DEVICE_DOWN, AlertKind.SNMP_SILENT, AlertKind.SITE_DOWN})


def with_reason(kind: AlertKind, message: Message, reason: Sequence[Mapping[str, Any]] | None,
                timezone: str) -> Message:
    """``message`` with the alert's reason (the checks that failed and their evidence) as a second line in
    Indonesian, e.g. "Alasan: ping 0/3 balasan dari 10.2.3.4 pukul 14:02 WIB"; unchanged without a reason or
    when the message already says it (``REASON_LINE``)."""
    why = alert_reasons.describe_in(reason, "id", timezone) if kind in REASON_LINE else ""
    return replace(message, text=f"{message.text}\nAlasan: {why}") if why else message


def opened(kind: AlertKind, facts: Mapping[str, Any], timezone: str) -> Message:
    """The message sent when an alert opens. ``facts`` carries ``name``, ``site``, ``since`` and per-kind values."""
    since = clock(facts["since"], timezone)
    where = _where(facts)
    if kind == AlertKind.DEVICE_DOWN:
        text = f"🔴 PERANGKAT MATI: {where} tidak merespons sejak {since}"
        subject = f"Perangkat mati: {facts['name']}"
    elif kind == AlertKind.SNMP_SILENT:
        text = (f"🟠 SNMP TIDAK MENJAWAB: {where} menjawab ping tetapi tidak SNMP sejak {since} "
                "(periksa community, kredensial v3 atau ACL)")
        subject = f"SNMP tidak menjawab: {facts['name']}"
    elif kind == AlertKind.SITE_DOWN:
        text = (f"🔴 LOKASI MATI: semua {facts['devices']} perangkat di {facts['name']} tidak merespons "
                f"sejak {since}")
        subject = f"Lokasi mati: {facts['name']}"
    elif kind == AlertKind.EDGE_LINK_DOWN:
        text = (f"🔴 TAUTAN LOKASI PUTUS: kolektor tepi {facts['edge']} di {facts['name']} tidak menghubungi pusat "
                f"sejak {since}; perangkat di sana tetap dipantau setempat dan datanya dikirim saat tautan pulih")
        subject = f"Tautan lokasi putus: {facts['name']}"
    elif kind == AlertKind.UPLINK_SATURATED:
        direction = "unduh" if facts["direction"] == "down" else "unggah"
        text = (f"🟠 UPLINK PENUH: {where} arah {direction} terpakai {facts['percent']:.0f}% dari kapasitas "
                f"{facts['capacity_mbps']} Mbps selama {facts['minutes']} menit terakhir (sejak {since})")
        subject = f"Uplink penuh: {facts['name']}"
    elif kind == AlertKind.INTERFACE_ERRORS:
        text = (f"🟠 GALAT ANTARMUKA MENINGKAT: {where}: {facts['errors']} galat dalam {facts['minutes']} menit "
                f"terakhir (sebelumnya {facts['previous']})")
        subject = f"Galat antarmuka: {facts['name']}"
    elif kind == AlertKind.FLAPPING:
        text = (f"🟡 TIDAK STABIL: {where} berganti status {facts['changes']} kali dalam {facts['minutes']} menit "
                f"terakhir; pemberitahuan lain ditahan sampai stabil")
        subject = f"Tidak stabil: {facts['name']}"
    else:  # pragma: no cover - every AlertKind is handled above
        raise ValueError(f"no message for alert kind {kind!r}")
    return Message(subject=f"[netmgr] {subject}", text=text)


def resolved(kind: AlertKind, facts: Mapping[str, Any], timezone: str) -> Message:
    """The message sent when an alert resolves; ``facts`` adds ``at`` (resolution time)."""
    at = clock(facts["at"], timezone)
    lasted = duration(facts["at"] - facts["since"])
    where = _where(facts)
    if kind == AlertKind.DEVICE_DOWN:
        text = f"🟢 PERANGKAT PULIH: {where} kembali merespons pukul {at} (mati {lasted})"
        subject = f"Perangkat pulih: {facts['name']}"
    elif kind == AlertKind.SNMP_SILENT:
        text = f"🟢 SNMP MENJAWAB LAGI: {where} kembali menjawab SNMP pukul {at} (diam {lasted})"
        subject = f"SNMP menjawab lagi: {facts['name']}"
    elif kind == AlertKind.SITE_DOWN:
        text = f"🟢 LOKASI PULIH: {facts['name']} kembali terhubung pukul {at} (terputus {lasted})"
        subject = f"Lokasi pulih: {facts['name']}"
    elif kind == AlertKind.EDGE_LINK_DOWN:
        text = (f"🟢 TAUTAN LOKASI PULIH: kolektor tepi {facts['edge']} di {facts['name']} menghubungi pusat lagi "
                f"pukul {at} (putus {lasted}); data selama putus sedang dikirim")
        subject = f"Tautan lokasi pulih: {facts['name']}"
    elif kind == AlertKind.UPLINK_SATURATED:
        text = f"🟢 UPLINK NORMAL: {where} kembali di bawah ambang pukul {at} (penuh {lasted})"
        subject = f"Uplink normal: {facts['name']}"
    elif kind == AlertKind.INTERFACE_ERRORS:
        text = f"🟢 GALAT ANTARMUKA REDA: {where} pukul {at}"
        subject = f"Galat antarmuka reda: {facts['name']}"
    elif kind == AlertKind.FLAPPING:
        text = f"🟢 STABIL KEMBALI: {where} stabil sejak pukul {at}"
        subject = f"Stabil kembali: {facts['name']}"
    else:  # pragma: no cover
        raise ValueError(f"no message for alert kind {kind!r}")
    return Message(subject=f"[netmgr] {subject}", text=text)
