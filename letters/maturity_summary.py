"""The maturity picture of a round, computed from the stored answers and nothing else.

Shares are of the clusters that *answered* that outcome (the published report divides by 45 where one
cluster left an outcome blank), so an outcome's base is reported beside its counts. A modal level that
two levels share is reported as a tie, never broken silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from corpora.codebook import Codebook, Outcome

# Why three: the published report names the top outcomes for "mature" and a third sits level with the
# second; a short ranked list (with ties kept) is what a reader compares.
TOP_MATURE = 3


class RatedSubmission(Protocol):
    health_board_id: str
    team_stage_id: str | None
    ratings: Mapping[str, str]


@dataclass(frozen=True)
class OutcomeSummary:
    outcome: Outcome
    answered: int
    counts: Mapping[str, int]  # level id -> clusters, every level present (0 when none)
    modal_levels: tuple[str, ...]  # one level, or several when tied

    @property
    def shares(self) -> dict[str, float]:
        return {lv: (n / self.answered if self.answered else 0.0) for lv, n in self.counts.items()}

    @property
    def modal_level(self) -> str | None:
        return self.modal_levels[0] if len(self.modal_levels) == 1 else None


@dataclass(frozen=True)
class MaturitySummary:
    round_name: str
    codebook_version: str
    responses: int
    total_clusters: int
    outcomes: tuple[OutcomeSummary, ...]
    team_stage_counts: Mapping[str, int]
    team_stage_answered: int
    responses_by_board: Mapping[str, int]
    level_ids: tuple[str, ...]

    @property
    def response_rate(self) -> float:
        return self.responses / self.total_clusters if self.total_clusters else 0.0

    def module(self, module: str) -> tuple[OutcomeSummary, ...]:
        return tuple(o for o in self.outcomes if o.outcome.module == module)

    def modal_level_counts(self, module: str) -> dict[str, int]:
        """How many outcomes of a module have each level as their (untied) modal level."""
        counts = {lv: 0 for lv in self.level_ids}
        for summary in self.module(module):
            if summary.modal_level is not None:
                counts[summary.modal_level] += 1
        return counts

    def tied_outcomes(self) -> tuple[OutcomeSummary, ...]:
        return tuple(o for o in self.outcomes if len(o.modal_levels) > 1)

    def overall_level(self, level_id: str) -> tuple[OutcomeSummary, ...]:
        """Outcomes whose modal level is ``level_id`` (untied)."""
        return tuple(o for o in self.outcomes if o.modal_level == level_id)

    def majority_at(self, level_id: str) -> tuple[OutcomeSummary, ...]:
        """Outcomes where more than half of those answering chose ``level_id``."""
        return tuple(o for o in self.outcomes if o.answered and o.counts[level_id] * 2 > o.answered)

    def most_often(self, level_id: str, top: int = TOP_MATURE) -> tuple[OutcomeSummary, ...]:
        """The outcomes with the highest counts at ``level_id``; ties with the last place are kept."""
        ranked = sorted(
            (o for o in self.outcomes if o.counts[level_id] > 0),
            key=lambda o: (-o.counts[level_id], o.outcome.module != "pcmw", o.outcome.number),
        )
        if len(ranked) <= top:
            return tuple(ranked)
        cutoff = ranked[top - 1].counts[level_id]
        return tuple(o for o in ranked if o.counts[level_id] >= cutoff)


def summarise_maturity(
    codebook: Codebook,
    round_name: str,
    submissions: Sequence[RatedSubmission],
    total_clusters: int = 60,
) -> MaturitySummary:
    """Count levels per outcome and team stages over ``submissions`` (each cluster once)."""
    level_ids = tuple(level.id for level in sorted(codebook.maturity_levels, key=lambda lv: lv.rank))
    outcomes: list[OutcomeSummary] = []
    for outcome in codebook.outcomes:
        counter = Counter(s.ratings[outcome.id] for s in submissions if outcome.id in s.ratings)
        unknown = set(counter) - set(level_ids)
        if unknown:
            raise ValueError(f"{outcome.id}: stored levels not in the codebook: {sorted(unknown)}")
        counts = {lv: counter.get(lv, 0) for lv in level_ids}
        answered = sum(counts.values())
        top = max(counts.values()) if answered else 0
        modal = tuple(lv for lv in level_ids if answered and counts[lv] == top)
        outcomes.append(OutcomeSummary(outcome=outcome, answered=answered, counts=counts, modal_levels=modal))
    stage_ids = [stage.id for stage in sorted(codebook.team_stages, key=lambda s: s.rank)]
    stage_counter = Counter(s.team_stage_id for s in submissions if s.team_stage_id)
    boards = Counter(s.health_board_id for s in submissions)
    return MaturitySummary(
        round_name=round_name,
        codebook_version=codebook.version,
        responses=len(submissions),
        total_clusters=total_clusters,
        outcomes=tuple(outcomes),
        team_stage_counts={sid: stage_counter.get(sid, 0) for sid in stage_ids},
        team_stage_answered=sum(stage_counter.values()),
        responses_by_board={b.id: boards.get(b.id, 0) for b in codebook.health_boards},
        level_ids=level_ids,
    )


def summary_to_json(summary: MaturitySummary) -> dict[str, object]:
    """The machine-readable ``summary.json``: every figure the HTML report shows, and its base."""

    def share(n: int, d: int) -> float:
        return round(n / d, 4) if d else 0.0

    def ref(o: OutcomeSummary, level: str | None = None) -> dict[str, object]:
        item: dict[str, object] = {"id": o.outcome.id, "name": o.outcome.name}
        if level is not None:
            item.update(count=o.counts[level], share=share(o.counts[level], o.answered), answered=o.answered)
        return item

    return {
        "round": summary.round_name,
        "codebook_version": summary.codebook_version,
        "responses": summary.responses,
        "total_clusters": summary.total_clusters,
        "response_rate": round(summary.response_rate, 4),
        "levels": list(summary.level_ids),
        "outcomes": [
            {
                "id": o.outcome.id,
                "module": o.outcome.module,
                "number": o.outcome.number,
                "name": o.outcome.name,
                "answered": o.answered,
                "counts": dict(o.counts),
                "shares": {k: round(v, 4) for k, v in o.shares.items()},
                "modal_levels": list(o.modal_levels),
                "modal_level": o.modal_level,
            }
            for o in summary.outcomes
        ],
        "findings": {
            "modal_level_counts": {m: summary.modal_level_counts(m) for m in ("pcmw", "acd")},
            "tied_modal_levels": [
                {"id": o.outcome.id, "levels": list(o.modal_levels)} for o in summary.tied_outcomes()
            ],
            "overall_pre_foundation": [o.outcome.id for o in summary.overall_level("pre_foundation")],
            "overall_mature": [o.outcome.id for o in summary.overall_level("mature")],
            "majority_pre_foundation": [ref(o, "pre_foundation") for o in summary.majority_at("pre_foundation")],
            "most_often_mature": [ref(o, "mature") for o in summary.most_often("mature")],
            "most_often_pre_foundation": [ref(o, "pre_foundation") for o in summary.most_often("pre_foundation")],
        },
        "team_stages": {
            "answered": summary.team_stage_answered,
            "counts": dict(summary.team_stage_counts),
            "shares": {k: share(v, summary.team_stage_answered) for k, v in summary.team_stage_counts.items()},
        },
        "responses_by_health_board": dict(summary.responses_by_board),
    }
