"""Key rotation: every ``*_encrypted`` column of every table is re-encrypted under the newest key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from netmgr.entrypoints.cli import app as cli_app
from netmgr.errors import PermissionDenied, SecretError
from netmgr.models import AuditLog, Hotspot
from netmgr.models.enums import Role
from netmgr.models.portal import GatewayKind, PortalConfig
from netmgr.security.permissions import SYSTEM, Actor
from netmgr.security.secrets import SecretBox, generate_key
from netmgr.services.secrets_rotation import encrypted_columns, rotate_encryption_key
from netmgr.settings import Settings, get_settings
from netmgr.state import AppState
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY, make_settings

KEY1 = TEST_ENCRYPTION_KEY  # what the ``session`` fixture encrypts with
KEY2 = "Hb0zq1QdM6r3bQ3W7d7pYc8O8y4cVvH6jV3q0n0bY2s="


def _stored_secrets(session: Session) -> list[str]:
    """Every non-empty ciphertext in every ``*_encrypted`` column of every table."""
    out = []
    for columns in encrypted_columns().values():
        for row in session.execute(sa.select(*columns)):
            out.extend(v for v in row if v is not None)
    return out


def _settings(data_dir: Path, database_url: str, *, keys: str) -> Settings:
    return make_settings(data_dir, database_url).model_copy(update={"encryption_keys": SecretStr(keys)})


def _seed(session: Session) -> None:
    site = factories.site(session)
    factories.device(session, site_id=site.id, radius_secret="radius-rahasia")
    factories.device(session, site_id=site.id, snmp_version="v3", snmp_v3_user="monitor",
                     snmp_v3_auth_key="auth-key-123", snmp_v3_priv_key="priv-key-123")
    factories.device(session, site_id=site.id, ssh_password="")  # a NULL secret stays NULL


@pytest.fixture
def rotated_settings(tmp_path: Path, database_url: str) -> Settings:
    return _settings(tmp_path / "rotated", database_url, keys=f"{KEY2},{KEY1}")


def test_after_rotation_the_new_key_alone_decrypts_every_secret(session: Session,
                                                                rotated_settings: Settings) -> None:
    _seed(session)
    before = sorted(SecretBox([KEY1]).decrypt(v) for v in _stored_secrets(session))
    assert len(before) == 8 and "radius-rahasia" in before and "priv-key-123" in before

    state = AppState.build(rotated_settings)
    try:
        with state.session_factory() as rotating:
            steps: list[tuple[int, int]] = []
            result = rotate_encryption_key(rotating, SYSTEM, progress=lambda done, total: steps.append((done, total)))
            rotating.commit()
    finally:
        state.engine.dispose()
    assert (result.rows, result.values) == (3, 8) and result.per_table["devices"] == 3
    assert steps[-1] == (3, 3)

    session.expire_all()
    stored = _stored_secrets(session)
    assert sorted(SecretBox([KEY2]).decrypt(v) for v in stored) == before
    for value in stored:
        with pytest.raises(SecretError):
            SecretBox([KEY1]).decrypt(value)
    entry = session.scalars(sa.select(AuditLog).where(AuditLog.action == "rotate_key")).one()
    assert "8 secret(s) in 3 row(s)" in entry.summary


def test_a_secret_no_configured_key_can_read_stops_the_rotation_and_changes_nothing(
    session: Session, tmp_path: Path, database_url: str
) -> None:
    _seed(session)
    stored = sorted(_stored_secrets(session))
    state = AppState.build(_settings(tmp_path / "wrong", database_url, keys=KEY2))
    try:
        with state.session_factory() as rotating, pytest.raises(SecretError, match="cannot be decrypted"):
            rotate_encryption_key(rotating, SYSTEM)
    finally:
        state.engine.dispose()
    session.expire_all()
    assert sorted(_stored_secrets(session)) == stored


def _hotspot_with_portal(session: Session, *, name: str, faskey_encrypted: str) -> PortalConfig:
    slug = name.lower().replace(" ", "-")
    site = factories.site(session, name=f"Lokasi {name}")
    gateway = factories.device(session, site_id=site.id, name=f"gw-{slug}")
    hotspot = Hotspot(name=name, slug=slug, site_id=site.id, gateway_device_id=gateway.id)
    session.add(hotspot)
    session.flush()
    config = PortalConfig(hotspot_id=hotspot.id, gateway_kind=GatewayKind.OPENNDS, faskey_encrypted=faskey_encrypted)
    session.add(config)
    session.flush()
    return config


def test_rotation_works_when_a_hotspot_has_no_opennds_key(session: Session, rotated_settings: Settings) -> None:
    """An openNDS hotspot without a FAS key stores '' (no secret): rotation leaves it and rotates the others."""
    _hotspot_with_portal(session, name="Taman Kota", faskey_encrypted="")
    keyed = _hotspot_with_portal(session, name="Alun Alun", faskey_encrypted=SecretBox([KEY1]).encrypt("fas-rahasia"))
    session.commit()

    state = AppState.build(rotated_settings)
    try:
        with state.session_factory() as rotating:
            result = rotate_encryption_key(rotating, SYSTEM)
            rotating.commit()
    finally:
        state.engine.dispose()
    assert result.per_table["hotspot_portal_configs"] == 1
    session.expire_all()
    stored = dict(session.execute(sa.select(PortalConfig.id, PortalConfig.faskey_encrypted)).all())
    assert SecretBox([KEY2]).decrypt(stored.pop(keyed.id)) == "fas-rahasia"
    assert list(stored.values()) == [""]


def test_a_secret_that_cannot_be_read_is_named_by_table_row_and_column(
    session: Session, tmp_path: Path, database_url: str
) -> None:
    site = factories.site(session)
    factories.device(session, site_id=site.id, name="gw-baik", radius_secret="radius-rahasia")
    broken = factories.device(session, site_id=site.id, name="gw-rusak", radius_secret="lain")
    broken.radius_secret_encrypted = SecretBox([generate_key()]).encrypt("made with a lost key")
    session.commit()
    state = AppState.build(_settings(tmp_path / "rotated", database_url, keys=f"{KEY2},{KEY1}"))
    try:
        with state.session_factory() as rotating, pytest.raises(SecretError) as caught:
            rotate_encryption_key(rotating, SYSTEM)
    finally:
        state.engine.dispose()
    assert f"devices id={broken.id}" in str(caught.value) and "radius_secret_encrypted" in str(caught.value)


def test_only_roles_that_write_secrets_may_rotate(session: Session) -> None:
    with pytest.raises(PermissionDenied, match="secrets.write"):
        rotate_encryption_key(session, Actor(user_id=1, username="keuangan", role=Role.FINANCE))


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Iterator[None]:
    for name, value in {"NETMGR_DATABASE_URL": database_url, "NETMGR_DATA_DIR": str(tmp_path / "cli-data"),
                        "NETMGR_ENCRYPTION_KEYS": f"{KEY2},{KEY1}", "NETMGR_ENVIRONMENT": "test",
                        "NETMGR_SECRET_KEY": "test-secret-key-for-signing-cookies", "COLUMNS": "200"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NETMGR_CONFIG_FILE", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_rotate_key_reencrypts_and_its_help_explains_the_procedure(session: Session, cli_env: None) -> None:
    _seed(session)
    runner = CliRunner()
    help_text = runner.invoke(cli_app, ["secrets", "rotate-key", "--help"]).output
    assert "FIRST in NETMGR_ENCRYPTION_KEYS" in help_text and "Remove OLD" in help_text

    result = runner.invoke(cli_app, ["secrets", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 8 secret(s) in 3 row(s)" in result.output
    session.expire_all()
    assert all(SecretBox([KEY2]).decrypt(v) for v in _stored_secrets(session))


def test_cli_generate_key_prints_a_new_fernet_key(cli_env: None) -> None:
    result = CliRunner().invoke(cli_app, ["secrets", "generate-key"])
    key = result.output.strip()
    assert result.exit_code == 0 and key != generate_key()
    Fernet(key.encode())  # raises if it is not a valid key


def test_rotation_covers_the_alert_transports_secrets(session: Session, rotated_settings: Settings) -> None:
    from netmgr.models.alerts import AlertTransport, TransportKind
    from netmgr.schemas.alert_transports import AlertTransportCreate
    from netmgr.services import alert_transports

    alert_transports.create_transport(session, SYSTEM, AlertTransportCreate(
        name="Grup NOC", kind=TransportKind.TELEGRAM, config={"chat_ids": ["-100"]}, secret="123:bot-token"))
    session.commit()
    state = AppState.build(rotated_settings)
    try:
        with state.session_factory() as rotating:
            result = rotate_encryption_key(rotating, SYSTEM)
            rotating.commit()
    finally:
        state.engine.dispose()
    assert result.per_table["alert_transports"] == 1
    session.expire_all()
    stored = session.scalar(sa.select(AlertTransport.secret_encrypted))
    assert stored is not None and SecretBox([KEY2]).decrypt(stored) == "123:bot-token"
