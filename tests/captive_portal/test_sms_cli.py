"""``netmgr secrets encrypt`` makes the encrypted gateway credential; ``netmgr sms test`` sends through Kannel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_ENCRYPTION_KEY
from tests.servers.kannel import PASSWORD, USERNAME, Kannel, fresh_phone

NETMGR = str(Path(sys.executable).parent / "netmgr")


def _run(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NETMGR_")}
    return subprocess.run([NETMGR, *args], capture_output=True, text=True, timeout=60, cwd=tmp_path, input=stdin,
                          env=clean | {"NETMGR_DATA_DIR": str(tmp_path / "var"),
                                       "NETMGR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY, **env})


def test_encrypted_password_from_the_cli_lets_sms_test_reach_the_smsc(tmp_path: Path, kannel: Kannel) -> None:
    encrypted = _run(tmp_path, "secrets", "encrypt", stdin=PASSWORD + "\n")
    assert encrypted.returncode == 0, encrypted.stderr
    token = encrypted.stdout.strip()
    assert PASSWORD not in encrypted.stdout + encrypted.stderr
    env = {"NETMGR_PORTAL__SMS_SENDER": "kannel", "NETMGR_SMS__KANNEL_URL": kannel.sendsms_url,
           "NETMGR_SMS__KANNEL_USERNAME": USERNAME, "NETMGR_SMS__SECRET_ENCRYPTED": token}
    typed, msisdn = fresh_phone()
    sent = _run(tmp_path, "sms", "test", typed, **env)
    assert sent.returncode == 0, sent.stderr
    assert f"+62 812 •••• {typed[-4:]}" in sent.stdout
    [(_, _, text)] = kannel.received(msisdn)
    assert text.startswith("netmgr: SMS uji melalui gateway kannel.")


def test_sms_test_names_what_broke_in_one_line(tmp_path: Path, kannel: Kannel) -> None:
    env = {"NETMGR_PORTAL__SMS_SENDER": "kannel", "NETMGR_SMS__KANNEL_URL": kannel.sendsms_url,
           "NETMGR_SMS__KANNEL_USERNAME": USERNAME}
    result = _run(tmp_path, "sms", "test", "0812-7000-0002", **env)
    assert result.returncode == 1
    assert " ".join(result.stderr.split()) == (
        f"error: Kannel at {kannel.sendsms_url.split('/')[2]} answered HTTP 403: Authorization failed for sendsms")
