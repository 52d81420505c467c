"""The ways a citizen gets in: click-through terms, a printed voucher, or a phone OTP.

Each method takes a ``LoginContext`` and returns a ``LoginResult`` or raises ``LoginRefused``.
"""

from captive_portal.decisions import RefusalReason
from captive_portal.login_methods.base import LoginContext, LoginRefused, LoginResult
from captive_portal.login_methods.otp import ConsoleSmsSender, SmsSender, request_otp, verify_otp
from captive_portal.login_methods.terms import login_with_terms
from captive_portal.login_methods.voucher import login_with_voucher, normalise_code

__all__ = [
    "ConsoleSmsSender",
    "LoginContext",
    "LoginRefused",
    "LoginResult",
    "RefusalReason",
    "SmsSender",
    "login_with_terms",
    "login_with_voucher",
    "normalise_code",
    "request_otp",
    "verify_otp",
]
