"""Checks line protocol an edge forwards: every point must carry the ``device`` tag of one of its own devices.

The centre writes what passes unchanged (timestamps included), so a forged or foreign point is refused as a
whole batch (HTTP 422): the edge's store counts it as rejected rather than retrying it for ever.
"""

from __future__ import annotations

from netmgr.errors import ValidationFailed


def _series_key(line: str) -> str:
    """The measurement and tags of a line: everything before the first unescaped space."""
    escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == " ":
            return line[:index]
    return line


def _tags(key: str) -> dict[str, str]:
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in key:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    tags = {}
    for part in parts[1:]:
        name, sep, value = part.partition("=")
        if sep:
            tags[name] = value
    return tags


def check_lines(body: str, devices: frozenset[str]) -> list[str]:
    """The non-empty lines of ``body``; ValidationFailed naming the first line whose device is not the edge's."""
    lines = [line for line in body.split("\n") if line and not line.startswith("#")]
    for number, line in enumerate(lines, 1):
        device = _tags(_series_key(line)).get("device")
        if device is None or device not in devices:
            shown = device if device is not None else "(none)"
            raise ValidationFailed(f"line {number}: device tag {shown!r} is not a device of this edge's site; "
                                   "nothing of this batch was written", field="body")
    return lines
