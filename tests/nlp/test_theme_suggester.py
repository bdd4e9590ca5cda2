"""The suggester on answers a reviewer would code without hesitation, on non-answers, and for
determinism. Uses the real embedding model (session fixture)."""

from __future__ import annotations

import json
import re

import pytest

from nlp.theme_suggester import ThemeSuggester, is_non_answer

CLEAR_CUT = [
    ("barrier", "The cluster budget has been frozen for years and all the money we get is non-recurrent.", "funding"),
    ("barrier", "GPs simply cannot be released from clinics to attend cluster meetings; there is no protected time.", "time"),
    ("barrier", "Half of the practices never send anyone to the cluster meetings and social care don't engage.", "engagement"),
    ("barrier", "Nobody can tell us what the cluster is for now that the PCPG and the collaboratives exist.", "clarity"),
    ("barrier", "Every spend needs three layers of health board sign-off and the procurement rules stop us.", "bureaucracy"),
    ("barrier_impact", "Projects have stalled and nothing new has been started this year.", "stalled_progress"),
    ("barrier_impact", "Staff are frustrated and exhausted; two members have left and morale is at rock bottom.", "staff_morale"),
    ("barrier_impact", "Patients are waiting longer and inequalities in access are widening.", "patient_impact"),
    ("overcoming", "To be honest we haven't overcome them; the problems are still there.", "not_overcome"),
    ("enabler", "Our cluster lead gives clear direction and the collaborative leads drive the work.", "leadership"),
    ("enabler", "Strong trusting relationships between the GPs, pharmacists, nurses and therapists in the MDT.", "relationships"),
    # the codebook lists "relationships"; answers often say it in the singular
    ("enabler", "We have a really good relationship across the practices and with the community pharmacists - people "
                "pick up the phone to each other and help out.", "relationships"),
    # in Welsh, opening with a codebook word that de-identification once took for a person's name
    ("enabler", "Perthynas dda rhwng y practisau a'r fferyllwyr.", "relationships"),
    ("enabler", "Working closely with the local authority, the third sector and the health board directorates.", "external_engagement"),
    ("enabler_impact", "Patients can now see a physio or mental health practitioner close to home without a GP referral.", "better_patient_care"),
    ("support_needed", "Recurrent, multi-year funding so we can keep staff beyond March.", "sustainable_resources"),
    ("support_needed", "Let the cluster decide how to spend its own allocation without the health board second-guessing.", "autonomy"),
    ("support_needed", "Far less paperwork and reporting; a simpler, proportionate approval process.", "reduced_bureaucracy"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "text", "theme"), CLEAR_CUT, ids=[c[2] for c in CLEAR_CUT])
def test_theme_suggester_puts_the_obvious_theme_first(suggestion_service, kind: str, text: str, theme: str) -> None:
    result = suggestion_service.suggest(text, kind)
    assert result.themes, f"no theme suggested for a clear {theme} answer"
    assert result.themes[0].id == theme, [(t.id, round(t.score, 2)) for t in result.themes]
    assert 0.0 <= result.themes[0].score <= 1.0


LONG_ANSWERS_WITHOUT_A_QUESTION = [
    ("The biggest barrier remains finance. Our allocation has not increased in line with demand and the pressures "
     "on general practice, and much of it arrives late in the year as slippage which must be spent quickly. Projects "
     "that have proven their worth are not mainstreamed by the health board, which ties up cluster money that should "
     "be freeing up for new ideas.", "funding"),
    ("In all honesty most of these barriers have not been overcome. Where we have made progress it is because of the "
     "strong relationships within the cluster and the trust that has built up between members over time.",
     "relationships_and_trust"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("text", "theme"), LONG_ANSWERS_WITHOUT_A_QUESTION, ids=["funding", "trust"])
def test_theme_suggester_without_a_question_weighs_all_themes_together(suggestion_service, text: str, theme: str) -> None:
    """Without a question kind every theme competes with every other. Scored as six separate
    questions, each question's leading theme looked near-certain and a long answer about finance
    came out "innovation and progress" first."""
    result = suggestion_service.suggest(text, None)
    assert result.themes and result.themes[0].id == theme, [(t.id, round(t.score, 2)) for t in result.themes]


@pytest.mark.slow
def test_theme_suggester_is_multi_label(suggestion_service) -> None:
    text = "The money is all short-term. On top of that, every bid goes through three health board panels before we can spend a penny."
    ids = [t.id for t in suggestion_service.suggest(text, "barrier").themes]
    assert {"funding", "bureaucracy"} <= set(ids)


@pytest.mark.slow
@pytest.mark.parametrize("text", ["N/A", "See above", "as per previous answer", "Nothing further to add.", "", "   "])
def test_theme_suggester_says_non_answers_fit_no_theme(suggestion_service, text: str) -> None:
    result = suggestion_service.suggest(text, "barrier")
    assert result.fits_none and result.themes == ()
    assert result.to_json()["fits_none"] is True


@pytest.mark.slow
def test_theme_suggester_evidence_is_a_sentence_of_the_deidentified_answer(suggestion_service) -> None:
    text = "Meetings are well run.\nThe real barrier is money: everything is non-recurrent funding."
    result = suggestion_service.suggest(text, "barrier")
    top = result.themes[0]
    assert top.id == "funding"
    assert result.text[top.evidence_start : top.evidence_end] == top.evidence
    assert "non-recurrent" in top.evidence and "well run" not in top.evidence


@pytest.mark.slow
def test_theme_suggester_never_returns_identifiers(suggestion_service) -> None:
    text = (
        "Our cluster lead Dr Gwenllian Pritchard (gwenllian.pritchard@wales.nhs.uk, 07700 900123) has no protected time, "
        "and patient 943 476 5919 at CF10 1AA waited weeks because funding ran out."
    )
    payload = json.dumps(suggestion_service.suggest(text, "barrier").to_json(), ensure_ascii=False)
    for secret in ("Gwenllian", "Pritchard", "gwenllian.pritchard@", "07700 900123", "943 476 5919", "CF10 1AA"):
        assert secret not in payload
    assert "[PERSON]" in payload and "[EMAIL]" in payload


@pytest.mark.slow
def test_theme_suggester_same_seed_same_model(codebook, text_models) -> None:
    first = ThemeSuggester(codebook, text_models.embedder, seed=3).fit([])
    second = ThemeSuggester(codebook, text_models.embedder, seed=3).fit([])
    texts = ["No time to attend.", "Recurrent funding please.", "Good leadership from our CL."]
    kinds = ["barriers", "what_would_help", "enablers"]
    a = [[(s.theme_id, s.score) for s in r.ranked] for r in first.score(texts, kinds)]
    b = [[(s.theme_id, s.score) for s in r.ranked] for r in second.score(texts, kinds)]
    assert a == b
    assert first.fit_hash_ == second.fit_hash_ and first.threshold_ == second.threshold_


@pytest.mark.slow
def test_theme_suggester_unknown_kind_names_the_valid_ones(suggestion_service) -> None:
    from nlp.suggestion_service import UnknownKindError

    with pytest.raises(UnknownKindError, match="barrier, barrier_impact"):
        suggestion_service.suggest("text", "barriers-and-stuff")


def test_theme_suggester_non_answer_rule_keeps_short_real_answers() -> None:
    assert is_non_answer("N/A") and is_non_answer("see above") and is_non_answer("Nil to add.")
    for real in ("Funding.", "No time.", "No money", "None of the practices engage."):
        assert not is_non_answer(real), real
    assert re.search("x", "x")
