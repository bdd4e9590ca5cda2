"""The browser UI: server-rendered pages (Jinja2) with a little vanilla JavaScript.

Pages read through the same store and job functions as the JSON API and write through the JSON API
itself (the scripts call ``/api/v1/...``), so there is one implementation of every rule. Access is
the app-wide ``api.access.POLICY``: each page route has its line there like any other route.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import agreement_page, coding_page, grid_page, letter_pages, report_page, retrain_page, session_pages
from .page_errors import install_page_errors

router = APIRouter(include_in_schema=False)
router.include_router(session_pages.router)
router.include_router(grid_page.router)
router.include_router(coding_page.router)
router.include_router(agreement_page.router)
router.include_router(retrain_page.router)
router.include_router(letter_pages.router)
router.include_router(report_page.router)

__all__ = ["router", "install_page_errors"]
