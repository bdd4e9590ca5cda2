"""The thematic report as plain records: what every format (HTML, Word, PDF, JSON) is rendered from.

One model, several renderings, so the Word file can never say something the web page does not. Every
figure is a ``Cell`` that already went through the report's suppression rule; a board report's model
holds no unsuppressed count anywhere (``all_wales_summary`` is None there), so no template or
exporter can leak one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from corpora.codebook import HealthBoard, MaturityLevel, Outcome, Question, RecommendationHeading, TeamStage, Theme

from .maturity_summary import MaturitySummary
from .suppression import Cell, Suppression
from .theme_summary import Quote

TO_BE_AGREED = "to be agreed"


@dataclass(frozen=True)
class Scope:
    """All Wales (``board`` None, nothing suppressed) or one health board (small counts suppressed)."""

    board: HealthBoard | None
    suppression: Suppression

    @property
    def is_board(self) -> bool:
        return self.board is not None

    @property
    def name(self) -> str:
        return self.board.name if self.board else "All Wales"


@dataclass(frozen=True)
class Change:
    """A figure beside the previous round's: the previous count, the change, the change in share."""

    previous: Cell
    previous_base: Cell
    delta: Cell
    share_delta: float | None  # None when either share is withheld
    share_text: str  # "+4 pp", "—"


@dataclass(frozen=True)
class OutcomeRow:
    outcome: Outcome
    cells: tuple[Cell, ...]  # one per maturity level, in level order
    shares: tuple[float | None, ...]
    answered: Cell
    modal_levels: tuple[str, ...]  # empty in board reports: an ordering of withheld cells is itself a disclosure
    majority_pre_foundation: bool
    changes: tuple[Change, ...] | None  # per level, when a previous round is compared

    @property
    def fully_shown(self) -> bool:
        return not self.answered.suppressed and not any(c.suppressed for c in self.cells)


@dataclass(frozen=True)
class MaturityModule:
    id: str  # "pcmw" | "acd"
    title: str
    rows: tuple[OutcomeRow, ...]
    modal_counts: Mapping[str, int] | None  # level id -> outcomes with that modal level; None in board reports
    tied: tuple[OutcomeRow, ...]


@dataclass(frozen=True)
class StageRow:
    stage: TeamStage
    cell: Cell
    share: float | None
    change: Change | None


@dataclass(frozen=True)
class ThemeRow:
    theme: Theme
    count: Cell
    base: Cell
    share: float | None
    quotes: tuple[Quote, ...]
    change: Change | None

    @property
    def phrase(self) -> str:
        return f"{self.count.text} of {self.base.text} responses"


@dataclass(frozen=True)
class QuestionSection:
    question: Question
    answered: Cell
    fits_none: Cell
    themes: tuple[ThemeRow, ...]  # shown counts first (largest first), then withheld ones in codebook order
    answered_change: Change | None


@dataclass(frozen=True)
class Opportunity:
    """What a cluster said would help, as written (de-identified), with lead and timescale when it
    names them."""

    text: str
    health_board_id: str
    question_id: str
    lead: str | None
    timescale: str | None

    @property
    def lead_text(self) -> str:
        return self.lead or TO_BE_AGREED

    @property
    def timescale_text(self) -> str:
        return self.timescale or TO_BE_AGREED


@dataclass(frozen=True)
class OpportunityGroup:
    heading: RecommendationHeading
    clusters: Cell  # clusters with at least one sentence under this heading
    base: Cell  # clusters that answered the questions opportunities are drawn from
    items: tuple[Opportunity, ...]


@dataclass(frozen=True)
class CandidateTheme:
    """A topic discovery found that no codebook theme covers closely: for reviewers, not a finding."""

    keywords: tuple[str, ...]
    sentences: int
    exemplars: tuple[str, ...]
    nearest_theme: str  # label of the closest codebook theme
    similarity: float


@dataclass(frozen=True)
class SummarySentence:
    """One executive-summary sentence: a fixed template filled only with the figures listed here."""

    key: str
    text: str
    figures: Mapping[str, object]


@dataclass(frozen=True)
class BoardRow:
    board: HealthBoard
    responses: Cell


@dataclass(frozen=True)
class ThematicReport:
    round_name: str
    codebook_version: str
    generated_at: str
    scope: Scope
    responses: Cell
    total_clusters: int
    response_rate: float | None  # all-Wales only: a board's number of clusters is not recorded
    responses_change: Change | None
    previous_round: str | None
    comparison_note: str  # why some changes are missing, or ""
    levels: tuple[MaturityLevel, ...]
    modules: tuple[MaturityModule, ...]
    stages: tuple[StageRow, ...]
    stage_answered: Cell
    boards: tuple[BoardRow, ...]
    board_names: Mapping[str, str]  # every board id -> short name, for labelling quotes
    questions: tuple[QuestionSection, ...]  # empty when the round was never coded
    coding_model: str | None
    coding_run: int | None
    opportunities: tuple[OpportunityGroup, ...] | None  # None: not built (round not coded)
    candidates: tuple[CandidateTheme, ...] | None  # None: discovery not run for this report
    discovery_sentences: int
    discovery_threshold: float | None
    executive_summary: tuple[SummarySentence, ...]
    all_wales_summary: MaturitySummary | None  # the raw figures; None in board reports

    @property
    def coded(self) -> bool:
        return bool(self.questions)

    @property
    def has_comparison(self) -> bool:
        return self.previous_round is not None

    @property
    def themes_compared(self) -> bool:
        return any(t.change is not None for q in self.questions for t in q.themes)
