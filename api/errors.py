"""One JSON error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Domain errors (``ClwstwrError``) become 4xx with their stable code and a message written for the
person who sent the request (and any HTTP headers the error carries in ``headers``, e.g. a throttled
log-in's ``Retry-After``); request validation errors name the field; anything unexpected is logged
with its traceback and answered with a generic 500 that reveals nothing internal.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from corpora.errors import ClwstwrError

log = logging.getLogger(__name__)

# Status per error code block; anything not listed is a 422 (the request could not be processed).
_STATUS_BY_CODE = {
    "CW300": 404, "CW301": 404,
    "CW440": 503,  # PDF export: Chromium missing or failed -- the service, not the request, is at fault
    "CW600": 422, "CW610": 404, "CW611": 409, "CW612": 404,
    "CW700": 401, "CW701": 403,  # not logged in / role may not do this (api.access)
    "CW704": 429,  # too many failed log-ins for this user name (store.users); carries Retry-After
}


def error_body(code: str, message: str, details: object | None = None) -> dict[str, object]:
    body: dict[str, object] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ClwstwrError)
    async def domain_error(_request: Request, exc: ClwstwrError) -> JSONResponse:
        details = getattr(exc, "details", None)  # e.g. a stale edit's latest version, for the client to reload
        headers = getattr(exc, "headers", None)  # e.g. Retry-After on a throttled log-in
        return JSONResponse(error_body(exc.code, str(exc), details), status_code=_STATUS_BY_CODE.get(exc.code, 422),
                            headers=dict(headers) if headers else None)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"), "problem": err.get("msg", "")}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{p['field'] or 'body'}: {p['problem']}" for p in problems)
        return JSONResponse(error_body("CW500", f"invalid request: {summary}", problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(f"HTTP{exc.status_code}", str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("CW999", "internal error; it has been logged"), status_code=500)
