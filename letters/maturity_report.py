"""The maturity part of the thematic report: outcome rows, team stages and responses by board, as cells.

Counts come from ``MaturitySummary`` (computed from stored answers, never stored themselves) and go
through the report's suppression rule here, once, row by row: a level row and a stage row add up to
the total shown beside them, so they get secondary suppression. A previous round's row is suppressed
the same way before any change is worked out, and a change is shown only between two shown figures.
"""

from __future__ import annotations

from corpora.codebook import Codebook

from .maturity_summary import MaturitySummary
from .report_model import BoardRow, Change, MaturityModule, OutcomeRow, Scope, StageRow
from .round_comparison import RoundComparison
from .suppression import Cell, Suppression, signed_points

MODULE_TITLES = (
    ("pcmw", "Primary Care Model for Wales outcomes"),
    ("acd", "Accelerated Cluster Development outcomes"),
)


def change_between(suppression: Suppression, current: Cell, current_base: Cell, previous: Cell, previous_base: Cell) -> Change:
    """The change from ``previous`` to ``current`` in count and share, withheld where either is."""
    now, before = current.share_of(current_base), previous.share_of(previous_base)
    delta = None if now is None or before is None else now - before
    return Change(previous, previous_base, suppression.change(current, previous), delta, signed_points(delta))


def maturity_modules(
    summary: MaturitySummary, scope: Scope, comparison: RoundComparison | None
) -> tuple[MaturityModule, ...]:
    sup = scope.suppression
    modules = []
    for module_id, title in MODULE_TITLES:
        rows = []
        for o in summary.module(module_id):
            cells, answered = sup.row([o.counts[lv] for lv in summary.level_ids], o.answered)
            changes = None
            if comparison is not None:
                before = [comparison.levels[(o.outcome.id, lv)] for lv in summary.level_ids]
                prev_cells, prev_answered = sup.row([c.previous for c in before], before[0].previous_base)
                changes = tuple(change_between(sup, c, answered, p, prev_answered) for c, p in zip(cells, prev_cells))
            rows.append(
                OutcomeRow(
                    outcome=o.outcome,
                    cells=cells,
                    shares=tuple(c.share_of(answered) for c in cells),
                    answered=answered,
                    modal_levels=() if sup.active else o.modal_levels,
                    majority_pre_foundation=(not sup.active) and o in summary.majority_at("pre_foundation"),
                    changes=changes,
                )
            )
        modules.append(
            MaturityModule(
                id=module_id,
                title=title,
                rows=tuple(rows),
                modal_counts=None if sup.active else summary.modal_level_counts(module_id),
                tied=tuple(r for r in rows if len(r.modal_levels) > 1),
            )
        )
    return tuple(modules)


def stage_rows(
    summary: MaturitySummary, codebook: Codebook, scope: Scope, comparison: RoundComparison | None
) -> tuple[tuple[StageRow, ...], Cell]:
    sup = scope.suppression
    stages = sorted(codebook.team_stages, key=lambda s: s.rank)
    cells, answered = sup.row([summary.team_stage_counts[s.id] for s in stages], summary.team_stage_answered)
    changes: list[Change | None] = [None] * len(stages)
    if comparison is not None:
        before = [comparison.stages[s.id] for s in stages]
        prev_cells, prev_answered = sup.row([c.previous for c in before], before[0].previous_base)
        changes = [change_between(sup, c, answered, p, prev_answered) for c, p in zip(cells, prev_cells)]
    rows = tuple(StageRow(s, c, c.share_of(answered), ch) for s, c, ch in zip(stages, cells, changes))
    return rows, answered


def board_rows(summary: MaturitySummary, codebook: Codebook, scope: Scope) -> tuple[BoardRow, ...]:
    """Responses per board; a board report shows its own board only."""
    boards = [scope.board] if scope.board is not None else list(codebook.health_boards)
    return tuple(BoardRow(b, scope.suppression.count(summary.responses_by_board[b.id])) for b in boards)
