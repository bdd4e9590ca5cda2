"""Summaries in, one ``ThematicReport`` out: where suppression, comparison and ordering are applied.

The caller (``clwstwr.reporting``) reads the store and the models and hands over plain summaries
already limited to the report's scope; this module decides what the reader sees. Figures are all
computed here or in the summaries, and the executive summary is written last, from the finished
model, so it can only repeat figures the report shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from corpora.codebook import Codebook

from .executive_summary import executive_summary
from .maturity_report import board_rows, change_between, maturity_modules, stage_rows
from .maturity_summary import MaturitySummary
from .opportunities import OpportunitySentence, group_opportunities
from .report_model import CandidateTheme, Change, QuestionSection, Scope, ThematicReport, ThemeRow
from .round_comparison import RoundComparison, compare_rounds
from .suppression import Cell
from .theme_summary import QuestionThemes


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report is made from, for one scope (all Wales, or one board's clusters only)."""

    codebook: Codebook
    scope: Scope
    summary: MaturitySummary
    generated_at: str
    themes: tuple[QuestionThemes, ...] | None = None  # None: the round was never coded
    coding_model: str | None = None
    coding_run: int | None = None
    previous: MaturitySummary | None = None
    previous_themes: tuple[QuestionThemes, ...] | None = None
    opportunity_sentences: Sequence[OpportunitySentence] | None = None
    opportunity_base: int = 0
    candidates: tuple[CandidateTheme, ...] | None = None  # None: discovery not run
    discovery_sentences: int = 0
    discovery_threshold: float | None = None


def question_sections(
    themes: Sequence[QuestionThemes], scope: Scope, comparison: RoundComparison | None
) -> tuple[QuestionSection, ...]:
    sup = scope.suppression
    sections = []
    for q in themes:
        if q.answered == 0:  # a question nobody in scope answered has nothing to show
            continue
        answered = sup.count(q.answered)
        order = {t.id: i for i, t in enumerate(q.question.themes)}
        rows = []
        for t in q.themes:
            count = sup.count(t.count)
            change = None
            if comparison is not None and comparison.themes is not None:
                cc = comparison.themes[(q.question.id, t.theme.id)]
                change = change_between(sup, count, answered, sup.count(cc.previous), sup.count(cc.previous_base))
            rows.append(ThemeRow(t.theme, count, answered, count.share_of(answered), t.quotes, change))
        # Largest first; withheld counts (1-4) in codebook order after the shown ones, since sorting them
        # by size would rank what is hidden; zeros last.
        rows.sort(key=lambda r: (_rank_group(r.count), -(r.count.value or 0), order[r.theme.id]))
        answered_change = None
        if comparison is not None and comparison.answered is not None:
            ac = comparison.answered[q.question.id]
            answered_change = change_between(sup, answered, sup.count(ac.current_base),
                                             sup.count(ac.previous), sup.count(ac.previous_base))
        sections.append(QuestionSection(q.question, answered, sup.count(q.fits_none), tuple(rows), answered_change))
    return tuple(sections)


def _rank_group(cell: Cell) -> int:
    return 1 if cell.suppressed else (2 if cell.value == 0 else 0)


def _responses_change(scope: Scope, responses: Cell, comparison: RoundComparison | None) -> Change | None:
    if comparison is None:
        return None
    sup = scope.suppression
    c = comparison.responses
    if scope.is_board:  # a board's cluster total is not recorded: change in count only
        return change_between(sup, responses, Cell(None, ""), sup.count(c.previous), Cell(None, ""))
    return change_between(sup, responses, Cell(c.current_base, str(c.current_base)),
                          sup.count(c.previous), Cell(c.previous_base, str(c.previous_base)))


def build_report(inputs: ReportInputs) -> ThematicReport:
    scope, summary = inputs.scope, inputs.summary
    comparison = None
    note = ""
    if inputs.previous is not None:
        comparison = compare_rounds(summary, inputs.previous, inputs.themes, inputs.previous_themes)
        if inputs.themes is not None and inputs.previous_themes is None:
            note = f"Round {inputs.previous.round_name} has not been coded, so changes in themes are not shown."
    responses = scope.suppression.count(summary.responses)
    stages, stage_answered = stage_rows(summary, inputs.codebook, scope, comparison)
    opportunities = None
    if inputs.opportunity_sentences is not None:
        opportunities = group_opportunities(inputs.codebook, inputs.opportunity_sentences, inputs.opportunity_base,
                                            scope.suppression)
    report = ThematicReport(
        round_name=summary.round_name,
        codebook_version=summary.codebook_version,
        generated_at=inputs.generated_at,
        scope=scope,
        responses=responses,
        total_clusters=summary.total_clusters,
        response_rate=None if scope.is_board else summary.response_rate,
        responses_change=_responses_change(scope, responses, comparison),
        previous_round=inputs.previous.round_name if inputs.previous is not None else None,
        comparison_note=note,
        levels=tuple(sorted(inputs.codebook.maturity_levels, key=lambda lv: lv.rank)),
        modules=maturity_modules(summary, scope, comparison),
        stages=stages,
        stage_answered=stage_answered,
        boards=board_rows(summary, inputs.codebook, scope),
        board_names={b.id: b.short_name for b in inputs.codebook.health_boards},
        questions=question_sections(inputs.themes, scope, comparison) if inputs.themes else (),
        coding_model=inputs.coding_model,
        coding_run=inputs.coding_run,
        opportunities=opportunities,
        candidates=inputs.candidates,
        discovery_sentences=inputs.discovery_sentences,
        discovery_threshold=inputs.discovery_threshold,
        executive_summary=(),
        all_wales_summary=None if scope.is_board else summary,
    )
    return replace(report, executive_summary=executive_summary(report))
