"""Linux gateways (openNDS/OpenWrt style): the config is a set of files in one directory on the device.

Rendered templates list files (``### file NAME`` then its content). Files ending in ``.sh`` are apply
scripts (e.g. ``tc`` HTB shaping): they run after they change and again after a rollback, so write
them idempotently (``tc qdisc replace``). Every shell command is run with ``; echo __RC=$?`` so a
non-zero exit status counts as a rejected command.
"""

from __future__ import annotations

import base64
import re
import shlex
from collections.abc import Collection, Sequence

from netmgr.errors import DeviceRejected
from provisioning import messages as msg
from provisioning.drivers.base import (
    Connection,
    DeviceBackup,
    LinePlan,
    LineProblem,
    PushOutput,
    mask_repeats,
    mask_with,
)

FILE_HEADER = "### file "
_RC = re.compile(r"__RC=(\d+)")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MASK_RULES = [
    (re.compile(r"(?im)^(\s*(?:ro|rw)?community\s+)\S+"), r"\1********"),
    (re.compile(r"(?im)\b(password|passphrase|secret|wpa_passphrase|key)(\s*[=:]\s*|\s+)(\"[^\"]*\"|\S+)"),
     r"\1\2********"),
]


def numbered_files(text: str) -> tuple[dict[str, list[tuple[int, str]]], list[LineProblem]]:
    """``### file NAME`` blocks as {name: [(line number from 1, line)]}, with the lines no file can take.

    A line before the first header belongs to no file, and a header with a bad name names no file; both
    are problems rather than lines quietly left out (``#`` comments before the first header are allowed).
    """
    files: dict[str, list[tuple[int, str]]] = {}
    problems: list[LineProblem] = []
    current: list[tuple[int, str]] | None = None
    headed = False  # past the first header, a line outside a file follows a bad name: not a comment
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if line.startswith(FILE_HEADER):
            headed = True
            name = line[len(FILE_HEADER):].strip()
            if not _NAME.match(name):
                problems.append(LineProblem(number, line, msg.BAD_FILE_NAME))
                current = None
                continue
            current = files.setdefault(name, [])
            current.append((number, line))
            continue
        if current is not None:
            current.append((number, line))
        elif line.strip() and (headed or not line.lstrip().startswith("#")):
            problems.append(LineProblem(number, line, msg.OUTSIDE_FILE))
    return files, problems


def parse_files(text: str) -> dict[str, str]:
    """``### file NAME`` blocks as {name: content}; content ends with a newline unless empty.

    Raises:
        ValueError: a header with a bad file name (``check_lines`` reports it with its line number).
    """
    numbered, problems = numbered_files(text)
    bad = [p for p in problems if p.text.startswith(FILE_HEADER)]
    if bad:
        raise ValueError(f"bad file name in {bad[0].text!r}: use letters, digits, '.', '_' or '-'")
    return _contents(numbered)


def _contents(numbered: dict[str, list[tuple[int, str]]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, entries in numbered.items():
        lines = [line for _, line in entries if not line.startswith(FILE_HEADER)]
        while lines and not lines[-1].strip():
            lines.pop()
        out[name] = "\n".join(lines) + ("\n" if lines else "")
    return out


def format_files(files: dict[str, str]) -> str:
    return "".join(f"{FILE_HEADER}{name}\n{files[name]}" for name in sorted(files))


class LinuxDriver:
    """Linux over SSH with netmiko's ``linux`` device type; config lives in ``config_dir`` on the device."""

    platform = "linux"
    netmiko_device_type = "linux"
    noise_patterns: Sequence[re.Pattern[str]] = ()

    def __init__(self, config_dir: str = "/etc/netmgr") -> None:
        self.config_dir = config_dir.rstrip("/") or "/"
        self.backup_dir = f"{self.config_dir}.netmgr-backup"
        self.revert_pid = f"{self.config_dir}.netmgr-revert.pid"

    # --- talking to the device -------------------------------------------------------------
    def _run(self, conn: Connection, command: str) -> tuple[int, str]:
        # A subshell keeps the login shell's directory, so netmiko's prompt pattern stays valid.
        # Long lines (base64 file bodies) wrap on the terminal, so the echo cannot be verified.
        out: str = conn.send_command(f"( {command} ); echo __RC=$?", read_timeout=60, cmd_verify=False)
        codes = _RC.findall(out)
        rc = int(codes[-1]) if codes else 255
        lines = [line for line in out.splitlines() if "__RC=$?" not in line and not _RC.search(line)]
        return rc, "\n".join(lines).strip()

    def _check(self, conn: Connection, command: str) -> str:
        rc, out = self._run(conn, command)
        if rc != 0:
            raise DeviceRejected(f"`{command.split(';')[0][:80]}` exited with status {rc}: {out}")
        return out

    def get_running_config(self, conn: Connection) -> str:
        d = shlex.quote(self.config_dir)
        listing = (
            f"if [ -d {d} ]; then cd {d} && for f in *; do [ -f \"$f\" ] || continue; "
            f"printf '{FILE_HEADER}%s\\n' \"$f\"; cat \"$f\"; "
            "if [ -n \"$(tail -c1 \"$f\")\" ]; then echo; fi; done; fi"
        )
        out = self._check(conn, listing)
        return format_files(parse_files(out))

    # --- pure config logic -----------------------------------------------------------------
    def missing_lines(self, running: str, desired: str) -> list[str]:
        have = parse_files(running)
        missing: list[str] = []
        for name, content in parse_files(desired).items():
            current = have.get(name)
            if current == content:
                continue
            present = set((current or "").splitlines())
            lines = [line for line in content.splitlines() if line not in present]
            missing.extend([f"{FILE_HEADER}{name}", *lines] if lines or current is None else [f"{FILE_HEADER}{name}"])
        return missing

    def check_lines(self, desired: str) -> list[LineProblem]:
        return numbered_files(desired)[1]

    def plan(self, running: str, desired: str) -> LinePlan:
        numbered, problems = numbered_files(desired)
        plan = LinePlan(problems=problems)
        have = parse_files(running)
        want = _contents(numbered)
        changed = {n: c for n, c in want.items() if have.get(n) != c}
        for name, entries in numbered.items():
            (plan.pushed if name in changed else plan.compliant).update(number for number, _ in entries)
        if not changed:
            return plan
        d = self.config_dir
        plan.commands.append(f"mkdir -p {shlex.quote(d)}")
        for name in sorted(changed):
            payload = base64.b64encode(changed[name].encode("utf-8")).decode("ascii")
            tmp, final = shlex.quote(f"{d}/.{name}.netmgr-tmp"), shlex.quote(f"{d}/{name}")
            plan.commands.append(f"printf '%s' {payload} | base64 -d > {tmp} && mv {tmp} {final}")
        plan.commands.extend(f"cd {shlex.quote(d)} && sh ./{name}" for name in sorted(changed) if name.endswith(".sh"))
        return plan

    def commands_for(self, running: str, desired: str) -> list[str]:
        return self.plan(running, desired).commands

    def preview(self, running: str, desired: str) -> str:
        return format_files({**parse_files(running), **parse_files(desired)})

    # --- changing the device ---------------------------------------------------------------
    def push(self, conn: Connection, lines: Sequence[str]) -> PushOutput:
        log: list[str] = []
        for line in lines:
            rc, out = self._run(conn, line)
            shown = line if len(line) < 120 else line[:100] + "…"
            log.append(f"$ {shown}\n{out}".rstrip())
            if rc != 0:
                reason = out.splitlines()[-1] if out else "no output"
                return PushOutput("\n".join(log), [f"{shown}: exit status {rc}: {reason}"])
        return PushOutput("\n".join(log))

    def save(self, conn: Connection) -> None:
        self._check(conn, "sync")

    def backup(self, conn: Connection, running: str | None = None) -> DeviceBackup:
        text = running if running is not None else self.get_running_config(conn)
        d, b = shlex.quote(self.config_dir), shlex.quote(self.backup_dir)
        self._check(conn, f"rm -rf {b} && mkdir -p {d} && cp -a {d} {b}")
        return DeviceBackup(ref=self.backup_dir, text=text)

    def _restore_script(self, backup: DeviceBackup) -> str:
        d, b = shlex.quote(self.config_dir), shlex.quote(backup.ref)
        return (f"rm -rf {d} && cp -a {b} {d} && cd {d} && "
                "for s in *.sh; do [ -f \"$s\" ] && sh \"./$s\"; done; true")

    def arm_revert(self, conn: Connection, backup: DeviceBackup, seconds: int) -> None:
        script = f"sleep {int(seconds)}; {self._restore_script(backup)}; rm -f {shlex.quote(self.revert_pid)}"
        self._check(conn, f"nohup sh -c {shlex.quote(script)} </dev/null >/dev/null 2>&1 & "
                          f"echo $! > {shlex.quote(self.revert_pid)}")

    def disarm_revert(self, conn: Connection) -> None:
        p = shlex.quote(self.revert_pid)
        self._check(conn, f"if [ -f {p} ]; then kill $(cat {p}) 2>/dev/null; rm -f {p}; fi; true")

    def rollback(self, conn: Connection, backup: DeviceBackup) -> None:
        self.disarm_revert(conn)
        self._check(conn, self._restore_script(backup))

    def verify(self, conn: Connection, expected_lines: Sequence[str]) -> list[str]:
        return self.missing_lines(self.get_running_config(conn), "\n".join(expected_lines))

    def mask_secrets(self, text: str, known: Collection[str] = ()) -> str:
        return mask_repeats(mask_with(text, _MASK_RULES), known)
