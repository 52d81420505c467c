"""Telegram notifications through the Bot API's ``sendMessage`` (HTTP), one request per chat.

Message → POST ``{api_url}/bot<token>/sendMessage`` per chat id → a Delivery per chat. The base URL is a
setting, so an air-gapped site can point it at a relay (and tests at a local server).
"""

from __future__ import annotations

import logging

import httpx

from collectors.notify import Delivery, Message
from netmgr.settings import NotifySettings

log = logging.getLogger(__name__)


class TelegramNotifier:
    """Sends alert texts to Telegram chats (groups or people) as a bot.

    Args:
        token: the bot token from @BotFather (never logged; errors show the URL without it).
        chat_ids: the chats to post to, e.g. ``-1001234567890`` for the NOC group.
        api_url: the Bot API base URL.
        transport: an httpx transport, for custom TLS.
    """

    channel = "telegram"

    def __init__(self, *, token: str, chat_ids: list[str], api_url: str = "https://api.telegram.org",
                 timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None) -> None:
        self._token = token
        self.chat_ids = list(chat_ids)
        self.api_url = api_url.rstrip("/")
        self.timeout_s = timeout_s
        self._transport = transport

    @classmethod
    def from_settings(cls, settings: NotifySettings) -> TelegramNotifier:
        return cls(token=settings.telegram_bot_token.get_secret_value(), chat_ids=settings.telegram_chat_ids,
                   api_url=settings.telegram_api_url, timeout_s=settings.telegram_timeout_s)

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "<token>") if self._token else text

    def send(self, message: Message) -> list[Delivery]:
        if not self.chat_ids:
            return []
        out: list[Delivery] = []
        with httpx.Client(base_url=self.api_url, timeout=self.timeout_s, transport=self._transport) as client:
            for chat_id in self.chat_ids:
                out.append(self._send_one(client, chat_id, message))
        return out

    def _send_one(self, client: httpx.Client, chat_id: str, message: Message) -> Delivery:
        try:
            response = client.post(f"/bot{self._token}/sendMessage",
                                   json={"chat_id": chat_id, "text": message.text,
                                         "disable_web_page_preview": True})
        except httpx.HTTPError as exc:
            error = self._redact(f"Telegram Bot API at {self.api_url} is unreachable: {exc}")
            log.warning("telegram notification to %s failed: %s", chat_id, error)
            return Delivery(self.channel, chat_id, False, error)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and isinstance(body, dict) and body.get("ok") is True:
            return Delivery(self.channel, chat_id, True)
        detail = body.get("description") if isinstance(body, dict) else None
        error = self._redact(f"Telegram answered HTTP {response.status_code}: {detail or response.text[:200]}")
        log.warning("telegram notification to %s failed: %s", chat_id, error)
        return Delivery(self.channel, chat_id, False, error)
