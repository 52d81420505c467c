"""``netmgr user``: create users and API tokens from the command line."""

from __future__ import annotations

import typer

from netmgr.commands.context import CLI_ACTOR, console, db_session, fail
from netmgr.errors import NetmgrError
from netmgr.models.enums import Role
from netmgr.services import agencies, users
from netmgr.services.users import actor_for

user_app = typer.Typer(help="Users and API tokens.", no_args_is_help=True)


@user_app.command("create")
def create(
    username: str,
    role: Role = typer.Option(..., help="admin, operator, finance or agency_viewer"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    full_name: str = typer.Option("", help="shown in the UI"),
    email: str | None = typer.Option(None),
    agency: str | None = typer.Option(None, help="agency code, required for agency_viewer"),
) -> None:
    """Create a user with a role."""
    try:
        with db_session() as session:
            agency_id = None
            if agency:
                row = agencies.get_agency_by_code(session, agency)
                if row is None:
                    raise fail(f"agency {agency!r} does not exist (use its code, e.g. DISDIK)")
                agency_id = row.id
            user = users.create_user(session, CLI_ACTOR, username=username, password=password, role=role,
                                     full_name=full_name, email=email, agency_id=agency_id)
            console.print(f"created user [bold]{user.username}[/] with role {role.value}")
    except NetmgrError as exc:
        raise fail(exc) from exc


@user_app.command("token")
def token(username: str, name: str = typer.Option("cli", help="what the token is for")) -> None:
    """Create an API token for a user and print it once."""
    from sqlalchemy import select

    from netmgr.models import User

    try:
        with db_session() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise fail(f"user {username!r} does not exist")
            _, plain = users.create_api_token(session, actor_for(user), name=name)
            console.print(plain, soft_wrap=True)
    except NetmgrError as exc:
        raise fail(exc) from exc


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
