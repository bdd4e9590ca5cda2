"""One round beside the one before: the change in each count and in each share.

Counts alone mislead when the number of responses changes (37 of 46 and 37 of 52 are not the same
finding), so every change is given twice: in clusters, and in the share of the round's base, as
percentage points. A theme or level absent from one round counts as zero there; a base of zero has
no share and therefore no change in share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .maturity_summary import MaturitySummary
from .theme_summary import QuestionThemes


@dataclass(frozen=True)
class CountChange:
    current: int
    current_base: int
    previous: int
    previous_base: int

    @property
    def delta(self) -> int:
        return self.current - self.previous

    @property
    def current_share(self) -> float | None:
        return self.current / self.current_base if self.current_base else None

    @property
    def previous_share(self) -> float | None:
        return self.previous / self.previous_base if self.previous_base else None

    @property
    def share_delta(self) -> float | None:
        now, before = self.current_share, self.previous_share
        return None if now is None or before is None else now - before


@dataclass(frozen=True)
class RoundComparison:
    """Every change between two rounds, keyed the way the report looks them up."""

    previous_round: str
    responses: CountChange  # bases: the clusters each round was sent to
    levels: dict[tuple[str, str], CountChange]  # (outcome id, level id)
    stages: dict[str, CountChange]
    themes: dict[tuple[str, str], CountChange] | None  # (question id, theme id); None: a round not coded
    answered: dict[str, CountChange] | None  # question id -> answering clusters (base: responses)


def compare_rounds(
    current: MaturitySummary,
    previous: MaturitySummary,
    current_themes: Sequence[QuestionThemes] | None,
    previous_themes: Sequence[QuestionThemes] | None,
) -> RoundComparison:
    before = {o.outcome.id: o for o in previous.outcomes}
    levels = {}
    for o in current.outcomes:
        prior = before.get(o.outcome.id)
        for level in current.level_ids:
            levels[(o.outcome.id, level)] = CountChange(
                o.counts[level], o.answered, prior.counts.get(level, 0) if prior else 0, prior.answered if prior else 0
            )
    stages = {
        sid: CountChange(n, current.team_stage_answered, previous.team_stage_counts.get(sid, 0), previous.team_stage_answered)
        for sid, n in current.team_stage_counts.items()
    }
    themes = answered = None
    if current_themes is not None and previous_themes is not None:
        themes, answered = _theme_changes(current, previous, current_themes, previous_themes)
    return RoundComparison(
        previous_round=previous.round_name,
        responses=CountChange(current.responses, current.total_clusters, previous.responses, previous.total_clusters),
        levels=levels,
        stages=stages,
        themes=themes,
        answered=answered,
    )


def _theme_changes(
    current: MaturitySummary,
    previous: MaturitySummary,
    current_themes: Sequence[QuestionThemes],
    previous_themes: Sequence[QuestionThemes],
) -> tuple[dict[tuple[str, str], CountChange], dict[str, CountChange]]:
    prior = {q.question.id: q for q in previous_themes}
    themes: dict[tuple[str, str], CountChange] = {}
    answered: dict[str, CountChange] = {}
    for q in current_themes:
        p = prior.get(q.question.id)
        p_counts = {t.theme.id: t.count for t in p.themes} if p else {}
        p_base = p.answered if p else 0
        answered[q.question.id] = CountChange(q.answered, current.responses, p_base, previous.responses)
        for t in q.themes:
            themes[(q.question.id, t.theme.id)] = CountChange(t.count, q.answered, p_counts.get(t.theme.id, 0), p_base)
    return themes, answered
