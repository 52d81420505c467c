"""Renders one ``Allowance`` as the RADIUS reply attributes a gateway's vendor understands.

Data flows ``decisions.grant_for`` → ``render(dialect, allowance)`` → ``{"Session-Timeout": 3600, ...}``
(FreeRADIUS dictionary names) → the AAA endpoint's JSON for rlm_rest → Access-Accept.
Every dialect gets the RFC 2865/2869 timers; rates and data limits use the vendor's attributes:

- ``mikrotik``: ``Mikrotik-Rate-Limit`` is ``rx/tx`` from the router's side, so the FIRST value is the
  citizen's upload; ``Mikrotik-Total-Limit`` (+ ``-Gigawords``) caps octets in both directions.
- ``coovachilli``: ``WISPr-Bandwidth-Max-Down/Up`` in bit/s; ``ChilliSpot-Max-Total-Octets``
  (+ ``ChilliSpot-Max-Total-Gigawords``, CoovaChilli's vendor 14559 attribute 23).
- ``pfsense``: ``pfSense-Bandwidth-Max-Down/Up`` (vendor 13644) in bit/s; ``pfSense-Max-Total-Octets``
  is 32-bit only, so larger quotas are clamped (netmgr's own quota check still disconnects on time).
"""

from __future__ import annotations

from collections.abc import Callable

from captive_portal.policies import Allowance, split_gigawords
from netmgr.models.hotspot import NasDialect
from netmgr.registry import Registry

ReplyAttributes = dict[str, int | str]
Renderer = Callable[[Allowance], ReplyAttributes]

MAX_UINT32 = 2**32 - 1

DIALECTS: Registry[Renderer] = Registry("NAS dialect")


def _common(allowance: Allowance) -> ReplyAttributes:
    attrs: ReplyAttributes = {}
    if allowance.session_timeout_s is not None:
        attrs["Session-Timeout"] = max(1, allowance.session_timeout_s)
    if allowance.idle_timeout_s is not None:
        attrs["Idle-Timeout"] = allowance.idle_timeout_s
    attrs["Acct-Interim-Interval"] = allowance.interim_interval_s
    return attrs


def _bps(kbps: int | None) -> int | None:
    return None if kbps is None else kbps * 1000


def render_mikrotik(allowance: Allowance) -> ReplyAttributes:
    attrs = _common(allowance)
    if allowance.rate_down_kbps is not None or allowance.rate_up_kbps is not None:
        # RouterOS reads rx/tx from its own side: it receives the citizen's upload. 0 means unlimited.
        attrs["Mikrotik-Rate-Limit"] = f"{allowance.rate_up_kbps or 0}k/{allowance.rate_down_kbps or 0}k"
    if allowance.data_bytes is not None:
        gigawords, octets = split_gigawords(allowance.data_bytes)
        attrs["Mikrotik-Total-Limit"] = octets
        attrs["Mikrotik-Total-Limit-Gigawords"] = gigawords
    return attrs


def render_coovachilli(allowance: Allowance) -> ReplyAttributes:
    attrs = _common(allowance)
    down, up = _bps(allowance.rate_down_kbps), _bps(allowance.rate_up_kbps)
    if down is not None:
        attrs["WISPr-Bandwidth-Max-Down"] = min(down, MAX_UINT32)
    if up is not None:
        attrs["WISPr-Bandwidth-Max-Up"] = min(up, MAX_UINT32)
    if allowance.data_bytes is not None:
        gigawords, octets = split_gigawords(allowance.data_bytes)
        attrs["ChilliSpot-Max-Total-Octets"] = octets
        attrs["ChilliSpot-Max-Total-Gigawords"] = gigawords
    return attrs


def render_pfsense(allowance: Allowance) -> ReplyAttributes:
    attrs = _common(allowance)
    down, up = _bps(allowance.rate_down_kbps), _bps(allowance.rate_up_kbps)
    if down is not None:
        attrs["pfSense-Bandwidth-Max-Down"] = min(down, MAX_UINT32)
    if up is not None:
        attrs["pfSense-Bandwidth-Max-Up"] = min(up, MAX_UINT32)
    if allowance.data_bytes is not None:
        attrs["pfSense-Max-Total-Octets"] = min(allowance.data_bytes, MAX_UINT32)
    return attrs


DIALECTS.register(NasDialect.MIKROTIK.value, render_mikrotik)
DIALECTS.register(NasDialect.COOVACHILLI.value, render_coovachilli)
DIALECTS.register(NasDialect.PFSENSE.value, render_pfsense)

# Every attribute a dialect may put in an Access-Accept: the generated FreeRADIUS config strips them
# from an Access-Reject, where only Reply-Message may remain.
POLICY_ATTRIBUTES = (
    "Session-Timeout", "Idle-Timeout", "Acct-Interim-Interval",
    "Mikrotik-Rate-Limit", "Mikrotik-Total-Limit", "Mikrotik-Total-Limit-Gigawords",
    "WISPr-Bandwidth-Max-Down", "WISPr-Bandwidth-Max-Up", "ChilliSpot-Max-Total-Octets",
    "ChilliSpot-Max-Total-Gigawords", "pfSense-Bandwidth-Max-Down", "pfSense-Bandwidth-Max-Up",
    "pfSense-Max-Total-Octets",
)


def render(dialect: str, allowance: Allowance) -> ReplyAttributes:
    """The reply attributes for ``allowance`` in ``dialect``; an unknown dialect raises NotFound listing the known."""
    return DIALECTS.get(str(dialect))(allowance)
