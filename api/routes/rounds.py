from __future__ import annotations

from fastapi import APIRouter

from letters.maturity_summary import summary_to_json
from clwstwr.reporting import summarise_round
from store import rounds
from store.database import transaction

from ..dependencies import ContextDep

router = APIRouter(prefix="/api/v1/rounds", tags=["rounds"])


@router.get("")
def list_rounds(ctx: ContextDep) -> dict[str, list[str]]:
    with transaction(ctx.sessions) as session:
        return {"rounds": rounds.list_round_names(session)}


@router.get("/{name}/summary")
def round_summary(name: str, ctx: ContextDep) -> dict[str, object]:
    """The same figures as ``summary.json``, computed from the stored answers now."""
    return summary_to_json(summarise_round(ctx, name))
