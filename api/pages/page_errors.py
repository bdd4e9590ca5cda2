"""Errors on a browser page are pages too: a log-in form, or a readable message — never JSON.

The API answers every failure as JSON (``api.errors``); a person who follows a link to a page they
may not see must get a page that says why. So the app's handlers are wrapped: a failure on a route of
this package is rendered as HTML with the same status code and message the JSON answer would carry
(taken from that answer, so the two can never disagree), and "not logged in" becomes a redirect to
the log-in form that comes back to the page afterwards.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response

from corpora.errors import ClwstwrError

from ..access import AuthenticationError
from ..dependencies import optional_user
from .page_templates import render

PAGE_MODULE_PREFIX = "api.pages."


def is_page_request(request: Request) -> bool:
    """Did a browser ask for one of the page routes? A script that asks a page URL without accepting
    HTML (``Accept: */*``, as HTTP clients send) gets the API's JSON error, which it can read."""
    route = request.scope.get("route")
    endpoint = getattr(route, "endpoint", None)
    is_page = getattr(endpoint, "__module__", "").startswith(PAGE_MODULE_PREFIX)
    return is_page and "text/html" in request.headers.get("accept", "")


def _message(response: Response) -> tuple[str, str]:
    try:
        error = json.loads(bytes(response.body))["error"]
        return str(error.get("code", "")), str(error.get("message", ""))
    except (ValueError, KeyError, TypeError):
        return "", "the request could not be completed"


def install_page_errors(app: FastAPI) -> None:
    """Wrap the JSON handlers ``install_error_handlers`` set up (call it after them)."""
    json_domain = app.exception_handlers[ClwstwrError]
    json_invalid = app.exception_handlers[RequestValidationError]

    async def as_page(request: Request, exc: Exception, json_handler) -> Response:  # type: ignore[no-untyped-def]
        answer = await json_handler(request, exc)
        if not is_page_request(request):
            return answer
        if isinstance(exc, AuthenticationError) and request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        code, message = _message(answer)
        user = None
        try:  # show who is logged in on the error page when we know (never fails the error page)
            user = await optional_user(request, request.app.state.context)
        except Exception:  # noqa: BLE001 - an error page must render whatever else is wrong
            user = None
        return render(request, "error.html.j2", user, status_code=answer.status_code,
                      code=code, message=message, status=answer.status_code)

    @app.exception_handler(ClwstwrError)
    async def domain_error(request: Request, exc: ClwstwrError) -> Response:
        return await as_page(request, exc, json_domain)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return await as_page(request, exc, json_invalid)
