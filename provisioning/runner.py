"""Runs provisioning on one device (``run_device``), returning a result, not raising.

Per device: back up → render → diff → stop on dry run → arm the device's self-revert → push → reconnect
and disarm (if netmgr cannot reach the device again, it reverts by itself) → verify → save. A refused
command or a failed verify rolls the device back to its backup, and the result says so in the device's
own words. A whole job (canary, concurrency, policy, chunks in other processes) is run by
``provisioning.orchestrator``; its rows are claimed and stored by ``provisioning.job_store``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from netmgr.errors import DeviceError, NetmgrError
from netmgr.models.provisioning import ResultStatus
from provisioning import messages as msg
from provisioning.connections import Connector, DeviceTarget
from provisioning.diff import quiet_diff
from provisioning.drivers.base import DeviceBackup, Driver
from provisioning.messages import say
from provisioning.render import TemplateSource, render_checked
from provisioning.secrets import INVENTORY_SECRETS, SecretValues, placeholder_context, variable_secrets
from provisioning.variables import PurposeVariables, complete

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """What to apply: a purpose, its template and validated variables, and how long the self-revert waits."""

    purpose: str
    template: TemplateSource
    variables: PurposeVariables
    revert_after_s: int = 300


@dataclass
class ProvisionResult:
    """What happened on one device (Nornir-style: ``changed``/``failed`` instead of an exception)."""

    device_id: int
    device_name: str
    status: ResultStatus = ResultStatus.PENDING
    changed: bool = False
    diff: str = ""
    failed: bool = False
    error: str | None = None
    rolled_back: bool = False
    log: list[str] = field(default_factory=list)
    before: str | None = None
    after: str | None = None
    #: The device's inventory secrets, masked in the backups kept from ``before`` and ``after``.
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def fail(self, message: str, *, rolled_back: bool = False) -> ProvisionResult:
        self.failed, self.error, self.rolled_back = True, message, rolled_back
        self.status = ResultStatus.ROLLED_BACK if rolled_back else ResultStatus.FAILED
        self.log.append(say(msg.ERROR, message=message))
        return self


def render_for(target: DeviceTarget, plan: Plan, driver: Driver, *, reveal: bool = True) -> str:
    """The device's desired config, every line of it one ``driver`` can carry: with its real secrets for the
    push, or (``reveal=False``) with a placeholder for each, which is all a person may see.

    Raises ValidationFailed (bad or missing variable, template error, a line the driver refuses).
    """
    context = target.context if reveal else placeholder_context(target.context, INVENTORY_SECRETS)
    return render_checked(driver, plan.template, {**context, **complete(plan.variables, context.get("inventory", {}),
                                                                        reveal=reveal)})


def secrets_of(target: DeviceTarget, plan: Plan) -> SecretValues:
    """Every secret a render for ``target`` may use: the device's, its inventory's and the job's secret variables."""
    inventory = target.context.get("inventory") or {}
    return (target.secrets
            .merged({k: str(inventory[k]) for k in INVENTORY_SECRETS if inventory.get(k)})
            .merged({"ssh_password": target.password, "enable_secret": target.enable_secret})
            .merged(variable_secrets(plan.variables)))


def scrubbed(result: ProvisionResult, secrets: SecretValues) -> ProvisionResult:
    """``result`` with every secret masked by value in what people read: its diff, log and error."""
    result.diff = secrets.hide(result.diff)
    result.log = [secrets.hide(line) for line in result.log]
    result.error = secrets.hide_optional(result.error)
    return result


def _check_restored(target: DeviceTarget, driver: Driver, connect: Connector, before: str,
                    result: ProvisionResult, reconnect_attempts: int, reconnect_delay_s: float) -> str:
    """After a rollback, read the config back and say whether the device is where it started."""
    try:
        with _session(connect, target, driver, reconnect_attempts, reconnect_delay_s) as conn:
            now = driver.get_running_config(conn)
    except DeviceError as exc:
        return say(msg.NOT_READ_BACK, error=exc.message)
    if quiet_diff(driver, before, now, known=target.secrets.texts()):
        result.log.append(quiet_diff(driver, before, now, name=target.name, known=target.secrets.texts()))
        return say(msg.STILL_DIFFERS)
    result.log.append(say(msg.RESTORED))
    return ""


@contextmanager
def _session(connect: Connector, target: DeviceTarget, driver: Driver, attempts: int,
             delay_s: float) -> Iterator[Any]:
    """``connect`` with retries on the way in (the device may be rebooting into a restored config)."""
    with ExitStack() as stack:
        for attempt in range(max(1, attempts)):
            try:
                conn = stack.enter_context(connect(target, driver.netmiko_device_type))
                break
            except DeviceError:
                if attempt + 1 >= attempts:
                    raise
                time.sleep(delay_s)
        yield conn


def may_cut_management(driver: Driver, commands: list[str]) -> bool:
    """Whether pushing ``commands`` could cut netmgr's own path to the device (addresses, routes, firewall…).

    A driver lists the commands that cannot in ``management_safe`` (regexes matched at the start of a
    command, e.g. RouterOS ``/snmp`` or ``/system identity``); a driver without the list, or any command
    outside it, counts as "could cut", so the runner proves reachability with a fresh session.
    """
    safe: tuple[re.Pattern[str], ...] = tuple(getattr(driver, "management_safe", ()))
    return not safe or any(not any(p.match(c) for p in safe) for c in commands)


def _verify_and_save(conn: Any, driver: Driver, backup: DeviceBackup, desired: str,
                     result: ProvisionResult) -> list[str]:
    """Disarm the self-revert, read the config back, and save it, or roll back the lines that did not stick.

    Returns the desired lines the device did not keep (empty: verified and saved). The read-back doubles
    as the post-push config, so verification costs one config read, not two.
    """
    driver.disarm_revert(conn)
    result.log.append(say(msg.DISARMED))
    after = driver.get_running_config(conn)
    # The same check as ``driver.verify``, on the text already read (every shipped driver's verify is this).
    missing = driver.missing_lines(after, "\n".join(desired.splitlines()))
    if missing:
        driver.rollback(conn, backup)
        return missing
    driver.save(conn)
    result.after = after
    return []


def run_device(target: DeviceTarget, plan: Plan, *, driver: Driver, connect: Connector, dry_run: bool,
               reconnect_attempts: int = 5, reconnect_delay_s: float = 2.0) -> ProvisionResult:
    """Apply ``plan`` to one device safely. Never raises for device or template problems.

    SSH sessions: one for a compliant device, a dry run, or a change that cannot cut management (read,
    back up, diff, arm the self-revert, push, disarm, verify, save); a change that could cut management
    adds one short reconnect that proves netmgr still reaches the device before the revert is called off.

    A dry run renders and compares with placeholder secrets only (the running config's secrets replaced by
    the same placeholders), so no template can show a person a secret; only the push renders real ones.
    """
    secrets = secrets_of(target, plan)
    result = _run_device(target, plan, secrets, driver=driver, connect=connect, dry_run=dry_run,
                         reconnect_attempts=reconnect_attempts, reconnect_delay_s=reconnect_delay_s)
    return scrubbed(result, secrets)


def _run_device(target: DeviceTarget, plan: Plan, secrets: SecretValues, *, driver: Driver, connect: Connector,
                dry_run: bool, reconnect_attempts: int, reconnect_delay_s: float) -> ProvisionResult:
    known = secrets.texts()
    result = ProvisionResult(device_id=target.device_id, device_name=target.name, secrets=known)
    try:
        # Masked like the running config it is compared with, so text that happens to equal a secret matches.
        shown = secrets.hide(render_for(target, plan, driver, reveal=False))
        desired = shown if dry_run else render_for(target, plan, driver)
    except NetmgrError as exc:
        return result.fail(exc.message)
    result.log.append(say(msg.RENDERED, template=plan.template.name, lines=len(desired.splitlines())))
    pushed, reconnect, missing = False, False, []
    try:
        with connect(target, driver.netmiko_device_type) as conn:
            running = driver.get_running_config(conn)
            if dry_run:
                seen = secrets.hide(running)
                commands = driver.commands_for(seen, shown)
                result.before = running
                if not commands:
                    result.status = ResultStatus.NO_CHANGE
                    result.log.append(say(msg.COMPLIES))
                    return result
                result.status = ResultStatus.DRY_RUN
                result.diff = quiet_diff(driver, seen, driver.preview(seen, shown), name=target.name, known=known)
                result.log.append(say(msg.WOULD_PUSH, count=len(commands)))
                return result
            commands = driver.commands_for(running, desired)
            if not commands:
                result.before, result.status = running, ResultStatus.NO_CHANGE
                result.log.append(say(msg.COMPLIES))
                return result
            backup = driver.backup(conn, running)
            result.log.append(say(msg.BACKED_UP, ref=backup.ref))
            if backup.text != running:  # the driver prepared the device for the revert (e.g. an IOS archive)
                running = backup.text
                commands = driver.commands_for(running, desired)
            result.before = running
            seen = secrets.hide(running)
            result.diff = quiet_diff(driver, seen, driver.preview(seen, shown), name=target.name, known=known)
            if not commands:
                result.status = ResultStatus.NO_CHANGE
                result.log.append(say(msg.COMPLIES))
                return result
            driver.arm_revert(conn, backup, plan.revert_after_s)
            result.log.append(say(msg.ARMED, seconds=plan.revert_after_s))
            pushed = True
            output = driver.push(conn, commands)
            result.log.append(driver.mask_secrets(output.output, known))
            rejected = output.rejected
            if rejected:
                driver.rollback(conn, backup)
            else:
                reconnect = may_cut_management(driver, commands)
                if not reconnect:
                    result.log.append(say(msg.SAME_SESSION))
                    missing = _verify_and_save(conn, driver, backup, desired, result)
        if rejected:
            tail = _check_restored(target, driver, connect, running, result, reconnect_attempts, reconnect_delay_s)
            return result.fail(say(msg.REFUSED, device=target.name, rejection=driver.mask_secrets(rejected[0], known),
                                   tail=tail), rolled_back=True)
        if reconnect:
            # A fresh session proves the change left the device reachable; only then is the revert called off.
            with _session(connect, target, driver, reconnect_attempts, reconnect_delay_s) as conn:
                result.log.append(say(msg.RECONNECTED))
                missing = _verify_and_save(conn, driver, backup, desired, result)
        if missing:
            kept_out = "; ".join(driver.mask_secrets(m, known) for m in missing[:5])
            tail = _check_restored(target, driver, connect, running, result, reconnect_attempts, reconnect_delay_s)
            return result.fail(say(msg.NOT_KEPT, device=target.name, count=len(missing), lines=kept_out, tail=tail),
                               rolled_back=True)
        result.status, result.changed = ResultStatus.CHANGED, True
        result.log.append(say(msg.PUSHED, count=len(commands)))
        return result
    except DeviceError as exc:
        message = exc.message
        if pushed:
            message = say(msg.SELF_RESTORES, error=message, seconds=plan.revert_after_s)
        return result.fail(message)


# --- the unit of a job (see provisioning.orchestrator) ------------------------------------------------

@dataclass(frozen=True)
class DeviceWork:
    """One device of a job, ready to run without touching the database."""

    target: DeviceTarget
    driver: Driver | None
    plan: Plan | None
    problem: str | None = None


ProgressCallback = Callable[[ProvisionResult], None]

