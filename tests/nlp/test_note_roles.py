from __future__ import annotations

import dataclasses

import pytest

from nlp.note_roles import (
    ClassifiedSentence,
    RoleGuess,
    classify_notes,
    classify_sentence,
)
from nlp.segmentation import make_sentencizer

NLP = make_sentencizer()


@pytest.mark.parametrize(
    "sentence",
    [
        "Consider a joint session with the dental leads on oral health.",
        "Review the referral criteria for the falls service.",
        "Develop a shared induction pack for new pharmacists.",
        "Engage the town council in the estates conversation.",
        "Explore whether the Llanidloes surgery could host a hub.",
        "Look to the carers' centre for volunteer drivers.",
        "Work with HEIW on placements for paramedics.",
        "Continue the monthly huddle with community nursing.",
        "Begin mapping the social prescribing offer.",
        "Raise the travel costs issue at the next PCPG.",
        "Team to draft a communications plan for the new hub.",
        "The cluster lead to consider a second phlebotomy clinic.",
        "Action: share the audit template with all practices.",
        "Agreed: the frailty pathway goes to the board in spring.",
        "Hywel Dda UHB will circulate the revised estates plan.",
    ],
)
def test_note_roles_actions_are_recognised(sentence: str) -> None:
    guess = classify_sentence(sentence)
    assert guess.role == "action"
    assert guess.cues
    assert 0.5 < guess.confidence < 1


@pytest.mark.parametrize(
    "sentence",
    [
        "There was concern that locum cover leaves no room for cluster meetings.",
        "Recruiting to rural practices remains difficult.",
        "A lack of shared IT systems was described as the main barrier.",
        "Members voiced frustration at the short funding cycle.",
    ],
)
def test_note_roles_challenges_are_recognised(sentence: str) -> None:
    assert classify_sentence(sentence).role == "challenge"


@pytest.mark.parametrize(
    "sentence",
    [
        "The falls project was successful and is now funded recurrently.",
        "The cluster has developed a strong link with the food bank.",
        "The wellbeing café is well attended and working well.",
        "Their triage hub is a good practice example for other areas.",
    ],
)
def test_note_roles_good_practice_is_recognised(sentence: str) -> None:
    assert classify_sentence(sentence).role == "good_practice"


def test_note_roles_sentence_without_cues_is_context_at_half_confidence() -> None:
    assert classify_sentence("The meeting was held at the Ystradgynlais office in May.") == RoleGuess("context", 0.5, ())


def test_note_roles_prediction_with_will_but_no_owner_is_not_an_action() -> None:
    assert classify_sentence("This will take some time to settle in.").role == "context"


def test_note_roles_statement_with_need_is_weaker_than_an_imperative() -> None:
    weak = classify_sentence("There is a need to improve rota planning.")
    strong = classify_sentence("Improve rota planning. Review the rota.")
    assert weak.role == "action" and strong.role == "action"
    assert "need to" in weak.cues and "imperative" not in weak.cues


def test_note_roles_notes_offsets_round_trip_with_bullets_and_welsh() -> None:
    text = (
        "Trafodaeth: the Ynys Môn team described the café as well attended.\n"
        "\t· Review the rota for Gŵyl Dewi week.\n"
        "·Team to consider a Welsh-language clinic in Llŷn.\n"
        "• Staff shortages make weekend cover difficult.\n"
        "- Continue the monthly huddle.\n"
    )
    classified = classify_notes(text, NLP)
    assert [c.text for c in classified] == [
        "Trafodaeth: the Ynys Môn team described the café as well attended.",
        "Review the rota for Gŵyl Dewi week.",
        "Team to consider a Welsh-language clinic in Llŷn.",
        "Staff shortages make weekend cover difficult.",
        "Continue the monthly huddle.",
    ]
    assert [c.role for c in classified] == ["good_practice", "action", "action", "challenge", "action"]
    assert all(text[c.start : c.end] == c.text for c in classified)


def test_note_roles_two_sentences_on_one_line_are_classified_separately() -> None:
    text = "The hub is working well. Develop a second hub in the south."
    roles = [(c.text, c.role) for c in classify_notes(text, NLP)]
    assert roles == [("The hub is working well.", "good_practice"), ("Develop a second hub in the south.", "action")]


def test_note_roles_empty_and_bullet_only_notes_give_nothing() -> None:
    assert classify_notes("", NLP) == []
    assert classify_notes("·\n - \n", NLP) == []


def test_note_roles_results_are_frozen() -> None:
    item = classify_notes("Review the rota.", NLP)[0]
    assert isinstance(item, ClassifiedSentence)
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.role = "context"  # type: ignore[misc]
