"""A fictional peer review and a hand-made draft of its letter, shared by the store and API tests.

The notes are written for these tests (no real cluster or person); the draft's spans point into them,
so it passes ``LetterDraft.from_dict`` exactly as a machine draft would.
"""

from __future__ import annotations

from typing import Any

from letters.letter_model import DraftAction, DraftSentence, LetterDraft, PeerReview, Span

NOTES = (
    "The cluster has a shared social prescribing service that every practice refers to. "
    "Members said protected time for the cluster lead is the main challenge, and funding is agreed only a year at a time. "
    "The cluster will map its community assets with the local authority by March 2026. "
    "The health board agreed to confirm recurrent funding for the pharmacist post."
)


def review_record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "cluster": "Afon Teifi Cluster",
        "health_board": "hduhb",
        "review_date": "2025-03-14",
        "chair": "Dr Elin Rhys",
        "sppc_representative": "Gareth Morgan",
        "reviewing": "Bro Ddyfi Cluster, Powys Teaching Health Board",
        "outcomes": ["pcmw-3", "pcmw-7", "acd-2"],
        "attendees": ["Cluster lead", "Practice manager", "Community pharmacist"],
        "notes": NOTES,
    }
    record.update(changes)
    return record


def _span(sentence: str) -> Span:
    start = NOTES.index(sentence)
    return Span(start, start + len(sentence))


def sample_draft() -> LetterDraft:
    review = PeerReview.from_dict(review_record())
    s1 = "The cluster has a shared social prescribing service that every practice refers to."
    s2 = "Members said protected time for the cluster lead is the main challenge, and funding is agreed only a year at a time."
    a1 = "The cluster will map its community assets with the local authority by March 2026."
    a2 = "The health board agreed to confirm recurrent funding for the pharmacist post."
    return LetterDraft(
        review=review,
        sentences=(
            DraftSentence("s1", s1, "good_practice", "pcmw-3", source=_span(s1)),
            DraftSentence("s2", s2, "challenge", "acd-2", themes=("time", "funding"), source=_span(s2)),
        ),
        actions=(
            DraftAction("a1", "Map community assets with the local authority.", "pcmw-7", owner="cluster",
                        timescale="March 2026", source=_span(a1)),
            DraftAction("a2", "Confirm recurrent funding for the pharmacist post.", "acd-2", owner="health board",
                        source=_span(a2)),
        ),
    )


def sample_payload() -> dict[str, Any]:
    return sample_draft().to_dict()
