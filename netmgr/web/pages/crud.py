"""Create, edit and delete pages shared by every inventory area (agencies, sites, devices, uplinks).

Each area describes itself once in an ``EntityPages``; the same form, field errors, confirmation page and
flash messages follow. Rules stay in the schemas and services.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from netmgr.errors import Conflict, NetmgrError, ValidationFailed
from netmgr.security.permissions import Actor, Permission
from netmgr.web.context import CsrfChecked, FormDep, Page, PageContext
from netmgr.web.forms import FieldSpec, FormState, apply_service_error, apply_validation_error, form_values, to_payload


@dataclass(frozen=True)
class EntityPages:
    """How one inventory area plugs into the shared create/edit/delete pages."""

    prefix: str  # "/devices"
    title_new: str  # msgids
    title_edit: str
    title_delete: str
    fields: Callable[[PageContext, bool], list[FieldSpec]]  # (ctx, creating)
    get: Callable[[Session, Actor, int], Any]
    create: Callable[[Session, Actor, dict[str, Any]], Any]
    update: Callable[[Session, Actor, int, dict[str, Any]], Any]
    delete: Callable[[Session, Actor, int], None]
    values: Callable[[Any], dict[str, str]]
    name: Callable[[Any], str]
    stored_secrets: Callable[[Any], frozenset[str]] = field(default=lambda _obj: frozenset())


def _form_page(ctx: PageContext, pages: EntityPages, *, title: str, action: str, cancel: str,
               specs: list[FieldSpec], state: FormState, status_code: int = 200) -> Response:
    return ctx.render("form.html", status_code=status_code, title=title, action=action, cancel_url=cancel,
                      fields=specs, form=state)


def _save(ctx: PageContext, pages: EntityPages, form: Any, *, object_id: int | None) -> Response:
    actor = ctx.signed_in
    actor.require(Permission.INVENTORY_WRITE)
    creating = object_id is None
    specs = pages.fields(ctx, creating)
    payload = to_payload(form, specs, creating=creating)
    state = FormState(values=form_values(form, specs))
    names = [s.name for s in specs]
    try:
        obj = pages.create(ctx.db, actor, payload) if creating else pages.update(ctx.db, actor, object_id or 0,
                                                                                  payload)
    except ValidationError as exc:
        ctx.db.rollback()
        apply_validation_error(state, exc, ctx._, names)
    except (ValidationFailed, Conflict) as exc:
        ctx.db.rollback()
        apply_service_error(state, exc, ctx._, names)
    else:
        ctx.flash(ctx._("Saved: %(name)s", name=pages.name(obj)))
        return ctx.redirect(f"{pages.prefix}/{obj.id}")
    if not creating:
        state.stored_secrets = pages.stored_secrets(pages.get(ctx.db, actor, object_id or 0))
    title = ctx._(pages.title_new) if creating else ctx._(pages.title_edit)
    action = f"{pages.prefix}/new" if creating else f"{pages.prefix}/{object_id}/edit"
    cancel = pages.prefix if creating else f"{pages.prefix}/{object_id}"
    return _form_page(ctx, pages, title=title, action=action, cancel=cancel, specs=pages.fields(ctx, creating),
                      state=state, status_code=422)


def add_form_routes(router: APIRouter, pages: EntityPages) -> None:
    """GET/POST ``<prefix>/new``, ``<prefix>/{id}/edit`` and ``<prefix>/{id}/delete``."""
    prefix = pages.prefix

    @router.get(f"{prefix}/new")
    def new_form(ctx: Page) -> Response:
        ctx.signed_in.require(Permission.INVENTORY_WRITE)
        specs = pages.fields(ctx, True)
        initial = {s.name: ctx.request.query_params.get(s.name, "") for s in specs if s.kind != "password"}
        return _form_page(ctx, pages, title=ctx._(pages.title_new), action=f"{prefix}/new", cancel=prefix,
                          specs=specs, state=FormState(values=initial))

    @router.post(f"{prefix}/new", dependencies=[CsrfChecked])
    def create(ctx: Page, form: FormDep) -> Response:
        return _save(ctx, pages, form, object_id=None)

    @router.get(f"{prefix}/{{object_id}}/edit")
    def edit_form(object_id: int, ctx: Page) -> Response:
        actor = ctx.signed_in
        actor.require(Permission.INVENTORY_WRITE)
        obj = pages.get(ctx.db, actor, object_id)
        state = FormState(values=pages.values(obj), stored_secrets=pages.stored_secrets(obj))
        return _form_page(ctx, pages, title=ctx._(pages.title_edit), action=f"{prefix}/{object_id}/edit",
                          cancel=f"{prefix}/{object_id}", specs=pages.fields(ctx, False), state=state)

    @router.post(f"{prefix}/{{object_id}}/edit", dependencies=[CsrfChecked])
    def update(object_id: int, ctx: Page, form: FormDep) -> Response:
        return _save(ctx, pages, form, object_id=object_id)

    @router.get(f"{prefix}/{{object_id}}/delete")
    def confirm_delete(object_id: int, ctx: Page) -> Response:
        actor = ctx.signed_in
        actor.require(Permission.INVENTORY_WRITE)
        obj = pages.get(ctx.db, actor, object_id)
        return ctx.render("confirm_delete.html", title=ctx._(pages.title_delete), name=pages.name(obj),
                          action=f"{prefix}/{object_id}/delete", cancel_url=f"{prefix}/{object_id}", error=None)

    @router.post(f"{prefix}/{{object_id}}/delete", dependencies=[CsrfChecked])
    def delete(object_id: int, ctx: Page) -> Response:
        actor = ctx.signed_in
        actor.require(Permission.INVENTORY_WRITE)
        obj = pages.get(ctx.db, actor, object_id)
        name = pages.name(obj)
        try:
            pages.delete(ctx.db, actor, object_id)
        except (Conflict, ValidationFailed) as exc:
            ctx.db.rollback()
            return ctx.render("confirm_delete.html", status_code=409, title=ctx._(pages.title_delete), name=name,
                              action=f"{prefix}/{object_id}/delete", cancel_url=f"{prefix}/{object_id}",
                              error=_delete_problem(ctx, exc))
        ctx.flash(ctx._("Deleted: %(name)s", name=name))
        return ctx.redirect(prefix)


def _delete_problem(ctx: PageContext, exc: NetmgrError) -> str:
    if "still owns sites" in exc.message:
        return ctx._("This agency still owns sites; move or delete them first.")
    if "still has devices" in exc.message:
        return ctx._("This site still has devices; move or delete them first.")
    return ctx._(exc.message)
