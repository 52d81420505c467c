"""Quiet, secret-free diffs of device configs: noise lines (dates, uptimes) dropped, secrets masked."""

from __future__ import annotations

import difflib
from collections.abc import Collection

from provisioning.drivers.base import Driver, strip_noise


def normalise(driver: Driver, text: str, known: Collection[str] = ()) -> str:
    """The config as netmgr stores and compares it: noise removed, secrets masked.

    ``known`` are the device's inventory secrets (``DeviceTarget.secrets``): masked wherever they appear.
    """
    return driver.mask_secrets(strip_noise(text, driver.noise_patterns), known)


def quiet_diff(driver: Driver, before: str, after: str, *, name: str = "running-config",
               known: Collection[str] = ()) -> str:
    """A unified diff of two configs ignoring noise; empty when they differ only in noise or in secrets."""
    a = normalise(driver, before, known).splitlines(keepends=True)
    b = normalise(driver, after, known).splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, fromfile=f"{name} (before)", tofile=f"{name} (after)", n=2))


def text_diff(before: str, after: str, *, a_name: str, b_name: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=a_name, tofile=b_name, n=2))
