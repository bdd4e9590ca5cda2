"""Code every answer of a stored round with the suggester and store the run.

Answers are de-identified with the names the round knows (its clusters; for the bundled sample also
its places), suggested in one batch per question so the embedding calls stay large, and stored as one
suggestion run with the model's identity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nlp.deidentify import KnownNames
from nlp.suggestion_service import SuggestionService
from store import coding
from store.database import transaction

from .context import AppContext


@dataclass(frozen=True)
class CodingRun:
    run_id: int
    model: str
    answers: int


def code_round(
    ctx: AppContext,
    service: SuggestionService,
    round_name: str,
    *,
    actor: str,
    extra_places: Sequence[str] = (),
    progress: Callable[[str], None] = lambda _m: None,
) -> CodingRun:
    with transaction(ctx.sessions) as session:
        answers = coding.answers_to_code(session, round_name)
    known = KnownNames(clusters=tuple(sorted({a.cluster_name for a in answers})), places=tuple(extra_places))
    round_service = service.for_round(known)
    results: list[tuple[int, str, dict[str, object]]] = []
    for question in ctx.codebook.questions:
        batch = [a for a in answers if a.question_id == question.id]
        if not batch:
            continue
        progress(f"coding {len(batch)} answers to '{question.label}'")
        suggestions = round_service.suggest_many([a.text for a in batch], [question.kind] * len(batch))
        results.extend((a.answer_id, s.text, s.to_json()) for a, s in zip(batch, suggestions))
    with transaction(ctx.sessions) as session:
        run_id = coding.store_run(session, round_name, service.model, actor, results)
    return CodingRun(run_id=run_id, model=service.model, answers=len(results))
