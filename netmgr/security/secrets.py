"""Encrypts device and RADIUS secrets at rest with Fernet keys from settings.

Data flow: plaintext from an API/CLI/import → ``SecretBox.encrypt`` → ciphertext column; only the
code that talks to a device calls ``decrypt``. Keys rotate with ``MultiFernet``: the first key
encrypts, every key decrypts, and ``netmgr secrets rotate-key`` re-encrypts all rows.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from netmgr.errors import ConfigError, SecretError

MASK = "********"


def generate_key() -> str:
    """A fresh Fernet key (url-safe base64, 32 bytes)."""
    return Fernet.generate_key().decode("ascii")


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, TypeError):
        # Accept any passphrase too: derive a Fernet key from it, so a hand-typed value still works.
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        return Fernet(base64.urlsafe_b64encode(digest))


class SecretBox:
    """Encrypts and decrypts secrets with an ordered list of keys (newest first)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigError("no encryption key configured: set NETMGR_ENCRYPTION_KEYS")
        self._multi = MultiFernet([_fernet(k) for k in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._multi.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._multi.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as exc:
            raise SecretError(
                "a stored secret cannot be decrypted with the configured keys; "
                "keep the old key in NETMGR_ENCRYPTION_KEYS until `netmgr secrets rotate-key` has run"
            ) from exc

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt one token under the newest key."""
        try:
            return self._multi.rotate(ciphertext.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise SecretError("a stored secret cannot be decrypted with any configured key") from exc

    def encrypt_optional(self, plaintext: str | None) -> str | None:
        return None if plaintext is None or plaintext == "" else self.encrypt(plaintext)

    def decrypt_optional(self, ciphertext: str | None) -> str | None:
        return None if ciphertext is None else self.decrypt(ciphertext)
