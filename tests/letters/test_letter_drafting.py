"""Drafting a letter from notes: sentences where the notes put them, actions with the owner and
timescale the notes give, exact spans, nothing invented — first from structure alone, then with the
real models (session fixtures) on the sample notes."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import docx
import pytest

from corpora.codebook import Codebook
from letters.letter_drafting import draft_letter
from letters.letter_model import GENERAL, LetterDraft, PeerReview, PeerReviewError
from letters.peer_review_files import read_notes, read_peer_review
from nlp.segmentation import make_sentencizer

SAMPLE_REVIEW = Path(__file__).resolve().parents[2] / "corpora" / "sample" / "peer_review.yaml"
NLP = make_sentencizer()


def _review(notes: str, outcomes: tuple[str, str, str] = ("pcmw-6", "pcmw-7", "acd-6")) -> PeerReview:
    return PeerReview("Mid Powys Wye", "pthb", date(2025, 6, 5), "Dr Eleri Rhys", "Owain Price", "Gower Peninsula",
                      outcomes, (), notes)


def _by_text(draft: LetterDraft) -> dict[str, tuple[str, str]]:
    """sentence text -> (role, outcome); actions as role 'action'."""
    out = {s.text: (s.role, s.outcome) for s in draft.sentences}
    out.update({a.text: ("action", a.outcome) for a in draft.actions})
    return out


def _assert_exact_spans(draft: LetterDraft) -> None:
    notes = draft.review.notes
    for item in (*draft.sentences, *draft.actions):
        assert item.source is not None and notes[item.source.start:item.source.end] == item.text
    for action in draft.actions:
        if action.owner:
            assert notes[action.owner_source.start:action.owner_source.end] == action.owner
        if action.timescale:
            assert notes[action.timescale_source.start:action.timescale_source.end] == action.timescale


@pytest.fixture(scope="module")
def sample_review(codebook: Codebook) -> PeerReview:
    return read_peer_review(SAMPLE_REVIEW, codebook)


def test_letter_drafting_files_sentences_under_their_outcome_heading_with_exact_spans(sample_review: PeerReview, codebook: Codebook) -> None:
    draft = draft_letter(sample_review, codebook, NLP)
    _assert_exact_spans(draft)
    got = _by_text(draft)
    expected = {
        "The community connectors have built a strong network of local groups across the peninsula, and their weekly drop-in at Tŷ Nefyn is well attended.": ("good_practice", "pcmw-2"),
        "Limited public transport makes it difficult for people in Aberdaron and the western villages to reach group activities.": ("challenge", "pcmw-2"),
        "The phlebotomy clinic at Ysbyty Bryn Beryl has improved access for patients who previously travelled to Bangor.": ("good_practice", "pcmw-12"),
        "Staff shortages in the radiology team were described as a barrier to any local outreach clinic.": ("challenge", "pcmw-12"),
        "BCUHB to consider a mobile ultrasound session in Pwllheli as part of the diagnostics at scale work, with a decision in Q3 2025/26.": ("action", "pcmw-12"),
        "There is no succession plan for the cluster lead role, which was seen as a risk to the cluster's continuity.": ("challenge", "acd-3"),
        "The PCPG to agree protected time for cluster and collaborative leads by March 2026.": ("action", "acd-3"),
        # The cue words say nothing; the heading the sentence sits under does.
        "Patients still wait many weeks for ultrasound, and the nearest scanner is over an hour away for much of the cluster.": ("challenge", "pcmw-12"),
        "HEIW to offer places on the next leadership cohort to clinicians from the cluster.": ("action", "acd-3"),
        "Joint leadership meetings between the cluster and the professional collaboratives have worked well since the autumn.": ("good_practice", "acd-3"),
    }
    for text, where in expected.items():
        assert got[text] == where, text
    assert not any(t.startswith("#") or t in ("Good practice", "Challenges", "Agreed actions") for t in got)
    assert draft.extra["drafting"]["role_from"]["s14"] == "heading"


def test_letter_drafting_owners_and_timescales_are_the_notes_words_and_blanks_are_flagged(sample_review: PeerReview, codebook: Codebook) -> None:
    actions = {a.text[:30]: a for a in draft_letter(sample_review, codebook, NLP).actions}
    assert len(actions) == 10
    share = actions["Cluster lead to share the walk"]
    assert (share.owner, share.timescale) == ("Cluster lead", "by the end of June 2025")
    assert (actions["BCUHB to consider a mobile ult"].owner, actions["BCUHB to consider a mobile ult"].timescale) == ("BCUHB", "in Q3 2025/26")
    assert actions["SPPC to share the outcome lett"].timescale == "within four weeks"
    blank = actions["Map the local groups the conne"]
    assert blank.owner is None and blank.timescale is None and blank.needs_owner and blank.needs_timescale
    dhcw = actions["DHCW to confirm when community"]
    assert dhcw.owner == "DHCW" and dhcw.needs_timescale and not dhcw.needs_owner
    assert blank.to_dict()["needs_owner"] is True


def test_letter_drafting_is_deterministic_and_round_trips(sample_review: PeerReview, codebook: Codebook) -> None:
    first, second = draft_letter(sample_review, codebook, NLP), draft_letter(sample_review, codebook, NLP)
    assert first.to_dict() == second.to_dict()
    assert [s.id for s in first.sentences][:3] == ["s1", "s2", "s3"] and first.actions[0].id == "a1"
    assert LetterDraft.from_dict(first.to_dict()).to_dict() == first.to_dict()


def test_letter_drafting_without_models_leaves_unstructured_sentences_general(sample_review: PeerReview, codebook: Codebook) -> None:
    draft = draft_letter(sample_review, codebook, NLP)
    other = [s for s in draft.sentences if "echocardiograms" in s.text or "shared IT systems" in s.text]
    assert len(other) == 2 and all(s.outcome == GENERAL and s.role == "challenge" and not s.themes for s in other)


def test_letter_drafting_plain_headings_and_a_heading_for_another_outcome(codebook: Codebook) -> None:
    notes = (
        "Quality out-of-hours care\n"
        "Good practice:\n"
        "The 111 call handlers have access to the practice records.\n"
        "Challenges:\n"
        "Weekend cover was described as fragile.\n"
        "Agreed actions:\n"
        "Cluster to write up the call handling audit by May 2026.\n"
        "PCMW 11 - IT systems\n"
        "The cluster has successfully moved every practice to one clinical system.\n"
        "Unplaced sentence about ACD 6 workforce: recruitment of nurses remains difficult.\n"
    )
    draft = draft_letter(_review(notes), codebook, NLP)
    got = _by_text(draft)
    _assert_exact_spans(draft)
    assert got["The 111 call handlers have access to the practice records."] == ("good_practice", "pcmw-7")
    assert got["Weekend cover was described as fragile."] == ("challenge", "pcmw-7")
    assert got["Cluster to write up the call handling audit by May 2026."] == ("action", "pcmw-7")
    # A heading about an outcome the review did not discuss: its sentences are not put under the three.
    assert got["The cluster has successfully moved every practice to one clinical system."] == ("good_practice", GENERAL)


def test_letter_drafting_a_sentence_naming_an_outcome_goes_there_when_no_heading_says(codebook: Codebook) -> None:
    notes = "Recruitment of practice nurses for ACD 6 remains difficult.\nThe weather was fine."
    draft = draft_letter(_review(notes), codebook, NLP)
    assert _by_text(draft)["Recruitment of practice nurses for ACD 6 remains difficult."] == ("challenge", "acd-6")
    assert draft.extra["drafting"]["placement"]["s1"] == "reference"


def test_letter_drafting_from_a_word_document_keeps_its_headings(codebook: Codebook) -> None:
    document = docx.Document()
    document.add_heading("ACD 6: Sustainable workforce", level=2)
    document.add_paragraph("Practice pharmacists have been retained successfully.", style="List Bullet")
    document.add_heading("PCMW 6: Call handling", level=2)
    document.add_paragraph("PTHB to review the triage script within three months.", style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    draft = draft_letter(_review(read_notes("notes.docx", buffer.getvalue())), codebook, NLP)
    got = _by_text(draft)
    assert got["Practice pharmacists have been retained successfully."] == ("good_practice", "acd-6")
    action = draft.actions[0]
    assert (action.outcome, action.owner, action.timescale) == ("pcmw-6", "PTHB", "within three months")


def test_letter_drafting_refuses_an_unknown_health_board(codebook: Codebook) -> None:
    review = PeerReview("X", "gwynedd", date(2025, 1, 1), "A", "B", "C", ("pcmw-1", "pcmw-2", "acd-1"), (), "Notes.")
    with pytest.raises(PeerReviewError, match="'health_board': 'gwynedd' is not a health board id; expected one of abuhb"):
        draft_letter(review, codebook, NLP)


# ---------------------------------------------------------------------------------- real models

@pytest.mark.slow
def test_letter_drafting_with_models_places_unstructured_sentences_and_tags_challenges(
    sample_review: PeerReview, codebook: Codebook, suggestion_service, text_models
) -> None:
    draft = draft_letter(sample_review, codebook, NLP, suggestion_service)
    _assert_exact_spans(draft)
    got = {s.text: s for s in draft.sentences}
    echo = got["Long waits for echocardiograms and other diagnostic tests in the community were raised as a further concern."]
    assert (echo.role, echo.outcome) == ("challenge", "pcmw-12")
    assert draft.extra["drafting"]["placement"][echo.id] == "mapper"
    leaders = got["Cluster leads from both clusters said that finding time for leadership development is a challenge."]
    assert leaders.outcome == "acd-3"
    # About IT systems (PCMW 11), which this review did not discuss: not forced under one of its three.
    assert got["A lack of shared IT systems between practices and community services was raised as a wider barrier."].outcome == GENERAL
    sppc = next(a for a in draft.actions if a.text.startswith("SPPC to share the outcome letter"))
    assert sppc.outcome == GENERAL  # a process action, below the mapper's bar for any of the three
    barrier_ids = {t.id for t in codebook.themes_for("barrier")}
    challenges = [s for s in draft.sentences if s.role == "challenge"]
    assert all(set(s.themes) <= barrier_ids for s in challenges)
    assert sum(bool(s.themes) for s in challenges) >= len(challenges) // 2
    assert "funding" in got["There was concern that short-term funding for the connector posts puts the network at risk each spring."].themes
    assert not any(s.themes for s in draft.sentences if s.role != "challenge")
    # Structure still wins over similarity: everything under an outcome heading stays there.
    structure_only = {s.id: s.outcome for s in draft_letter(sample_review, codebook, NLP).sentences}
    placement = draft.extra["drafting"]["placement"]
    assert all(s.outcome == structure_only[s.id] for s in draft.sentences if placement[s.id] == "heading")
    assert draft.extra["drafting"]["model"] == suggestion_service.model
    # The spaCy pipeline the API holds works as the segmenter too.
    with_pipeline = draft_letter(sample_review, codebook, text_models.spacy_pipeline, suggestion_service)
    _assert_exact_spans(with_pipeline)
    assert len(with_pipeline.actions) == len(draft.actions)
