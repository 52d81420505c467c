"""Sign in and out of the admin UI with the signed session cookie (keys shared with the API)."""

from __future__ import annotations

from fastapi.responses import Response

from netmgr.errors import AuthenticationFailed, TooManyAttempts
from netmgr.services import users, web_sessions
from netmgr.web.context import (
    SESSION_ID_KEY,
    CsrfChecked,
    FormDep,
    OptionalPage,
    PageContext,
    ensure_csrf_token,
    safe_next,
)
from netmgr.web.pages import page_router

router = page_router()


def _login_page(ctx: PageContext, *, next_path: str, username: str = "", error: str | None = None,
                status_code: int = 200) -> Response:
    return ctx.render("login.html", status_code=status_code, title=ctx._("Sign in"), next_path=next_path,
                      username=username, error=error)


@router.get("/login")
def login_form(ctx: OptionalPage) -> Response:
    next_path = safe_next(ctx.request.query_params.get("next"))
    if ctx.actor is not None:
        return ctx.redirect(next_path)
    ensure_csrf_token(ctx.request)
    return _login_page(ctx, next_path=next_path)


@router.post("/login", dependencies=[CsrfChecked])
def login(ctx: OptionalPage, form: FormDep) -> Response:
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    next_path = safe_next(str(form.get("next") or ""))
    request = ctx.request
    try:
        user = users.authenticate(ctx.db, username, password, limits=ctx.settings.login,
                                  source_ip=request.client.host if request.client else None)
    except TooManyAttempts as exc:
        minutes = max(1, -(-exc.retry_after_s // 60))
        response = _login_page(ctx, next_path=next_path, username=username, status_code=429, error=ctx._(
            "Too many failed sign-ins. Try again in %(minutes)d minutes.", minutes=minutes))
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    except AuthenticationFailed:
        # The failed attempt's audit entry and throttle count are committed with the page (no exception leaves).
        return _login_page(ctx, next_path=next_path, username=username, status_code=401,
                           error=ctx._("Wrong user name or password."))
    request.session.clear()  # a new session id at every sign-in (no fixation)
    request.session[SESSION_ID_KEY] = web_sessions.start_session(ctx.db, user,
                                                                 max_age_s=ctx.settings.session_max_age_s)
    ensure_csrf_token(request)
    response = ctx.redirect(next_path)
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(ctx: OptionalPage) -> Response:
    web_sessions.end_session(ctx.db, ctx.request.session.get(SESSION_ID_KEY))
    ctx.request.session.clear()
    return ctx.redirect("/login")
