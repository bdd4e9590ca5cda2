from __future__ import annotations

from fastapi import APIRouter

from ..dependencies import SuggesterDep
from ..schemas import SuggestRequest, SuggestResponse

router = APIRouter(prefix="/api/v1", tags=["suggestions"])


@router.post("/suggest", response_model=SuggestResponse)
def suggest(body: SuggestRequest, service: SuggesterDep) -> dict[str, object]:
    """Themes (best first, with evidence), outcomes and headings for one answer; the same object as
    ``clwstwr suggest --json``. Every text in the answer is de-identified."""
    return service.suggest(body.text, body.kind).to_json()
