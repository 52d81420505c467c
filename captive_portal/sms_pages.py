"""The SMS gateway page of the hotspot admin: which gateway sends the OTP codes, whether its credential is set
(never the credential), whether it is failing, and a test SMS to the operator's own phone.

Browser → handler → ``captive_portal.sms`` (describe, send_test) and ``netmgr.services.sms_gateways``
(active_alert) → ``admin/sms.html``.
"""

from __future__ import annotations

from fastapi.responses import Response

from captive_portal import sms
from captive_portal.admin_pages import _render, _t
from captive_portal.login_methods import LoginRefused
from netmgr.errors import NetmgrError
from netmgr.services import sms_gateways
from netmgr.web.context import CsrfChecked, FormDep, Page, PageContext
from netmgr.web.pages import page_router

router = page_router()


def _page(ctx: PageContext, *, result: str = "", error: str = "", phone: str = "",
          status_code: int = 200) -> Response:
    return _render(ctx, "admin/sms.html", status_code=status_code, title=_t(ctx, "SMS gateway"),
                   gateway=sms.describe(ctx.settings), alert=sms_gateways.active_alert(ctx.db), result=result,
                   error=error, phone=phone)


@router.get("/portal-admin/sms")
def sms_gateway(ctx: Page) -> Response:
    return _page(ctx)


@router.post("/portal-admin/sms/test", dependencies=[CsrfChecked])
def sms_test(ctx: Page, form: FormDep) -> Response:
    raw = form.get("phone")
    phone = raw[:32] if isinstance(raw, str) else ""
    try:
        shown = sms.send_test(ctx.settings, phone, session=ctx.db, actor=ctx.signed_in)
    except LoginRefused:
        return _page(ctx, phone=phone, status_code=422,
                     error=_t(ctx, "This is not an Indonesian mobile number. Example: 0812 3456 7890"))
    except NetmgrError as exc:
        if exc.http_status == 403:
            raise
        return _page(ctx, phone=phone, status_code=502,
                     error=_t(ctx, "The gateway did not take the test SMS: %(reason)s", reason=exc.message))
    return _page(ctx, result=_t(ctx, "The gateway took the test SMS to %(phone)s. Check that it arrives.",
                                phone=shown))
