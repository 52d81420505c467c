"""A CLI command against a database it cannot use says so in one line, with what to do, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers.process import free_port

NETMGR = str(Path(sys.executable).parent / "netmgr")


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NETMGR_")}
    return subprocess.run([NETMGR, *args], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env=clean | {"NETMGR_DATA_DIR": str(tmp_path / "var"), **env})


COMMANDS = [("user", "token", "admin"), ("inventory", "export", "devices"), ("secrets", "rotate-key")]


@pytest.mark.parametrize("args", COMMANDS)
def test_a_command_before_the_schema_exists_says_run_db_upgrade_in_one_line(tmp_path: Path,
                                                                            args: tuple[str, ...]) -> None:
    result = _run(tmp_path, *args)
    if result.returncode == 2 and "No such command" in result.stderr:
        pytest.fail(f"netmgr has no command {' '.join(args)}: {result.stderr}")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "netmgr db upgrade" in errors[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.splitlines()) < 8, result.stderr


def test_an_unreachable_database_server_is_named_in_one_line(tmp_path: Path) -> None:
    port = free_port()
    result = _run(tmp_path, "user", "token", "admin",
                  NETMGR_DATABASE_URL=f"postgresql+psycopg://netmgr@127.0.0.1:{port}/netmgr")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "NETMGR_DATABASE_URL" in lines[0]
