"""Maps netmgr errors and request-validation errors to JSON a person can act on, and documents that JSON.

Every error answer has one shape, ``netmgr.schemas.common.ErrorRead``; the OpenAPI says so for every operation
(FastAPI's own 422 schema, whose ``detail`` is an array, is replaced), so clients and the fuzzer agree with the code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from netmgr.db import NUL_IN_TEXT_MESSAGE, OUT_OF_RANGE_MESSAGE, is_nul_in_text, is_out_of_range
from netmgr.errors import ImportFailed, NetmgrError, TooManyAttempts, ValidationFailed
from netmgr.schemas.common import ErrorRead

log = logging.getLogger(__name__)


def _field_path(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "request"


def validation_problems(exc: RequestValidationError) -> list[dict[str, str]]:
    problems = []
    for err in exc.errors():
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        problems.append({"field": _field_path(tuple(err.get("loc", ()))), "problem": msg})
    return problems


# Error answers any operation may give: a body that is not JSON (400), not signed in (401), a role or agency
# that may not (403), a missing row (404), a duplicate or a state that forbids it (409), a body over the cap
# (413), invalid input (422). Operations that may answer more (429, 502, 503) say so on their route.
SHARED_ERRORS: dict[int, str] = {
    400: "The body is not valid JSON or not the declared media type.",
    401: "Not signed in: send 'Authorization: Bearer <token>' or sign in.",
    403: "Your role (or agency) does not allow this.",
    404: "The thing asked for does not exist.",
    409: "It conflicts with what exists (a duplicate, or a state that does not allow it).",
    413: "The request body is larger than netmgr accepts.",
    422: "The request is invalid; 'errors' names each bad field.",
}

_ERROR_REF = {"$ref": f"#/components/schemas/{ErrorRead.__name__}"}


def error_response(description: str) -> dict[str, Any]:
    """An OpenAPI response whose body is :class:`ErrorRead` (for a route's ``responses=``)."""
    return {"model": ErrorRead, "description": description}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Give every operation of an OpenAPI ``schema`` the shared error answers, each with the :class:`ErrorRead`
    body, and drop FastAPI's ``HTTPValidationError`` (netmgr never answers it)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorRead.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components[ErrorRead.__name__] = error_schema
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in SHARED_ERRORS.items():
                if status == 422 or str(status) not in responses:
                    responses[str(status)] = {"description": description,
                                              "content": {"application/json": {"schema": _ERROR_REF}}}
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def _openapi_with_errors(app: FastAPI) -> Callable[[], dict[str, Any]]:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(build())
        return app.openapi_schema

    return openapi


def install_error_handlers(app: FastAPI) -> None:
    app.openapi = _openapi_with_errors(app)  # type: ignore[method-assign]
    @app.exception_handler(NetmgrError)
    async def _netmgr_error(request: Request, exc: NetmgrError) -> JSONResponse:
        body: dict[str, object] = {"detail": exc.message, "error": type(exc).__name__}
        if isinstance(exc, ValidationFailed) and exc.field:
            body["errors"] = [{"field": exc.field, "problem": exc.message}]
        if isinstance(exc, ImportFailed):
            body["errors"] = [{"row": e.row, "field": e.field, "problem": e.reason} for e in exc.errors]
        if exc.http_status >= 500:
            log.warning("%s %s failed: %s", request.method, request.url.path, exc.message)
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after_s)}
        return JSONResponse(body, status_code=exc.http_status, headers=headers)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DBAPIError)
    async def _database_refused(request: Request, exc: Exception) -> JSONResponse:
        if is_nul_in_text(exc):
            return JSONResponse({"detail": NUL_IN_TEXT_MESSAGE, "error": "ValidationFailed"}, status_code=422)
        if not is_out_of_range(exc):
            raise exc
        return JSONResponse({"detail": OUT_OF_RANGE_MESSAGE, "error": "ValidationFailed"}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = validation_problems(exc)
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return JSONResponse({"detail": f"invalid request: {summary}", "errors": problems}, status_code=422)
