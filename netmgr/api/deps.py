"""FastAPI dependencies declared once as ``Annotated`` aliases: sessions, settings, the acting user."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from netmgr.db import TaskSender, send_after_commit
from netmgr.errors import AuthenticationFailed, NetmgrError, PermissionDenied
from netmgr.i18n import normalise
from netmgr.jobs import make_celery, send_once
from netmgr.models import User
from netmgr.security.permissions import Actor, Permission
from netmgr.services import users as users_service
from netmgr.services import web_sessions
from netmgr.settings import Settings
from netmgr.state import AppState

SESSION_ID_KEY = "sid"
"""The cookie holds a server-side session id (``netmgr.services.web_sessions``), never the user id itself."""
SESSION_CSRF_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.netmgr
    return state


def get_settings_dep(request: Request) -> Settings:
    return get_state(request).settings


def get_session(request: Request) -> Iterator[Session]:
    """One database session per request: committed when the handler returns, rolled back on error."""
    session = get_state(request).session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# "function" scope: commit before the response is sent, so a client reading right after a write sees it.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
StateDep = Annotated[AppState, Depends(get_state)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _user_from_request(request: Request, session: Session) -> User | None:
    """Bearer API token first, then the signed session cookie; None when neither is present."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return users_service.authenticate_token(session, header[7:].strip())
    session_id = request.session.get(SESSION_ID_KEY) if "session" in request.scope else None
    if session_id is None:
        return None
    user = web_sessions.user_for_session(session, session_id)
    if user is None:
        request.session.clear()
        return None
    request.state.via_cookie = True
    return user


def _is_api_route(request: Request) -> bool:
    root = request.scope.get("root_path", "")
    path: str = request.scope["path"]
    return path.removeprefix(root).startswith("/api/")


def check_csrf(request: Request) -> None:
    """Cookie-authenticated API calls that change something must echo the session's CSRF token.

    Bearer-token calls need no token (a browser never attaches one by itself). HTML form posts of
    the web UI check their hidden ``csrf_token`` field themselves, so only /api/ routes are checked here.
    """
    if request.method not in UNSAFE_METHODS or not getattr(request.state, "via_cookie", False):
        return
    if not _is_api_route(request):
        return
    expected = request.session.get(SESSION_CSRF_KEY)
    sent = request.headers.get(CSRF_HEADER, "")
    if not isinstance(expected, str) or not expected or not secrets.compare_digest(expected, sent):
        raise PermissionDenied(
            f"missing or wrong {CSRF_HEADER} header: a signed-in browser session must send the csrf_token "
            "it got from POST /api/v1/auth/login (or GET /api/v1/auth/me) with every change"
        )


def get_current_user(request: Request, session: SessionDep) -> User:
    user = _user_from_request(request, session)
    if user is None:
        raise AuthenticationFailed("sign in first, or send an API token as 'Authorization: Bearer <token>'")
    check_csrf(request)
    request.state.user = user
    return user


def get_optional_user(request: Request, session: SessionDep) -> User | None:
    try:
        user = _user_from_request(request, session)
    except NetmgrError:
        return None
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]


def get_actor(request: Request, user: CurrentUser) -> Actor:
    return users_service.actor_for(user, client_ip(request))


CurrentActor = Annotated[Actor, Depends(get_actor)]


def require(permission: Permission) -> object:
    """A dependency that refuses the request unless the actor's role has ``permission``."""

    def _check(actor: CurrentActor) -> Actor:
        actor.require(permission)
        return actor

    return Depends(_check)


# The acting user, refused with 403 before the body is read unless their role has the permission.
InventoryWriter = Annotated[Actor, require(Permission.INVENTORY_WRITE)]
UserManager = Annotated[Actor, require(Permission.USERS_MANAGE)]
AuditReader = Annotated[Actor, require(Permission.AUDIT_READ)]

# List parameters shared by every list endpoint (give the default in the signature: ``offset: Offset = 0``).
def accept_language(request: Request) -> str:
    """The language an API answer's words are in: the first supported one of ``Accept-Language`` (by its
    q-values), English when the client names none (the words are then the English the API always spoke)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        try:
            weight = float(params.strip().removeprefix("q=")) if params.strip().startswith("q=") else 1.0
        except ValueError:
            weight = 0.0
        lang = normalise(tag)
        if lang and weight > 0:
            ranked.append((-weight, position, lang))
    return min(ranked)[2] if ranked else "en"


ApiLanguage = Annotated[str, Depends(accept_language)]
Offset = Annotated[int, Query(ge=0, description="rows to skip")]
Limit = Annotated[int, Query(ge=1, le=1000, description="rows per page (at most 1000)")]
Search = Annotated[str | None, Query(max_length=200, description="free-text search")]


def get_task_sender(request: Request) -> TaskSender:
    """The app's task sender: ``app.state.task_dispatch`` (tests may set their own), else the ``send_task`` of a
    Celery app made from settings, once per app."""
    sender: TaskSender | None = getattr(request.app.state, "task_dispatch", None)
    if sender is None:
        settings = get_state(request).settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)  # the embedded broker's file lives there
        sender = send_once(make_celery(settings))
        request.app.state.task_dispatch = sender
    return sender


def get_deferred_task_sender(request: Request, session: SessionDep) -> TaskSender:
    """The task sender for this request: tasks leave only once the request's transaction has committed."""
    return send_after_commit(session, get_task_sender(request))


DispatchDep = Annotated[TaskSender, Depends(get_deferred_task_sender)]
"""Sends a task by name (``dispatch("provisioning.run_job", kwargs={...})``) once the request's data committed."""
