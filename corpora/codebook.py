"""The codebook: the programme's fixed vocabulary, loaded from YAML and checked before anyone uses it.

Everything the rest of Clwstwr codes *to* lives here as data (``corpora/data/*.yaml``) rather than in
code, so a reviewer can correct a label or add an example without touching Python:

* ``outcomes.yaml``                 13 PCMW and 7 ACD outcomes (with PCMW maturity criteria)
* ``maturity_levels.yaml``          pre-foundation, foundation, developing, mature (with the exact
                                    self-reflection statements a Forms export contains)
* ``team_stages.yaml``              Tuckman's forming, storming, norming, performing
* ``health_boards.yaml``            the seven health boards and their regional partnership boards
* ``recommendation_headings.yaml``  the headings recommendations are grouped under
* ``questions.yaml``                the six free-text questions and the themes answers are coded to

Loading validates all of it and fails with a ``CodebookError`` that names the file and the entry
(``outcomes.yaml: pcmw[3] (id 'pcmw-4'): missing field 'name'``), because a silently wrong codebook
would miscount every report built on it. The result is immutable (frozen dataclasses and tuples), so
one loaded codebook can be shared by every request, and its ``version`` (declared version plus a hash
of the files' bytes) is recorded with each result so a rerun can be matched to the codebook it used.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from corpora.errors import CodebookError

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")

__all__ = [
    "DATA_DIR",
    "Codebook",
    "HealthBoard",
    "MaturityCriteria",
    "MaturityLevel",
    "Outcome",
    "Question",
    "RecommendationHeading",
    "RegionalPartnershipBoard",
    "TeamStage",
    "Theme",
    "load_codebook",
]

DATA_DIR = Path(__file__).parent / "data"

# Read (and hashed) in this order; the order is part of the version hash.
FILES = (
    "outcomes.yaml",
    "maturity_levels.yaml",
    "team_stages.yaml",
    "health_boards.yaml",
    "recommendation_headings.yaml",
    "questions.yaml",
)

# Fixed contracts (DESIGN.md): other tools, stored codings and exports refer to these ids.
PCMW_COUNT = 13
ACD_COUNT = 7
LEVEL_IDS = ("pre_foundation", "foundation", "developing", "mature")
STAGE_IDS = ("forming", "storming", "norming", "performing")
BOARD_COUNT = 7
QUESTION_KINDS = (
    ("barriers", "barrier"),
    ("impact_of_barriers", "barrier_impact"),
    ("overcoming_barriers", "overcoming"),
    ("enablers", "enabler"),
    ("impact_of_enablers", "enabler_impact"),
    ("what_would_help", "support_needed"),
)
# Themes each question must have (more may be added after them; none may be renamed).
REQUIRED_THEMES = {
    "barriers": ("funding", "engagement", "clarity", "time", "bureaucracy"),
    "impact_of_barriers": ("stalled_progress", "staff_morale", "patient_impact"),
    "overcoming_barriers": ("not_overcome", "relationships_and_trust", "partner_engagement", "wider_system_support"),
    "enablers": ("ways_of_working", "relationships", "leadership", "external_engagement", "individuals"),
    "impact_of_enablers": ("innovation_and_progress", "joint_working", "better_patient_care"),
    "what_would_help": (
        "autonomy",
        "reduced_bureaucracy",
        "sustainable_resources",
        "established_ways_of_working",
        "stronger_cluster_role",
    ),
}
# Fewer than three examples is too little for a coder to see where a theme's edges are.
MIN_EXAMPLES = 3
HEADING_SOURCES = ("peer_review_2022_23", "self_reflection_2024")



# --------------------------------------------------------------------------------------------------
# Domain values
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaturityCriteria:
    """The framework's criteria for one PCMW outcome at each maturity level (level 1, 2, 3)."""

    foundation: tuple[str, ...]
    developing: tuple[str, ...]
    mature: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """One PCMW or ACD outcome.

    ``aliases`` hold every other wording the documents and the self-reflection tool use for it, so
    an importer can match a column header to the outcome. PCMW outcomes carry ``criteria`` and no
    ``success_criteria``; ACD outcomes the reverse (the framework defines no ACD maturity criteria).
    """

    id: str
    module: str  # "pcmw" | "acd"
    number: int
    name: str
    description: str
    aliases: tuple[str, ...]
    keywords: tuple[str, ...]
    criteria: MaturityCriteria | None
    success_criteria: tuple[str, ...]

    @property
    def label(self) -> str:
        """How reports and letters name the outcome, e.g. ``"PCMW 7: Quality out-of-hours care"``."""
        return f"{self.module.upper()} {self.number}: {self.name}"


@dataclass(frozen=True)
class MaturityLevel:
    """A self-reflection maturity level; ``rank`` 0 (pre-foundation) to 3 (mature).

    ``statement_pcmw``/``statement_acd`` are byte-for-byte the tool's answer options, which is what a
    Forms export contains; ``summary_*`` are the shorter descriptions used in report text.
    """

    id: str
    rank: int
    label: str
    statement_pcmw: str
    statement_acd: str
    summary_pcmw: str
    summary_acd: str


@dataclass(frozen=True)
class TeamStage:
    """A Tuckman team-development stage with the cluster scenarios the tool offers for it."""

    id: str
    rank: int
    label: str
    definition: str
    cluster_examples: tuple[str, ...]


@dataclass(frozen=True)
class RegionalPartnershipBoard:
    """The RPB a health board sits within; outcome letters are copied to it."""

    id: str
    name: str
    welsh_name: str


@dataclass(frozen=True)
class HealthBoard:
    """A Welsh health board; ``aliases`` are the abbreviations and short forms people type."""

    id: str
    name: str
    short_name: str
    welsh_name: str
    aliases: tuple[str, ...]
    rpb: RegionalPartnershipBoard
    local_authorities: tuple[str, ...]


@dataclass(frozen=True)
class RecommendationHeading:
    """A heading recommendations and opportunities for action are grouped under.

    ``sources`` names the report(s) that use it: ``peer_review_2022_23`` and/or ``self_reflection_2024``.
    """

    id: str
    label: str
    description: str
    keywords: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Theme:
    """A code for answers to one question. Theme ids are unique across all questions."""

    id: str
    question_id: str
    label: str
    definition: str
    examples: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    """One of the six free-text self-reflection questions; ``kind`` is what the API's ``kind`` names."""

    id: str
    kind: str
    label: str
    wording: str
    aliases: tuple[str, ...]
    themes: tuple[Theme, ...]


@dataclass(frozen=True)
class Codebook:
    """The whole, validated codebook. Build it with ``load_codebook``; lookups raise ``CodebookError``."""

    version: str
    outcomes: tuple[Outcome, ...]
    maturity_levels: tuple[MaturityLevel, ...]
    team_stages: tuple[TeamStage, ...]
    health_boards: tuple[HealthBoard, ...]
    headings: tuple[RecommendationHeading, ...]
    questions: tuple[Question, ...]
    _index: dict[str, dict[str, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, dict[str, Any]] = {
            "outcome": {o.id: o for o in self.outcomes},
            "question": {q.id: q for q in self.questions},
            "kind": {q.kind: q for q in self.questions},
            "theme": {t.id: t for q in self.questions for t in q.themes},
            "level": {m.id: m for m in self.maturity_levels},
            "team stage": {s.id: s for s in self.team_stages},
            "health board": {b.id: b for b in self.health_boards},
        }
        object.__setattr__(self, "_index", index)

    @property
    def pcmw(self) -> tuple[Outcome, ...]:
        """The 13 PCMW outcomes, numbered order."""
        return tuple(o for o in self.outcomes if o.module == "pcmw")

    @property
    def acd(self) -> tuple[Outcome, ...]:
        """The 7 ACD outcomes, numbered order."""
        return tuple(o for o in self.outcomes if o.module == "acd")

    def _get(self, what: str, key: str) -> Any:
        table = self._index[what]
        try:
            return table[key]
        except (KeyError, TypeError):
            raise CodebookError(f"unknown {what} id {key!r}; valid ids: {', '.join(table)}") from None

    def outcome(self, outcome_id: str) -> Outcome:
        """The outcome with id ``pcmw-1`` … ``pcmw-13`` or ``acd-1`` … ``acd-7``."""
        return self._get("outcome", outcome_id)

    def question(self, id_or_kind: str) -> Question:
        """The question with this id (``barriers``) or kind (``barrier``): callers hold either."""
        by_id, by_kind = self._index["question"], self._index["kind"]
        if id_or_kind in by_id:
            return by_id[id_or_kind]
        if id_or_kind in by_kind:
            return by_kind[id_or_kind]
        raise CodebookError(
            f"unknown question id or kind {id_or_kind!r}; valid ids: {', '.join(by_id)}; "
            f"valid kinds: {', '.join(by_kind)}"
        )

    def theme(self, theme_id: str) -> Theme:
        """The theme with this id, whichever question it belongs to."""
        return self._get("theme", theme_id)

    def cue_words(self) -> frozenset[str]:
        """Every word of the cue keywords and theme labels (themes, outcomes, headings), case-folded,
        English and Welsh: the domain's own vocabulary, which de-identification must never take for
        somebody's name ("Perthynas dda" is "good relationships", not a person called Perthynas)."""
        phrases = [k for t in self.themes_for(None) for k in (*t.keywords, t.label)]
        phrases += [k for o in self.outcomes for k in o.keywords] + [k for h in self.headings for k in h.keywords]
        return frozenset(w.casefold() for p in phrases for w in _WORD.findall(p))

    def themes_for(self, kind: str | None = None) -> tuple[Theme, ...]:
        """Themes of one question (by kind or id) in codebook order; ``None`` gives every theme."""
        if kind is None:
            return tuple(self._index["theme"].values())
        return self.question(kind).themes

    def level(self, level_id: str) -> MaturityLevel:
        """The maturity level ``pre_foundation``, ``foundation``, ``developing`` or ``mature``."""
        return self._get("level", level_id)

    def team_stage(self, stage_id: str) -> TeamStage:
        """The Tuckman stage ``forming``, ``storming``, ``norming`` or ``performing``."""
        return self._get("team stage", stage_id)

    def health_board(self, board_id: str) -> HealthBoard:
        """The health board with this id (``abuhb``, ``bcuhb``, …); aliases are not resolved here."""
        return self._get("health board", board_id)


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def load_codebook(directory: Path | None = None) -> Codebook:
    """Load and validate the codebook from ``directory`` (default: the bundled ``corpora/data``).

    The default load is cached: the result is immutable and the bundled files do not change while
    the process runs. An explicit directory is always read afresh (tests write broken copies).
    Raises ``CodebookError`` naming the file and entry for any missing, malformed or inconsistent data.
    """
    if directory is None:
        return _load_default()
    return _load(Path(directory))


@functools.lru_cache(maxsize=1)
def _load_default() -> Codebook:
    return _load(DATA_DIR)


def _load(directory: Path) -> Codebook:
    from corpora.codebook_loading import load_directory  # imported here: it imports this module

    return load_directory(directory)


