"""What the workspace pages show instead of ids: labels for boards, questions, themes and outcomes;
and what a user may do there (the same answers the API's policy gives).

One place for both because every workspace page needs them and they must agree across pages: the
grid, the coding view and the agreement page name the same theme the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from corpora.codebook import Codebook
from store.users import UserRecord

from ..access import allows, rule_for
from ..routes.workspace import PRIVILEGED_ROLES

# The API routes whose rules decide what a page offers: a page shows a button only to a role the
# route behind it admits, read from the one policy table so page and API cannot drift apart.
DECIDE_ROUTE = ("POST", "/api/v1/rounds/{name}/answers/{answer_id}/decisions")
CONSENSUS_ROUTE = ("POST", "/api/v1/rounds/{name}/answers/{answer_id}/consensus")
RETRAIN_ROUTE = ("POST", "/api/v1/rounds/{name}/retrain")
FINISH_ROUTE = ("POST", "/api/v1/rounds/{name}/finish")
SETTINGS_ROUTE = ("PUT", "/api/v1/rounds/{name}/settings")

STATUS_LABELS = {
    "uncoded": "Not started",
    "in_progress": "In progress",
    "coded": "Coded",
    "disputed": "Disputed",
    "agreed": "Agreed",
}


def is_privileged(user: UserRecord) -> bool:
    """Programme and admin run a round rather than code it: blinding does not apply to them."""
    return user.role in PRIVILEGED_ROLES


def may(user: UserRecord, route: tuple[str, str]) -> bool:
    """May the user call this API route (by role; round grants do not matter for these routes)?"""
    rule = rule_for(*route)
    return rule is not None and allows(rule, user.role)


@dataclass(frozen=True)
class Labels:
    boards: dict[str, str]
    questions: dict[str, str]
    themes: dict[str, str]
    outcomes: dict[str, str]
    statuses: dict[str, str]

    @classmethod
    def from_codebook(cls, codebook: Codebook) -> Labels:
        return cls(
            boards={b.id: b.short_name for b in codebook.health_boards},
            questions={q.id: q.label for q in codebook.questions},
            themes={t.id: t.label for q in codebook.questions for t in q.themes},
            outcomes={o.id: o.label for o in codebook.outcomes},
            statuses=dict(STATUS_LABELS),
        )
