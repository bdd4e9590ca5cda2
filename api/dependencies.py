"""What routes need, as ``Annotated`` aliases, resolved from the app's state (built in the lifespan)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clwstwr.context import AppContext
from nlp.suggestion_service import SuggestionService


def get_context(request: Request) -> AppContext:
    return request.app.state.context


def get_suggester(request: Request) -> SuggestionService:
    return request.app.state.suggestions


ContextDep = Annotated[AppContext, Depends(get_context)]
SuggesterDep = Annotated[SuggestionService, Depends(get_suggester)]
