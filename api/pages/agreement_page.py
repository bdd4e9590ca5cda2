"""The agreement page: how far the coders agree, per theme and overall, the machine as one more coder,
and the disagreement queue where the group records the consensus.

The figures are computed here from the stored codes each time the page is shown (figures are never
stored), by the same ``clwstwr.agreement`` functions a test or a script would call, so what the page
says can be checked by hand. In a blind round a coder who has not finished sees none of it: agreement
and the queue reveal the others' codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from clwstwr.agreement import (
    AgreementSummary,
    CodingRecord,
    MachineComparison,
    machine_vs_humans,
    summarise_agreement,
    themes_by_question,
)
from corpora.codebook import Codebook
from store.consensus import QueueItem, consensus_codings, disagreement_queue, human_codings, machine_codings
from store.database import transaction
from store.rounds import require_round
from store.workspace import visible_coders

from ..dependencies import ContextDep, CurrentUserDep
from .page_templates import render
from .workspace_labels import CONSENSUS_ROUTE, Labels, is_privileged, may

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class RoundAgreement:
    summary: AgreementSummary | None  # None until two coders have marked the same answer done
    machine: MachineComparison | None
    queue: list[QueueItem]
    n_codings: int
    has_consensus: bool


def round_agreement(session: Session, codebook: Codebook, round_name: str) -> RoundAgreement:
    """Agreement among the humans, the machine against them (and against the consensus, once there is
    one), and the queue: all computed now from the stored codes."""
    themes = themes_by_question(codebook)
    humans = [CodingRecord(c.answer_id, c.coder, c.themes, c.question_id) for c in human_codings(session, round_name)]
    queue = disagreement_queue(session, round_name)
    if not humans:
        return RoundAgreement(None, None, queue, 0, False)
    summary = summarise_agreement(humans, themes)
    coded = {r.answer_id for r in humans}
    machine = [CodingRecord(c.answer_id, c.coder, c.themes, c.question_id)
               for c in machine_codings(session, round_name, coded)]
    gold = [CodingRecord(c.answer_id, c.coder, c.themes, c.question_id) for c in consensus_codings(session, round_name)]
    comparison = machine_vs_humans(humans, machine, themes, gold if gold else None) if machine else None
    return RoundAgreement(summary, comparison, queue, len(humans), bool(gold))


@router.get("/rounds/{name}/agreement", response_class=HTMLResponse)
def agreement_page(
    name: str,
    request: Request,
    user: CurrentUserDep,
    ctx: ContextDep,
    settled: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    with transaction(ctx.sessions) as session:
        round_ = require_round(session, name)
        blinded = visible_coders(session, round_.id, user.username, privileged=is_privileged(user)) is not None
        report = None if blinded else round_agreement(session, ctx.codebook, name)
    machine_by_theme = {t.theme: t for t in report.machine.themes} if report and report.machine else {}
    # the table is grouped by question; a question nobody has coded yet is one line, not a block of dashes
    groups = []
    if report and report.summary:
        for question in ctx.codebook.questions:
            rows = [t for t in report.summary.themes if question.id in t.question_ids]
            groups.append((question, rows, any(r.n_coded for r in rows)))
    # per queued answer, how many coders applied each theme: the consensus form starts from what all agree on
    tallies = {item.answer_id: {theme: sum(theme in codes for codes in item.codes.values())
                                for codes in item.codes.values() for theme in codes}
               for item in (report.queue if report else [])}
    return render(
        request, "agreement.html.j2", user,
        round_name=name, blinded=blinded, report=report, machine_by_theme=machine_by_theme, groups=groups,
        labels=Labels.from_codebook(ctx.codebook), codebook=ctx.codebook, settled=settled, tallies=tallies,
        can_settle=may(user, CONSENSUS_ROUTE),
    )
