"""Outcome mapping on sentences whose outcome is not in doubt (real embedding model)."""

from __future__ import annotations

import pytest

from nlp.outcome_mapping import OutcomeMapper

CASES = [
    ("We have no access to spirometry or echocardiography in the community, patients wait months.", "pcmw-12"),
    ("Out of hours GP cover is patchy and 111 sends everyone to A&E.", "pcmw-7"),
    ("Patients can now self-refer to the physio and the optometrist without seeing a GP.", "pcmw-8"),
    ("Business cases for successful projects never make it into the IMTP and finance systems block change.", "pcmw-13"),
    ("Reception staff are trained as care navigators to signpost callers to the right professional.", "pcmw-6"),
    ("Our cluster lead and collaborative leads have done the leadership development programme.", "acd-3"),
]


@pytest.fixture(scope="module")
def mapper(codebook, text_models) -> OutcomeMapper:
    return OutcomeMapper(codebook, text_models.embedder).fit()


@pytest.mark.slow
@pytest.mark.parametrize(("text", "outcome"), CASES, ids=[c[1] for c in CASES])
def test_outcome_mapping_finds_the_outcome_a_reader_would(mapper: OutcomeMapper, text: str, outcome: str) -> None:
    outcomes, _headings = mapper.map_texts([text])[0]
    assert outcome in [o.id for o in outcomes], [(o.id, round(o.score, 2)) for o in outcomes]


@pytest.mark.slow
def test_outcome_mapping_leaves_off_topic_text_unmapped(mapper: OutcomeMapper) -> None:
    outcomes, headings = mapper.map_texts(["We had a lovely Christmas party."])[0]
    assert outcomes == () and headings == ()


@pytest.mark.slow
def test_outcome_mapping_maps_a_theme_through_its_definition(mapper: OutcomeMapper, codebook) -> None:
    outcomes, _ = mapper.map_theme(codebook.theme("leadership"))
    assert "acd-3" in [o.id for o in outcomes]
