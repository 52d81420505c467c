"""Users, sign-in and API-token schemas. Passwords and token plaintexts are write-only (a new token is shown once)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from netmgr.models.enums import Role
from netmgr.schemas.common import UtcInstant

Username = Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")]
Language = Annotated[str, Field(pattern=r"^(id|en)$")]


class LoginRequest(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: SecretStr


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    email: str | None
    role: Role
    agency_id: int | None
    is_active: bool
    language: str
    last_login_at: datetime | None
    created_at: datetime


class SessionInfo(BaseModel):
    """Who is signed in, what they may do, and the CSRF token to send as ``X-CSRF-Token`` with cookie sessions."""

    user: UserRead
    permissions: list[str]
    csrf_token: str | None = None


class UserCreate(BaseModel):
    username: Username
    password: SecretStr
    role: Role
    full_name: Annotated[str, Field(max_length=200)] = ""
    email: Annotated[str, Field(max_length=200)] | None = None
    agency_id: int | None = None
    language: Language = "id"


class UserUpdate(BaseModel):
    """Change a user's role, agency or details, or (de)activate them. Omitted fields stay as they are."""

    role: Role | None = None
    is_active: bool | None = None
    full_name: Annotated[str, Field(max_length=200)] | None = None
    email: Annotated[str, Field(max_length=200)] | None = None
    agency_id: int | None = None
    language: Language | None = None


class PasswordReset(BaseModel):
    password: SecretStr


class TokenCreate(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    expires_at: UtcInstant | None = None


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool


class TokenCreated(TokenRead):
    """The new token; ``token`` is the plaintext, shown this once and never stored."""

    token: str
