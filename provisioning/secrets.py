"""Device secrets in provisioning output: people see placeholders, only the push to a device sees the values.

Data flow: inventory credentials + secret job variables → ``SecretValues`` → ``placeholder`` stands in for
each value in previews and dry runs (so no template transformation can reveal one), and ``hide`` masks every
value, in the forms a template can produce, in any text a person may read (diffs, logs, errors).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import SecretStr

#: The secrets a template sees under ``inventory``; previews and dry runs see placeholders for them.
INVENTORY_SECRETS = ("snmp_community", "radius_secret")

#: The longest separator ``hide`` recognises between a secret's characters (``|list|join('. ')``).
_MAX_SEPARATOR = 3

#: Shorter values are not masked by value (they would mask ordinary words); placeholders still hide them.
MIN_MASKED_LENGTH = 4


def placeholder(label: str) -> str:
    """What a person sees instead of the secret called ``label``, e.g. ``<secret:snmp_community>``."""
    return f"<secret:{label}>"


def _spread(value: str) -> str:
    """A regex for ``value``'s characters in order, joined by one repeated short separator (or none)."""
    chars = [re.escape(c) for c in value]
    if len(chars) == 1:
        return chars[0]
    return chars[0] + f"(?P<sep>.{{0,{_MAX_SEPARATOR}}}?)" + "(?P=sep)".join(chars[1:])


def _encodings(value: str) -> Iterable[str]:
    raw = value.encode()
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw), base64.b32encode(raw)):
        text = encoded.decode()
        yield text
        yield text.rstrip("=")
    yield raw.hex()


@dataclass(frozen=True)
class SecretValues:
    """The secrets one device's render may use, by label (``snmp_community``, ``ssh_password``, …)."""

    values: Mapping[str, str] = field(default_factory=dict)

    def merged(self, more: Mapping[str, str]) -> SecretValues:
        """These secrets and ``more`` (a value already known keeps its first label)."""
        known = set(self.values.values())
        return SecretValues({**self.values, **{k: v for k, v in more.items() if v and v not in known}})

    @cached_property
    def _patterns(self) -> list[tuple[re.Pattern[str], str]]:
        found: list[tuple[re.Pattern[str], str]] = []
        # Longest first, so a secret that contains another is masked whole.
        for label, value in sorted(self.values.items(), key=lambda kv: -len(kv[1])):
            if len(value) < MIN_MASKED_LENGTH:
                continue
            mark = placeholder(label)
            for form in (value, value[::-1]):
                found.append((re.compile(_spread(form), re.IGNORECASE | re.DOTALL), mark))
            for encoded in _encodings(value):
                found.append((re.compile(re.escape(encoded), re.IGNORECASE), mark))
        return found

    def texts(self) -> tuple[str, ...]:
        """The secret values themselves (for the drivers' ``mask_secrets(text, known)``)."""
        return tuple(self.values.values())

    def hide(self, text: str) -> str:
        """``text`` with every secret masked: plain, reversed, spread with a separator, any letter case,
        base64/base32/hex. A second line of defence: what people see is rendered with placeholders anyway."""
        for pattern, mark in self._patterns:
            text = pattern.sub(mark, text)
        return text

    def hide_optional(self, text: str | None) -> str | None:
        return None if text is None else self.hide(text)


def placeholder_context(context: dict[str, Any], labels: Iterable[str]) -> dict[str, Any]:
    """A copy of a render context whose ``inventory`` secrets (``labels``) are placeholders."""
    inventory = dict(context.get("inventory") or {})
    for label in labels:
        if inventory.get(label) is not None:
            inventory[label] = placeholder(label)
    return {**context, "inventory": inventory}


def variable_secrets(variables: object) -> dict[str, str]:
    """The secret values among a purpose's variables (pydantic ``SecretStr`` fields), by field name."""
    out: dict[str, str] = {}
    for name, value in vars(variables).items():
        if isinstance(value, SecretStr) and value.get_secret_value():
            out[name] = value.get_secret_value()
    return out
