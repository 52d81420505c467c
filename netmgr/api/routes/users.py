"""/api/v1/users: admins list, create, change (role, agency, active) and reset passwords of users."""

from __future__ import annotations

from fastapi import APIRouter, status

from netmgr.api.deps import Limit, Offset, Search, SessionDep, UserManager
from netmgr.api.paging import page_of
from netmgr.models.enums import Role
from netmgr.schemas.common import Page
from netmgr.schemas.users import PasswordReset, UserCreate, UserRead, UserUpdate
from netmgr.services import users

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=Page[UserRead])
def list_users(session: SessionDep, actor: UserManager, q: Search = None, role: Role | None = None,
               offset: Offset = 0, limit: Limit = 50) -> Page[UserRead]:
    result = users.list_users_page(session, actor, q=q, role=role, offset=offset, limit=limit)
    return page_of(result, UserRead.model_validate)


@router.post("", response_model=UserRead, status_code=status.HTTP_201_CREATED)
def create_user(data: UserCreate, session: SessionDep, actor: UserManager) -> UserRead:
    user = users.create_user(session, actor, username=data.username, password=data.password.get_secret_value(),
                             role=data.role, full_name=data.full_name, email=data.email, agency_id=data.agency_id,
                             language=data.language)
    return UserRead.model_validate(user)


@router.get("/{user_id}", response_model=UserRead)
def get_user(user_id: int, session: SessionDep, actor: UserManager) -> UserRead:
    return UserRead.model_validate(users.get_user_as(session, actor, user_id))


@router.patch("/{user_id}", response_model=UserRead)
def update_user(user_id: int, data: UserUpdate, session: SessionDep, actor: UserManager) -> UserRead:
    return UserRead.model_validate(users.update_user(session, actor, user_id, data))


@router.post("/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
def reset_password(user_id: int, data: PasswordReset, session: SessionDep, actor: UserManager) -> None:
    users.set_password(session, actor, user_id, data.password.get_secret_value())
