"""Celery tasks of the collectors: thin wrappers that build the SNMP client and call the collector functions.

Beat sends ``collectors.check_availability`` by name (see netmgr.jobs.PERIODIC_TASKS).
"""

from __future__ import annotations

import asyncio
from typing import Any

from celery import shared_task

from collectors.availability import DEFAULT_TRIES, DeviceCheck, check_availability
from collectors.snmp.client import MultiVersionClient
from netmgr.settings import get_settings
from netmgr.state import AppState


async def _check(state: AppState, tries: int) -> list[DeviceCheck]:
    async with MultiVersionClient(max_in_flight=state.settings.snmp.max_in_flight) as snmp:
        return await check_availability(state.session_factory, snmp=snmp, settings=state.settings.snmp, tries=tries)


@shared_task(name="collectors.check_availability", ignore_result=False)  # type: ignore[untyped-decorator]
def check_availability_task(tries: int = DEFAULT_TRIES) -> dict[str, Any]:
    """Probe every SNMP device and record up/down; returns counts and the devices whose status changed."""
    state = AppState.build(get_settings())
    try:
        results = asyncio.run(_check(state, tries))
    finally:
        state.engine.dispose()
    return {
        "checked": len(results),
        "up": sum(1 for r in results if r.status == "up"),
        "down": sum(1 for r in results if r.status == "down"),
        "changed": [{"device_id": r.device_id, "name": r.name, "status": r.status.value, "error": r.error}
                    for r in results if r.changed],
    }
