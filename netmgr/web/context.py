"""Per-request plumbing for HTML pages: database session, signed-in user, language, CSRF and rendering.

Request → ``PageContext`` (session, actor, language) → a page handler calls one service → ``ctx.render``.
The session cookie keys are shared with the API: ``request.session["sid"]`` (a server-side session id, see
``netmgr.services.web_sessions``) and ``["csrf"]``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from netmgr.db import session_scope
from netmgr.models import User
from netmgr.security.permissions import Actor, Permission
from netmgr.services import users as users_service
from netmgr.services import web_sessions
from netmgr.settings import Settings
from netmgr.state import AppState
from netmgr.web import i18n, nav, rendering

SESSION_ID_KEY = "sid"
SESSION_CSRF_KEY = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
FLASH_KEY = "flash"


class LoginRequired(Exception):
    """Nobody is signed in; the page redirects to the login form and comes back to ``next_path``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRejected(Exception):
    """A state-changing request came without the session's CSRF token."""


def safe_next(value: str | None) -> str:
    """``value`` if it is a same-site relative path (``/devices?q=ap``), else ``/`` — never an open redirect."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ch in value for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def ensure_csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF_KEY] = token
    return token


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.netmgr
    return state


def get_web_session(request: Request) -> Iterator[Session]:
    """One database session per page: committed before the response is sent, rolled back on error."""
    with session_scope(_state(request).session_factory) as session:
        yield session


# scope="function" closes the session before the response goes out, so a redirect after a POST
# never reaches the browser before the change is committed.
WebSession = Annotated[Session, Depends(get_web_session, scope="function")]


async def get_form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(get_form)]


async def verify_csrf(request: Request) -> None:
    """Raise CsrfRejected unless the header or the form field carries the session's token."""
    expected = request.session.get(SESSION_CSRF_KEY)
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not expected or not sent or not secrets.compare_digest(expected, sent):
        raise CsrfRejected()


CsrfChecked = Depends(verify_csrf)


@dataclass
class PageContext:
    """Everything a page handler needs; plain values only, so error pages render after a rollback."""

    request: Request
    env: Environment
    settings: Settings
    lang: str
    actor: Actor | None = None
    display_name: str = ""
    session: Session | None = None
    _flashes: list[dict[str, str]] = field(default_factory=list)

    @property
    def db(self) -> Session:
        if self.session is None:
            raise RuntimeError("this page context has no database session")
        return self.session

    @property
    def signed_in(self) -> Actor:
        if self.actor is None:
            raise LoginRequired(self.request.url.path)
        return self.actor

    def can(self, permission: Permission) -> bool:
        return self.actor is not None and self.actor.can(permission)

    def _(self, message: str, **values: Any) -> str:
        with rendering.catalog_for(self.lang):
            text = rendering.gettext(message)
        return text % values if values else text

    def flash(self, message: str, kind: str = "ok") -> None:
        """Show ``message`` (already translated) on the next page this browser renders."""
        pending = list(self.request.session.get(FLASH_KEY, []))
        pending.append({"kind": kind, "text": message})
        self.request.session[FLASH_KEY] = pending

    def url_with(self, **params: Any) -> str:
        """The current URL with query parameters replaced (None removes one)."""
        query = dict(self.request.query_params)
        for key, value in params.items():
            if value is None or value == "":
                query.pop(key, None)
            else:
                query[key] = str(value)
        return self.request.url.path + (f"?{urlencode(query)}" if query else "")

    def render(self, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        flashes = list(self.request.session.pop(FLASH_KEY, [])) if "session" in self.request.scope else []
        actor = self.actor
        base = {
            "ctx": self,
            "request": self.request,
            "actor": actor,
            "display_name": self.display_name,
            "nav_items": nav.NAV.visible_to(actor) if actor else [],
            "current_path": self.request.url.path,
            "csrf_token": ensure_csrf_token(self.request) if "session" in self.request.scope else "",
            "languages": i18n.LANGUAGES,
            "language_names": i18n.LANGUAGE_NAMES,
            "regency_name": self.settings.regency_name,
            "flashes": flashes,
            "Permission": Permission,
        }
        html = rendering.render(self.env, template, self.lang, {**base, **context})
        response = HTMLResponse(html, status_code=status_code)
        self._remember_language(response)
        return response

    def redirect(self, url: str) -> Response:
        """303 to ``url`` after a POST; htmx requests get ``HX-Redirect`` so the whole page changes."""
        if self.request.headers.get("HX-Request") == "true":
            response: Response = Response(status_code=204, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=303)
        self._remember_language(response)
        return response

    def _remember_language(self, response: Response) -> None:
        chosen = i18n.normalise(self.request.query_params.get("lang"))
        if chosen:
            response.set_cookie(i18n.LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax",
                                httponly=True, secure=self.settings.cookie_secure)


def _web_env(request: Request) -> Environment:
    env: Environment = request.app.state.netmgr_web_env
    return env


def language_for(request: Request, settings: Settings, user_language: str | None) -> str:
    return i18n.choose_language(
        query=request.query_params.get("lang"),
        cookie=request.cookies.get(i18n.LANG_COOKIE),
        user_language=user_language,
        default=settings.default_language,
    )


def bare_context(request: Request) -> PageContext:
    """A context without database or user, for the login page and error pages."""
    settings = _state(request).settings
    return PageContext(request=request, env=_web_env(request), settings=settings,
                       lang=language_for(request, settings, None))


def _signed_in_user(request: Request, session: Session) -> User | None:
    session_id = request.session.get(SESSION_ID_KEY)
    if session_id is None:
        return None
    user = web_sessions.user_for_session(session, session_id)
    if user is None:  # signed out elsewhere, expired, or the user deactivated: just "signed out"
        request.session.pop(SESSION_ID_KEY, None)
    return user


def optional_page(request: Request, session: WebSession) -> PageContext:
    """The page context; ``actor`` is None when nobody is signed in."""
    settings = _state(request).settings
    user = _signed_in_user(request, session)
    ctx = PageContext(
        request=request,
        env=_web_env(request),
        settings=settings,
        lang=language_for(request, settings, user.language if user else None),
        actor=users_service.actor_for(user, request.client.host if request.client else None) if user else None,
        display_name=(user.full_name or user.username) if user else "",
        session=session,
    )
    request.state.web_page = ctx
    return ctx


def signed_in_page(request: Request, ctx: Annotated[PageContext, Depends(optional_page)]) -> PageContext:
    if ctx.actor is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return ctx


OptionalPage = Annotated[PageContext, Depends(optional_page)]
Page = Annotated[PageContext, Depends(signed_in_page)]
