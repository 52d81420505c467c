"""Maps netmgr errors and request-validation errors to JSON a person can act on."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from netmgr.db import OUT_OF_RANGE_MESSAGE, is_out_of_range
from netmgr.errors import ImportFailed, NetmgrError, TooManyAttempts, ValidationFailed

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


def install_error_handlers(app: FastAPI) -> None:
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
        if not is_out_of_range(exc):
            raise exc
        return JSONResponse({"detail": OUT_OF_RANGE_MESSAGE, "error": "ValidationFailed"}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = validation_problems(exc)
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return JSONResponse({"detail": f"invalid request: {summary}", "errors": problems}, status_code=422)
