"""Notification senders against real local servers: SMTP (aiosmtpd) and a Bot API ``sendMessage`` server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from collectors.notify import NOTIFIERS, Message, Notifier, build_notifiers
from collectors.notify import messages as texts
from collectors.notify.email import EmailNotifier
from collectors.notify.telegram import TelegramNotifier
from netmgr.errors import NotFound
from netmgr.models.alerts import AlertKind
from netmgr.settings import NotifySettings
from tests.servers.process import free_port
from tests.servers.smtp import smtp_server
from tests.servers.telegram import bot_api_server

DOWN_AT = datetime(2026, 3, 2, 7, 5, tzinfo=UTC)  # 14:05 WIB
DOWN = texts.opened(AlertKind.DEVICE_DOWN, {"name": "ap-taman-kota-01", "site": "Taman Kota Sampit",
                                            "since": DOWN_AT}, "Asia/Jakarta")
TOKEN = "123456:ABC-test-token"  # noqa: S105 - a fake token for the local Bot API


def test_device_down_message_is_indonesian_with_wib_time() -> None:
    assert DOWN.text == "🔴 PERANGKAT MATI: ap-taman-kota-01 (Taman Kota Sampit) tidak merespons sejak 14:05 WIB"
    assert DOWN.subject == "[netmgr] Perangkat mati: ap-taman-kota-01"


def test_times_follow_the_configured_zone_and_durations_read_naturally() -> None:
    back = texts.resolved(AlertKind.DEVICE_DOWN, {"name": "ap-1", "site": "", "since": DOWN_AT,
                                                  "at": datetime(2026, 3, 2, 9, 20, tzinfo=UTC)}, "Asia/Makassar")
    assert back.text == "🟢 PERANGKAT PULIH: ap-1 kembali merespons pukul 17:20 WITA (mati 2 jam 15 menit)"
    assert texts.clock(DOWN_AT, "Asia/Jayapura") == "16:05 WIT"


def test_email_reaches_every_recipient_through_a_real_smtp_server() -> None:
    with smtp_server() as box:
        notifier = EmailNotifier(host=box.host, port=box.port, sender="netmgr@kotimkab.go.id",
                                 recipients=["noc@kotimkab.go.id", "kabid@kotimkab.go.id"])
        deliveries = notifier.send(DOWN)
    assert [(d.recipient, d.ok) for d in deliveries] == [("noc@kotimkab.go.id", True), ("kabid@kotimkab.go.id", True)]
    ((rcpts, mail),) = box.messages
    assert rcpts == ["noc@kotimkab.go.id", "kabid@kotimkab.go.id"]
    assert mail["Subject"] == "[netmgr] Perangkat mati: ap-taman-kota-01"
    assert mail["From"] == "netmgr@kotimkab.go.id"
    body = mail.get_body()
    assert body is not None
    assert "tidak merespons sejak 14:05 WIB" in body.get_content()


def test_email_uses_starttls_and_login_when_configured() -> None:
    with smtp_server(starttls=True, login=("netmgr", "rahasia")) as box:
        notifier = EmailNotifier(host=box.host, port=box.port, sender="netmgr@kotimkab.go.id",
                                 recipients=["noc@kotimkab.go.id"], starttls=True, user="netmgr", password="rahasia",
                                 tls_context=box.client_tls_context())
        assert [d.ok for d in notifier.send(DOWN)] == [True]
        wrong = EmailNotifier(host=box.host, port=box.port, sender="netmgr@kotimkab.go.id",
                              recipients=["noc@kotimkab.go.id"], starttls=True, user="netmgr", password="salah",
                              tls_context=box.client_tls_context())
        failed = wrong.send(DOWN)
    assert len(box.messages) == 1
    assert not failed[0].ok and "535" in failed[0].error


def test_email_reports_a_refused_recipient_and_still_delivers_to_the_others() -> None:
    with smtp_server() as box:
        box.refuse.add("gone@kotimkab.go.id")
        notifier = EmailNotifier(host=box.host, port=box.port, sender="netmgr@kotimkab.go.id",
                                 recipients=["noc@kotimkab.go.id", "gone@kotimkab.go.id"])
        deliveries = {d.recipient: d for d in notifier.send(DOWN)}
    assert deliveries["noc@kotimkab.go.id"].ok
    assert not deliveries["gone@kotimkab.go.id"].ok and "550" in deliveries["gone@kotimkab.go.id"].error
    assert [r for r, _ in box.messages] == [["noc@kotimkab.go.id"]]


def test_email_to_an_unreachable_server_fails_without_raising() -> None:
    notifier = EmailNotifier(host="127.0.0.1", port=free_port(), sender="a@b.c", recipients=["x@b.c"], timeout_s=2)
    (delivery,) = notifier.send(DOWN)
    assert not delivery.ok and "SMTP 127.0.0.1" in delivery.error


def test_telegram_posts_the_indonesian_text_to_every_chat() -> None:
    with bot_api_server(TOKEN, {"-1001", "-1002"}) as api:
        notifier = TelegramNotifier(token=TOKEN, chat_ids=["-1001", "-1002"], api_url=api.url)
        deliveries = notifier.send(DOWN)
    assert [(d.recipient, d.ok) for d in deliveries] == [("-1001", True), ("-1002", True)]
    assert api.texts("-1001") == [DOWN.text] and api.texts("-1002") == [DOWN.text]


def test_telegram_failures_are_per_chat_and_never_show_the_token() -> None:
    with bot_api_server(TOKEN, {"-1001"}, blocked={"-1003"}) as api:
        deliveries = TelegramNotifier(token=TOKEN, chat_ids=["-1003", "-1001"], api_url=api.url).send(DOWN)
        wrong_token = TelegramNotifier(token="999:WRONG", chat_ids=["-1001"], api_url=api.url).send(DOWN)
    assert [(d.recipient, d.ok) for d in deliveries] == [("-1003", False), ("-1001", True)]
    assert "blocked" in deliveries[0].error
    assert not wrong_token[0].ok and "401" in wrong_token[0].error
    unreachable = TelegramNotifier(token=TOKEN, chat_ids=["-1001"], api_url=f"http://127.0.0.1:{free_port()}",
                                   timeout_s=2).send(DOWN)
    assert not unreachable[0].ok and "unreachable" in unreachable[0].error
    assert all(TOKEN not in d.error for d in [*deliveries, *wrong_token, *unreachable])


def test_notifiers_are_built_from_settings_for_enabled_channels_only() -> None:
    with bot_api_server(TOKEN, {"-1001"}) as api, smtp_server() as box:
        settings = NotifySettings(email_enabled=True, smtp_host=box.host, smtp_port=box.port,
                                  email_recipients=["noc@kotimkab.go.id"], telegram_enabled=True,
                                  telegram_bot_token=SecretStr(TOKEN), telegram_chat_ids=["-1001"],
                                  telegram_api_url=api.url)
        notifiers = build_notifiers(settings)
        assert [n.channel for n in notifiers] == ["email", "telegram"]
        assert all(isinstance(n, Notifier) for n in notifiers)
        for n in notifiers:
            assert all(d.ok for d in n.send(Message("s", "halo")))
    assert api.texts() == ["halo"] and len(box.messages) == 1
    assert build_notifiers(NotifySettings()) == []


def test_unknown_notifier_lists_the_known_channels() -> None:
    with pytest.raises(NotFound, match="known: email, telegram"):
        NOTIFIERS.get("sms")
