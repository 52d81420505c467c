"""Turn decoded SNMP values into what people and the inventory use: text, MACs, speeds, status names."""

from __future__ import annotations

from collectors.snmp.types import Value, VarBind

IF_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}

# IANAifType names for the types seen on the devices netmgr manages (the full list has ~300 entries).
IF_TYPE_NAMES = {
    1: "other", 6: "ethernetCsmacd", 22: "propPointToPointSerial", 23: "ppp", 24: "softwareLoopback",
    53: "propVirtual", 62: "fastEther", 71: "ieee80211", 117: "gigabitEthernet", 131: "tunnel",
    135: "l2vlan", 136: "l3ipvlan", 150: "mplsTunnel", 161: "ieee8023adLag", 166: "mpls", 209: "bridge",
    244: "wwanPP2", 249: "aluELP", 250: "gpon",
}

# No interface is faster than this; an ifHighSpeed above it is an agent reporting bit/s (Cambium ePMP does).
MAX_PLAUSIBLE_MBPS = 10_000_000


def text(value: Value) -> str:
    """An OCTET STRING as text (UTF-8, falling back to Latin-1 so no byte is lost), other values via str()."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("latin-1")
    return str(value)


def integer(value: Value) -> int | None:
    return value if isinstance(value, int) else None


def mac(value: Value) -> str:
    """A 6-byte physical address as ``aa:bb:cc:dd:ee:ff``; empty for anything else (PPP, loopback)."""
    if isinstance(value, bytes) and len(value) == 6:
        return ":".join(f"{b:02x}" for b in value)
    if isinstance(value, bytes) and len(value) == 17 and value.count(b":") == 5:
        return value.decode("ascii", "replace").lower()
    return ""


def status(value: Value) -> str:
    return IF_STATUS.get(value, "unknown") if isinstance(value, int) else "unknown"


def speed_mbps(high_speed: Value, speed: Value) -> int | None:
    """Interface speed in Mbit/s from ifHighSpeed (Mbit/s), else ifSpeed (bit/s); None when unknown (0).

    An ifHighSpeed larger than any real interface is read as bit/s: Cambium ePMP reports 1000000000 for
    its gigabit LAN port.
    """
    if isinstance(high_speed, int) and high_speed > 0:
        if high_speed > MAX_PLAUSIBLE_MBPS:
            return high_speed // 1_000_000 or None
        return high_speed
    if isinstance(speed, int) and speed > 0:
        return speed // 1_000_000 or None
    return None


def by_index(varbinds: list[VarBind], prefix: str) -> dict[int, Value]:
    """Values of one table column keyed by the last OID arc (the ifIndex for IF-MIB columns)."""
    start = len(prefix) + 1
    out: dict[int, Value] = {}
    for vb in varbinds:
        if vb.oid.startswith(prefix) and vb.oid[len(prefix)] == "." and not vb.missing:
            suffix = vb.oid[start:]
            if suffix.isdigit():
                out[int(suffix)] = vb.value
    return out
