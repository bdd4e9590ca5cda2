"""The FastAPI app, built by ``create_app(settings)``: no module-level app, no import-time models.

The lifespan builds the AppContext (database, codebook) and the suggestion service once; routes get
them through dependencies. Tests build as many apps as they need, each with its own settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import text

from clwstwr.context import AppContext
from clwstwr.settings import Settings, load_settings
from clwstwr.suggesting import TextModels, build_suggestion_service

from . import auth, pages
from .dependencies import authorize
from .errors import install_error_handlers
from .routes import letters, rounds, suggest, workspace
from .schemas import Health
from .session_cache import SessionCache


def create_app(settings: Settings, *, text_models: TextModels | None = None) -> FastAPI:
    """The app; raises InsecureSettingsError (CW702) at once, before loading anything, if the settings
    would run a server with a known secret key. Every route is checked against ``api.access.POLICY``."""
    settings.check_secure()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = AppContext.build(settings)
        app.state.context = context
        app.state.suggestions = build_suggestion_service(settings, context.codebook, models=text_models)
        app.state.suggestions.deidentifier.welsh_words.load()  # now, not in the first Welsh answer's request
        try:
            yield
        finally:
            context.close()

    app = FastAPI(title="Clwstwr", version="0.1.0", lifespan=lifespan, dependencies=[Depends(authorize)],
                  description="Theme suggestions, maturity summaries and documents for Welsh primary care clusters.")
    app.state.session_cache = SessionCache(settings.session_cache_seconds)
    install_error_handlers(app)
    pages.install_page_errors(app)  # page routes answer errors as pages, the API as JSON
    app.include_router(auth.router)
    app.include_router(auth.admin_router)
    app.include_router(suggest.router)
    app.include_router(rounds.router)
    app.include_router(workspace.router)
    app.include_router(letters.router)
    app.include_router(pages.router)

    @app.get("/healthz", response_model=Health, tags=["service"])
    def healthz() -> dict[str, str]:
        context: AppContext = app.state.context
        with context.engine.connect() as conn:
            conn.execute(text("select 1"))
        return {"status": "ok", "database": context.engine.dialect.name, "suggester": app.state.suggestions.model}

    return app


def create_app_from_environment() -> FastAPI:
    """Zero-argument factory for ``uvicorn --factory api.app:create_app_from_environment``."""
    return create_app(load_settings())
