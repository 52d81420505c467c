"""The users page (admins): list with search and role filter, and a form to create a user."""

from __future__ import annotations

from fastapi.responses import Response
from pydantic import ValidationError

from netmgr.errors import Conflict, ValidationFailed
from netmgr.models.enums import Role
from netmgr.schemas.users import UserCreate
from netmgr.security.permissions import Permission
from netmgr.services import users
from netmgr.web.context import CsrfChecked, FormDep, Page, PageContext
from netmgr.web.forms import FieldSpec, FormState, apply_service_error, apply_validation_error, form_values, to_payload
from netmgr.web.labels import LANGUAGE_LABELS, ROLES, _
from netmgr.web.pages import Pager, enum_or_none, page_router, query
from netmgr.web.pages.sites import agency_choices

router = page_router()


def _fields(ctx: PageContext) -> list[FieldSpec]:
    return [
        FieldSpec("username", _("User name"), required=True),
        FieldSpec("full_name", _("Full name")),
        FieldSpec("email", _("E-mail"), kind="email", nullable=True),
        FieldSpec("role", _("Role"), kind="select", required=True, choices=tuple(ROLES.items())),
        FieldSpec("agency_id", _("Agency"), kind="select", nullable=True, choices=agency_choices(ctx),
                  translate_choices=False, help=_("Only for agency viewers")),
        FieldSpec("language", _("Language"), kind="select", choices=tuple(LANGUAGE_LABELS.items()),
                  translate_choices=False),
        FieldSpec("password", _("Password"), kind="password", required=True, help=_("At least 10 characters")),
    ]


def _form(ctx: PageContext, state: FormState, status_code: int = 200) -> Response:
    return ctx.render("form.html", status_code=status_code, title=ctx._("New user"), action="/users/new",
                      cancel_url="/users", fields=_fields(ctx), form=state)


@router.get("/users")
def user_list(ctx: Page) -> Response:
    pager = Pager.build(query(ctx, "page"))
    role = enum_or_none(Role, query(ctx, "role"))
    result = users.list_users_page(ctx.db, ctx.signed_in, q=query(ctx, "q"), role=role, offset=pager.offset,
                                   limit=pager.limit)
    return ctx.render("users/list.html", title=ctx._("Users"), rows=result.items,
                      pager=pager.with_total(result.total), q=query(ctx, "q") or "", role=role.value if role else "",
                      roles=ROLES)


@router.get("/users/new")
def new_user_form(ctx: Page) -> Response:
    ctx.signed_in.require(Permission.USERS_MANAGE)
    return _form(ctx, FormState(values={"language": ctx.settings.default_language}))


@router.post("/users/new", dependencies=[CsrfChecked])
def create_user(ctx: Page, form: FormDep) -> Response:
    actor = ctx.signed_in
    actor.require(Permission.USERS_MANAGE)
    specs = _fields(ctx)
    state = FormState(values=form_values(form, specs))
    names = [s.name for s in specs]
    try:
        data = UserCreate.model_validate(to_payload(form, specs, creating=True))
        user = users.create_user(ctx.db, actor, username=data.username, password=data.password.get_secret_value(),
                                 role=data.role, full_name=data.full_name, email=data.email,
                                 agency_id=data.agency_id, language=data.language)
    except ValidationError as exc:
        ctx.db.rollback()
        apply_validation_error(state, exc, ctx._, names)
    except (ValidationFailed, Conflict) as exc:
        ctx.db.rollback()
        apply_service_error(state, exc, ctx._, names)
    else:
        ctx.flash(ctx._("Saved: %(name)s", name=user.username))
        return ctx.redirect("/users")
    return _form(ctx, state, status_code=422)
