"""The Jinja2 environment the browser pages are rendered with, and the one ``render`` helper.

A separate environment from the documents' (``letters.rendering``) because pages and documents change
for different reasons: an organisation may override a letter template, never the workspace. It is as
strict as the documents' one (StrictUndefined, autoescape), so a page missing a value fails a test
instead of showing an empty cell to a reviewer.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from store.users import UserRecord

API_DIR = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = API_DIR / "templates"
STATIC_DIR = API_DIR / "static"


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _extract(key: str, mapping: Mapping[str, str]) -> str:
    """``ids | map('extract', labels.themes)``: an id's label, or the id itself when it has none."""
    return mapping.get(key, key)


def _query(base: Mapping[str, Any], **changes: Any) -> str:
    """The current page's query string with some parameters changed (None drops one): for the grid's
    sort links and pager, so a sort keeps the filters and a filter starts again at page 1."""
    merged = {**base, **changes}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def make_page_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["score"] = _score
    env.filters["extract"] = _extract
    env.globals["query"] = _query
    return env


def page_environment(request: Request) -> Environment:
    """One environment per app (built on first use and kept on the app's state): templates are
    compiled once, and two apps in one test process never share one."""
    env = getattr(request.app.state, "page_environment", None)
    if env is None:
        env = make_page_environment()
        request.app.state.page_environment = env
    return env


def render(request: Request, template: str, user: UserRecord | None, status_code: int = 200,
           **values: Any) -> HTMLResponse:
    """A whole page: the layout needs the user (name, role, log-out) and the current path."""
    html = page_environment(request).get_template(template).render(
        user=user, path=request.url.path, **values
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
