"""/api/v1/auth: sign in and out with the signed session cookie, who am I, and API tokens for scripts.

A cookie session gets a CSRF token at sign-in; cookie-authenticated changes must send it back as
``X-CSRF-Token`` (checked in ``netmgr.api.deps``). Bearer-token requests need none.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, status

from netmgr.api.deps import (
    SESSION_CSRF_KEY,
    SESSION_ID_KEY,
    CurrentActor,
    CurrentUser,
    Limit,
    Offset,
    SessionDep,
    SettingsDep,
    client_ip,
)
from netmgr.api.errors import error_response
from netmgr.api.paging import page_of_list
from netmgr.errors import AuthenticationFailed
from netmgr.models import User
from netmgr.schemas.common import Page
from netmgr.schemas.users import LoginRequest, SessionInfo, TokenCreate, TokenCreated, TokenRead, UserRead
from netmgr.security.permissions import ROLE_PERMISSIONS, Actor
from netmgr.services import users, web_sessions

router = APIRouter(prefix="/auth", tags=["auth"])


def _session_info(request: Request, user: User, actor: Actor) -> SessionInfo:
    csrf = request.session.get(SESSION_CSRF_KEY) if getattr(request.state, "via_cookie", False) else None
    return SessionInfo(user=UserRead.model_validate(user),
                       permissions=sorted(p.value for p in ROLE_PERMISSIONS[actor.role]), csrf_token=csrf)


@router.post("/login", response_model=SessionInfo,
             responses={429: error_response("Too many failed sign-ins; wait the seconds in Retry-After")})
def login(data: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep) -> SessionInfo:
    """Check the password and start a cookie session; the answer carries the CSRF token to send with changes."""
    try:
        user = users.authenticate(session, data.username, data.password.get_secret_value(),
                                  source_ip=client_ip(request), limits=settings.login)
    except AuthenticationFailed:
        session.commit()  # keep the audit record and the throttle's count of the failed attempt
        raise
    request.session.clear()  # a new session id at every sign-in (no fixation)
    request.session[SESSION_ID_KEY] = web_sessions.start_session(session, user, max_age_s=settings.session_max_age_s)
    request.session[SESSION_CSRF_KEY] = secrets.token_urlsafe(32)
    request.state.via_cookie = True
    return _session_info(request, user, users.actor_for(user))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, session: SessionDep, actor: CurrentActor) -> None:
    """End this cookie session on the server too: the cookie no longer works, even if someone kept a copy."""
    web_sessions.end_session(session, request.session.get(SESSION_ID_KEY))
    request.session.clear()


@router.get("/me", response_model=SessionInfo)
def me(request: Request, user: CurrentUser, actor: CurrentActor) -> SessionInfo:
    return _session_info(request, user, actor)


@router.get("/tokens", response_model=Page[TokenRead])
def list_tokens(session: SessionDep, actor: CurrentActor, offset: Offset = 0, limit: Limit = 50) -> Page[TokenRead]:
    rows = users.list_api_tokens(session, actor)
    return page_of_list(rows, TokenRead.model_validate, offset=offset, limit=limit)


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(data: TokenCreate, session: SessionDep, actor: CurrentActor) -> TokenCreated:
    """A new API token for the signed-in user. Copy ``token`` now: it is shown only this once."""
    token, plain = users.create_api_token(session, actor, name=data.name, expires_at=data.expires_at)
    return TokenCreated.model_validate({**TokenRead.model_validate(token).model_dump(), "token": plain})


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: int, session: SessionDep, actor: CurrentActor) -> None:
    users.revoke_api_token(session, actor, token_id)
