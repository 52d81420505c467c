"""Page routes that turn errors into friendly HTML instead of JSON.

Signed out → redirect to the login page with ``next``; PermissionDenied → 403 page; NotFound → 404 page;
a missing CSRF token → 403 page; all in the user's language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from netmgr.db import is_nul_in_text, is_out_of_range
from netmgr.errors import AuthenticationFailed, NotFound, PermissionDenied
from netmgr.web.context import CsrfRejected, LoginRequired, PageContext, bare_context

log = logging.getLogger(__name__)


def _context(request: Request) -> PageContext:
    ctx = getattr(request.state, "web_page", None)
    return ctx if isinstance(ctx, PageContext) else bare_context(request)


def login_redirect(request: Request, next_path: str) -> Response:
    url = "/login?" + urlencode({"next": next_path})
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, status_code: int, reason: str) -> Response:
    ctx = _context(request)
    pages = {
        "csrf": (ctx._("Form expired"), ctx._("This form was not accepted because its security token is missing or "
                                               "expired. Go back, reload the page and try again.")),
        "forbidden": (ctx._("Not allowed"), ctx._("Your role does not allow this page or action. "
                                                  "Ask an administrator if you need it.")),
        "not_found": (ctx._("Not found"), ctx._("What you are looking for does not exist, or you may not see it.")),
        "nul_text": (ctx._("Text not accepted"), ctx._("A field holds an invisible control character (often pasted "
                                                       "from another program) that cannot be stored. Go back, "
                                                       "type the text again and save.")),
    }
    title, message = pages[reason]
    return ctx.render("error.html", status_code=status_code, title=title, message=message)


class PageRoute(APIRoute):
    """An APIRoute whose handler maps netmgr's errors to pages (use as the router's ``route_class``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (LoginRequired, AuthenticationFailed) as exc:
                next_path = exc.next_path if isinstance(exc, LoginRequired) else request.url.path
                return login_redirect(request, next_path)
            except CsrfRejected:
                log.info("CSRF token missing or wrong on %s %s", request.method, request.url.path)
                return error_page(request, 403, "csrf")
            except PermissionDenied:
                return error_page(request, 403, "forbidden")
            except NotFound:
                return error_page(request, 404, "not_found")
            except Exception as exc:
                if is_out_of_range(exc):  # an id no row can have: nothing to show, as for any unknown id
                    return error_page(request, 404, "not_found")
                if is_nul_in_text(exc):  # PostgreSQL cannot store it: the form's fault, not the server's
                    return error_page(request, 422, "nul_text")
                raise

        return page_handler
