"""Opportunities for action, drafted from what clusters said would help and how they overcame barriers.

The published report groups its opportunities under recommendation headings, each with a lead
organisation and a timescale. A machine cannot agree actions on SPPC's behalf, so this drafts the
evidence for them: every sentence of the "what would help" and "overcoming barriers" answers is
mapped to the heading it speaks to (``nlp.outcome_mapping``), sentences are grouped under their best
heading, and each heading shows how many clusters raised it and a few representative sentences,
spread across health boards, word for word. A lead or timescale is shown only when the sentence
itself names one (``nlp.action_extraction``); otherwise it reads "to be agreed" for people to fill.

Which sentences: every readable sentence of a "what would help" answer; of an "overcoming barriers"
answer only the sentences the theme model chose as evidence of a way through (relationships, engaged
partners, wider support), because the rest of such answers mostly narrates ("It went to the PCPG,
which asked for more detail") or says nothing was overcome. Left out everywhere: non-answers ("N/A"),
fragments too short to read as a point, and contact lines ("contact [PERSON], [EMAIL]").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from corpora.codebook import Codebook
from nlp.action_extraction import extract_action, owner_pattern
from nlp.outcome_mapping import TargetScore
from nlp.quote_selection import MAX_CHARS, MIN_CHARS, QuoteCandidate, select_quotes
from nlp.segmentation import make_sentencizer, segment
from nlp.theme_suggester import is_non_answer

from .report_model import Opportunity, OpportunityGroup
from .suppression import Suppression
from .theme_summary import CodedLike

SOURCE_QUESTIONS = ("what_would_help", "overcoming_barriers")
ALL_SENTENCES = "what_would_help"
NOT_A_WAY_FORWARD = frozenset({"not_overcome"})
CONTACT = re.compile(r"\[(?:EMAIL|PHONE)\]")
PER_HEADING = 4


class MapsTexts(Protocol):
    """What ``nlp.outcome_mapping.OutcomeMapper`` offers: (outcomes, headings) per text."""

    def map_texts(
        self, texts: Sequence[str]
    ) -> list[tuple[tuple[TargetScore, ...], tuple[TargetScore, ...]]]: ...


@dataclass(frozen=True)
class OpportunitySentence:
    """One sentence of a source answer and the heading it was mapped to (best first)."""

    answer_id: int
    cluster_name: str
    health_board_id: str
    question_id: str
    answer_text: str  # de-identified; start/end index into it
    start: int
    end: int
    heading_id: str | None
    score: float

    @property
    def text(self) -> str:
        return self.answer_text[self.start : self.end]


def _evidence_spans(payload: Mapping[str, object]) -> set[tuple[int, int]]:
    """Evidence sentences of the themes that describe a way forward."""
    spans = set()
    for theme in payload.get("themes", []) or []:  # type: ignore[union-attr]
        if theme.get("id") not in NOT_A_WAY_FORWARD:
            spans.add((int(theme["evidence_start"]), int(theme["evidence_end"])))
    return spans


def _readable(text: str) -> bool:
    return MIN_CHARS <= len(text) <= MAX_CHARS and not CONTACT.search(text)


def source_answers(coded: Sequence[CodedLike]) -> list[CodedLike]:
    """The answers opportunities are drawn from: the two source questions, real answers only."""
    return [c for c in coded if c.question_id in SOURCE_QUESTIONS and not is_non_answer(c.deidentified_text)]


def opportunity_sentences(coded: Sequence[CodedLike], mapper: MapsTexts) -> list[OpportunitySentence]:
    """Segment the source answers and map each readable sentence to its best heading."""
    sentencizer = make_sentencizer()
    pending: list[tuple[CodedLike, int, int]] = []
    for answer in source_answers(coded):
        if answer.question_id == ALL_SENTENCES:
            spans = {(seg.start, seg.end) for seg in segment(answer.deidentified_text, sentencizer)}
        else:
            spans = _evidence_spans(answer.payload)
        for start, end in sorted(spans):
            if _readable(answer.deidentified_text[start:end]):
                pending.append((answer, start, end))
    mapped = mapper.map_texts([a.deidentified_text[s:e] for a, s, e in pending]) if pending else []
    out = []
    for (answer, start, end), (_outcomes, headings) in zip(pending, mapped):
        best = headings[0] if headings else None
        out.append(
            OpportunitySentence(
                answer.answer_id, answer.cluster_name, answer.health_board_id, answer.question_id,
                answer.deidentified_text, start, end, best.id if best else None, best.score if best else 0.0,
            )
        )
    return out


def group_opportunities(
    codebook: Codebook,
    sentences: Sequence[OpportunitySentence],
    base_clusters: int,
    suppression: Suppression,
    *,
    per_heading: int = PER_HEADING,
) -> tuple[OpportunityGroup, ...]:
    """One group per recommendation heading, in codebook order, with the clusters behind it."""
    patterns = owner_pattern(codebook)
    base = suppression.count(base_clusters)
    groups = []
    for heading in codebook.headings:
        mine = [s for s in sentences if s.heading_id == heading.id]
        by_id = {(s.answer_id, s.start): s for s in mine}
        chosen = select_quotes(
            [QuoteCandidate(s.answer_id, s.health_board_id, s.answer_text, s.start, s.end, s.score) for s in mine],
            per_heading,
        )
        items = []
        for c in chosen:
            source = by_id[(c.answer_id, c.start)]
            details = extract_action(c.quote, patterns)
            items.append(Opportunity(c.quote, source.health_board_id, source.question_id, details.owner, details.timescale))
        groups.append(
            OpportunityGroup(heading, suppression.count(len({s.cluster_name for s in mine})), base, tuple(items))
        )
    return tuple(groups)
