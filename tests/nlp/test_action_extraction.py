from __future__ import annotations

import pytest

from nlp.action_extraction import ActionDetails, extract_action


def _owner(sentence: str) -> str | None:
    details = extract_action(sentence)
    if details.owner_span is not None:
        start, end = details.owner_span
        assert sentence[start:end] == details.owner
    return details.owner


def _timescale(sentence: str) -> str | None:
    details = extract_action(sentence)
    if details.timescale_span is not None:
        start, end = details.timescale_span
        assert sentence[start:end] == details.timescale
    return details.timescale


@pytest.mark.parametrize(
    ("sentence", "owner"),
    [
        ("Swansea Bay UHB to fund a second link worker.", "Swansea Bay UHB"),
        ("Cwm Taf Morgannwg University Health Board will host the learning event.", "Cwm Taf Morgannwg University Health Board"),
        ("Bwrdd Iechyd Prifysgol Hywel Dda to share the dementia pathway.", "Bwrdd Iechyd Prifysgol Hywel Dda"),
        ("C&VUHB to confirm the estates budget.", "C&VUHB"),
        ("The HB should publish the cluster IMTP summary.", "HB"),
        ("Cluster leads to agree a rota for the PCPG.", "Cluster leads"),
        ("CLs to nominate a digital champion.", "CLs"),
        ("PCPG to review the spending plan.", "PCPG"),
        ("The RPB will consider the carers' bid.", "RPB"),
        ("SPPC to update the maturity matrix.", "SPPC"),
        ("Public Health Wales to provide the locality profiles.", "Public Health Wales"),
        ("PHW will support the evaluation.", "PHW"),
        ("HEIW to arrange placements for physician associates.", "HEIW"),
        ("DHCW to scope a shared booking system.", "DHCW"),
        ("Welsh Government to clarify the funding rules.", "Welsh Government"),
        ("WG should confirm recurrent funding.", "WG"),
        ("The local authority will map the bus routes.", "local authority"),
        ("LA to share the housing data.", "LA"),
        ("Ceredigion County Council to lead on transport.", "Council"),
        ("Third sector partners to run the drop-in.", "Third sector"),
        ("Practices to update their websites.", "Practices"),
        ("Collaboratives should meet quarterly.", "Collaboratives"),
        ("The team to draft the exit strategy.", "The team"),
        ("Action: BCUHB to circulate the minutes.", "BCUHB"),
        ("Owner: Dr Glyn Evans", "Dr Glyn Evans"),
    ],
)
def test_action_extraction_owner_is_the_written_subject(sentence: str, owner: str) -> None:
    assert _owner(sentence) == owner


@pytest.mark.parametrize(
    "sentence",
    [
        "Work with HEIW on placements for paramedics.",  # HEIW is a partner, the owner is unstated
        "Review the frailty pathway with the PCPG.",
        "Explore a shared phlebotomy service.",
    ],
)
def test_action_extraction_imperative_has_no_owner_and_is_flagged(sentence: str) -> None:
    details = extract_action(sentence)
    assert details.owner is None and details.owner_span is None and details.needs_owner


@pytest.mark.parametrize(
    ("sentence", "timescale"),
    [
        ("PTHB to report by 31 March 2025.", "by 31 March 2025"),
        ("Practices to agree the rota in March 2025.", "in March 2025"),
        ("Circulate the draft by June.", "by June"),
        ("DHCW to pilot the app in Q3 2024/25.", "in Q3 2024/25"),
        ("Funding to be confirmed for 2025/26.", "for 2025/26"),
        ("The HB will fund it in FY 2025-26.", "FY 2025-26"),
        ("Complete the audit within six months.", "within six months"),
        ("Report progress by the next review.", "by the next review"),
        ("Repeat the survey within 3 weeks of launch.", "within 3 weeks"),
    ],
)
def test_action_extraction_timescale_kinds(sentence: str, timescale: str) -> None:
    details = extract_action(sentence)
    assert _timescale(sentence) == timescale
    assert not details.needs_timescale


def test_action_extraction_year_naming_a_contract_is_not_a_timescale() -> None:
    details = extract_action("Review the 2023/24 GMS contract asks.")
    assert details.timescale is None and details.needs_timescale


def test_action_extraction_nothing_written_nothing_invented() -> None:
    assert extract_action("Explore options for a shared phlebotomy service.") == ActionDetails(
        owner=None, owner_span=None, timescale=None, timescale_span=None, needs_owner=True, needs_timescale=True
    )


def test_action_extraction_owner_and_timescale_together_with_welsh_text() -> None:
    sentence = "Betsi Cadwaladr UHB to open the Canolfan Iechyd Môn hub by the end of the financial year."
    details = extract_action(sentence)
    assert details.owner == "Betsi Cadwaladr UHB" and details.owner_span == (0, 19)
    assert details.timescale == "by the end of the financial year"
    assert sentence[slice(*details.timescale_span)] == details.timescale  # type: ignore[misc]


def test_action_extraction_owner_deep_in_a_long_sentence_is_not_taken_as_subject() -> None:
    sentence = "Clinical pharmacist and physiotherapy support for the frailty service with potential to work with PHW."
    assert extract_action(sentence).owner is None


def test_action_owner_is_the_whole_noun_phrase_when_owner_names_overlap() -> None:
    # "the cluster" and "cluster lead" overlap; the owner a chair would write is "The cluster lead".
    details = extract_action("The cluster lead to share the plan with practices by March 2025.")
    assert details.owner == "The cluster lead"
    assert details.owner_span == (0, 16)
