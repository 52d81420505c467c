"""Users and sign-in: create, authenticate (password or API token), list, change role, deactivate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from netmgr.errors import AuthenticationFailed, Conflict, NotFound, ValidationFailed
from netmgr.models import Agency, ApiToken, User
from netmgr.models.base import utcnow
from netmgr.models.enums import Role
from netmgr.schemas.users import UserUpdate
from netmgr.security.passwords import hash_password, hash_token, needs_rehash, new_api_token, verify_password
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit, login_throttle, web_sessions
from netmgr.services.common import ListResult, ensure_unique, flush_or_conflict, paginate
from netmgr.settings import LoginSettings

MIN_PASSWORD_LENGTH = 10
# A real hash of a random string, so unknown users cost the same time as wrong passwords.
_DUMMY_HASH = hash_password("timing-equaliser-not-a-password")


def actor_for(user: User, source_ip: str | None = None) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=Role(user.role), agency_id=user.agency_id,
                 source_ip=source_ip)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"password must be at least {MIN_PASSWORD_LENGTH} characters", field="password")


def create_user(session: Session, actor: Actor, *, username: str, password: str, role: Role,
                full_name: str = "", email: str | None = None, agency_id: int | None = None,
                language: str = "id") -> User:
    actor.require(Permission.USERS_MANAGE)
    ensure_unique(session, User, "username", username, label="user")
    check_password_strength(password)
    if role == Role.AGENCY_VIEWER:
        if agency_id is None:
            raise ValidationFailed("an agency viewer must belong to an agency", field="agency_id")
        if session.get(Agency, agency_id) is None:
            raise ValidationFailed(f"agency {agency_id} does not exist", field="agency_id")
    user = User(username=username, password_hash=hash_password(password), role=role, full_name=full_name,
                email=email, agency_id=agency_id if role == Role.AGENCY_VIEWER else None, language=language)
    session.add(user)
    flush_or_conflict(session, "user")
    audit.record(session, actor, action="create", entity_type="user", entity_id=user.id,
                 message="user.created", params={"name": username, "role": role.value},
                 after={"username": username, "role": role.value, "agency_id": user.agency_id})
    return user


def authenticate(session: Session, username: str, password: str, *, limits: LoginSettings,
                 source_ip: str | None = None) -> User:
    """The active user with this password, or AuthenticationFailed (same message either way).

    The throttle is checked first, before any hashing; an unknown user name costs one dummy hash, like a wrong
    password, so timing tells nothing. Every attempt is recorded for the throttle (commit it on failure too).

    Raises:
        TooManyAttempts: earlier failures hold this account at this address, or this address (see login_throttle).
        AuthenticationFailed: unknown or deactivated user, or wrong password.
    """
    login_throttle.check(session, limits, username=username, source=source_ip)
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        verify_password(_DUMMY_HASH, password)
        login_throttle.record(session, limits, username=username, source=source_ip, succeeded=False)
        raise AuthenticationFailed("wrong username or password")
    if not verify_password(user.password_hash, password):
        login_throttle.record(session, limits, username=username, source=source_ip, succeeded=False)
        audit.record(session, Actor(user.id, user.username, Role(user.role), user.agency_id, source_ip),
                     action="login_failed", entity_type="user", entity_id=user.id, message="user.wrong_password")
        raise AuthenticationFailed("wrong username or password")
    login_throttle.record(session, limits, username=username, source=source_ip, succeeded=True)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record(session, actor_for(user, source_ip), action="login", entity_type="user", entity_id=user.id,
                 message="user.signed_in", params={"name": user.username})
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def list_users(session: Session, actor: Actor) -> list[User]:
    actor.require(Permission.USERS_MANAGE)
    return list(session.scalars(select(User).order_by(User.username)))


def set_password(session: Session, actor: Actor, user_id: int, password: str) -> None:
    if actor.user_id != user_id:
        actor.require(Permission.USERS_MANAGE)
    check_password_strength(password)
    user = get_user(session, user_id)
    user.password_hash = hash_password(password)
    web_sessions.end_all_sessions(session, user.id)  # a stolen cookie must not outlive the old password
    audit.record(session, actor, action="update", entity_type="user", entity_id=user.id,
                 message="user.password_changed", params={"name": user.username}, after={"password": "set"})


def create_api_token(session: Session, actor: Actor, *, name: str,
                     expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for the acting user. The plaintext is returned once and never stored."""
    actor.require(Permission.TOKENS_OWN)
    if actor.user_id is None:
        raise ValidationFailed("system actor cannot own API tokens")
    plain = new_api_token()
    token = ApiToken(user_id=actor.user_id, name=name, token_hash=hash_token(plain), prefix=plain[:10],
                     expires_at=expires_at)
    session.add(token)
    session.flush()
    audit.record(session, actor, action="create", entity_type="api_token", entity_id=token.id,
                 message="api_token.created",
                 params={"name": name, "prefix": token.prefix})
    return token, plain


def authenticate_token(session: Session, plain: str) -> User:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    now = utcnow()
    if token is None or token.revoked:
        raise AuthenticationFailed("invalid or revoked API token")
    if token.expires_at is not None:
        if token.expires_at < now:
            raise AuthenticationFailed("API token has expired")
    user = token.user
    if not user.is_active:
        raise AuthenticationFailed("the token's user is deactivated")
    token.last_used_at = now
    return user


def revoke_api_token(session: Session, actor: Actor, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and not actor.can(Permission.USERS_MANAGE)):
        raise NotFound(f"API token {token_id} does not exist")
    token.revoked = True
    audit.record(session, actor, action="revoke", entity_type="api_token", entity_id=token.id,
                 message="api_token.revoked", params={"name": token.name})


def list_users_page(session: Session, actor: Actor, *, q: str | None = None, role: Role | None = None,
                    offset: int = 0, limit: int = 50) -> ListResult[User]:
    """One page of users, filtered by role and by ``q`` in username, full name or email. Admins only."""
    actor.require(Permission.USERS_MANAGE)
    stmt = select(User).order_by(User.username)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.full_name.ilike(like), User.email.ilike(like)))
    if role:
        stmt = stmt.where(User.role == role)
    return paginate(session, stmt, offset=offset, limit=limit)


def get_user_as(session: Session, actor: Actor, user_id: int) -> User:
    actor.require(Permission.USERS_MANAGE)
    return get_user(session, user_id)


def _active_admins(session: Session) -> int:
    stmt = select(func.count(User.id)).where(User.role == Role.ADMIN, User.is_active.is_(True))
    return session.scalar(stmt) or 0


def update_user(session: Session, actor: Actor, user_id: int, data: UserUpdate) -> User:
    """Change role, agency, details or active flag. Refuses to leave netmgr without an active admin.

    Raises:
        ValidationFailed: an agency viewer without an existing agency.
        Conflict: the change would demote or deactivate the last active admin.
    """
    actor.require(Permission.USERS_MANAGE)
    user = get_user(session, user_id)
    before = {"role": user.role, "is_active": user.is_active, "agency_id": user.agency_id,
              "full_name": user.full_name, "email": user.email, "language": user.language}
    changes = data.model_dump(exclude_unset=True)
    for key in ("role", "is_active", "full_name", "language"):
        if key in changes and changes[key] is None:
            raise ValidationFailed(f"{key} cannot be empty", field=key)
    was_active_admin = user.role == Role.ADMIN and user.is_active
    for key, value in changes.items():
        setattr(user, key, value)
    if user.role == Role.AGENCY_VIEWER:
        if user.agency_id is None:
            raise ValidationFailed("an agency viewer must belong to an agency", field="agency_id")
        if session.get(Agency, user.agency_id) is None:
            raise ValidationFailed(f"agency {user.agency_id} does not exist", field="agency_id")
    else:
        user.agency_id = None
    if not user.is_active:
        web_sessions.end_all_sessions(session, user.id)
    session.flush()
    if was_active_admin and not (user.role == Role.ADMIN and user.is_active) and _active_admins(session) == 0:
        raise Conflict(f"{user.username} is the last active admin; make another admin first")
    audit.record(session, actor, action="update", entity_type="user", entity_id=user.id,
                 message="user.changed", params={"name": user.username}, before=before,
                 after={"role": user.role, "is_active": user.is_active, "agency_id": user.agency_id,
                        "full_name": user.full_name, "email": user.email, "language": user.language})
    return user


def list_api_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    """The acting user's own API tokens, newest first (revoked ones included, marked)."""
    actor.require(Permission.TOKENS_OWN)
    stmt = select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id.desc())
    return list(session.scalars(stmt))
