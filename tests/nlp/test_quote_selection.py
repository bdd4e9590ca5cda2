from __future__ import annotations

from nlp.quote_selection import QuoteCandidate, select_quotes

TEXT = "Funding is short term and we cannot keep staff. [PERSON] said the bid process is far too slow for us. Ok."


def cand(answer: int, group: str, start: int, end: int, score: float, text: str = TEXT) -> QuoteCandidate:
    return QuoteCandidate(answer, group, text, start, end, score)


def test_quote_selection_spreads_across_health_boards_before_repeating_one() -> None:
    a = cand(1, "abuhb", 0, 47, 0.99)
    b = cand(2, "abuhb", 0, 47, 0.98, TEXT + " ")
    c = cand(3, "hduhb", 0, 47, 0.50, "x" + TEXT)
    chosen = select_quotes([a, b, c], k=2)
    assert [q.answer_id for q in chosen] == [1, 3]


def test_quote_selection_prefers_quotes_without_placeholders_and_skips_fragments() -> None:
    clean = cand(1, "abuhb", 0, 47, 0.6)
    placeholder = cand(2, "bcuhb", 48, 101, 0.9)
    fragment = cand(3, "cavuhb", 102, 105, 0.99)
    chosen = select_quotes([placeholder, fragment, clean], k=3)
    assert [q.answer_id for q in chosen] == [1, 2]
    assert all(q.quote == q.text[q.start : q.end] for q in chosen)
