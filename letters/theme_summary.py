"""Theme counts per question ("37 of 46 responses") and the quotes that illustrate each theme.

Counted from the stored suggestions of one coding run (later: reviewers' consensus codes). A cluster
counts once per theme per question however many of its sentences carry the theme; the base is the
clusters that gave a non-empty answer to that question, stated beside every count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from corpora.codebook import Codebook, Question, Theme
from nlp.quote_selection import QuoteCandidate, select_quotes


class CodedLike(Protocol):
    answer_id: int
    cluster_name: str
    health_board_id: str
    question_id: str
    deidentified_text: str
    payload: Mapping[str, object]


@dataclass(frozen=True)
class Quote:
    text: str  # exact substring of the de-identified answer
    health_board_id: str


@dataclass(frozen=True)
class ThemeCount:
    theme: Theme
    count: int
    base: int
    quotes: tuple[Quote, ...]

    @property
    def phrase(self) -> str:
        return f"{self.count} of {self.base} responses"


@dataclass(frozen=True)
class QuestionThemes:
    question: Question
    answered: int
    fits_none: int  # answers the suggester found no theme in
    themes: tuple[ThemeCount, ...]  # most frequent first, codebook order on ties


def summarise_themes(codebook: Codebook, coded: Sequence[CodedLike], quotes_per_theme: int = 3) -> tuple[QuestionThemes, ...]:
    out: list[QuestionThemes] = []
    for question in codebook.questions:
        answers = [c for c in coded if c.question_id == question.id and c.deidentified_text.strip()]
        clusters = {c.cluster_name for c in answers}
        none = sum(1 for c in answers if not c.payload.get("themes"))
        counts: list[ThemeCount] = []
        for position, theme in enumerate(question.themes):
            having: set[str] = set()
            candidates: list[QuoteCandidate] = []
            for c in answers:
                for t in c.payload.get("themes", []):  # type: ignore[union-attr]
                    if t["id"] != theme.id:
                        continue
                    having.add(c.cluster_name)
                    candidates.append(QuoteCandidate(c.answer_id, c.health_board_id, c.deidentified_text,
                                                     int(t["evidence_start"]), int(t["evidence_end"]), float(t["score"])))
            quotes = tuple(Quote(q.quote, q.group) for q in select_quotes(candidates, quotes_per_theme))
            counts.append(ThemeCount(theme, len(having), len(clusters), quotes))
        order = {t.id: i for i, t in enumerate(question.themes)}
        counts.sort(key=lambda tc: (-tc.count, order[tc.theme.id]))
        out.append(QuestionThemes(question, len(clusters), none, tuple(counts)))
    return tuple(out)
