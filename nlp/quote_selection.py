"""Choose the quotes a report shows for a theme: representative, readable, de-identified, spread out.

Candidates are evidence sentences, each an exact span of a de-identified answer. A quote carrying a
placeholder ("[PERSON] said...") is readable but would show a reader that something was removed, so
clean sentences are preferred and placeholder ones used only when nothing else is left. Selection is
greedy on score with one rule: no second quote from a health board while another board still has a
candidate, so one vocal area does not speak for Wales.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
MIN_CHARS = 30  # shorter evidence ("Funding.") is a label, not a quote
MAX_CHARS = 320


@dataclass(frozen=True)
class QuoteCandidate:
    answer_id: int
    group: str  # what quotes are spread across (a health board id)
    text: str  # the de-identified answer
    start: int
    end: int
    score: float

    @property
    def quote(self) -> str:
        return self.text[self.start : self.end]


def _eligible(c: QuoteCandidate) -> bool:
    return MIN_CHARS <= len(c.quote) <= MAX_CHARS


def select_quotes(candidates: Sequence[QuoteCandidate], k: int = 3) -> list[QuoteCandidate]:
    """Up to ``k`` quotes, best first, at most one per answer, spread across groups."""
    pool = [c for c in candidates if _eligible(c)]
    pool.sort(key=lambda c: (bool(PLACEHOLDER.search(c.quote)), -c.score, c.answer_id, c.start))
    chosen: list[QuoteCandidate] = []
    used_groups: set[str] = set()
    used_answers: set[int] = set()
    seen_quotes: set[str] = set()
    for strict in (True, False):
        for c in pool:
            if len(chosen) >= k:
                return chosen
            if c.answer_id in used_answers or c.quote in seen_quotes:
                continue
            if strict and c.group in used_groups:
                continue
            chosen.append(c)
            used_groups.add(c.group)
            used_answers.add(c.answer_id)
            seen_quotes.add(c.quote)
    return chosen
