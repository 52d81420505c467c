"""Logging set-up, with a filter that scrubs anything that looks like a secret."""

from __future__ import annotations

import logging
import re

from netmgr.settings import Settings

_SECRET_PATTERNS = [
    re.compile(r"(?i)(password|passwd|secret|community|auth[_-]?key|priv[_-]?key|token)(\s*[=:]\s*)(\S+)"),
    re.compile(r"gAAAAA[A-Za-z0-9_\-=]{20,}"),  # Fernet ciphertext
    re.compile(r"nm_[A-Za-z0-9_\-]{20,}"),  # API tokens
]


class SecretScrubber(logging.Filter):
    """Masks secret-looking values in every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = message
        for pattern in _SECRET_PATTERNS:
            scrubbed = pattern.sub(lambda m: (m.group(1) + m.group(2) + "********") if m.lastindex else "********",
                                   scrubbed)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretScrubber())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
