"""The maturity summary on hand-built returns: counts, bases, ties and findings as a reader expects."""

from __future__ import annotations

from dataclasses import dataclass, field

from corpora.codebook import Codebook
from letters.maturity_summary import summarise_maturity, summary_to_json


@dataclass(frozen=True)
class Return:
    health_board_id: str = "abuhb"
    team_stage_id: str | None = "norming"
    ratings: dict[str, str] = field(default_factory=dict)


def test_maturity_summary_counts_each_cluster_once_per_outcome(codebook: Codebook) -> None:
    returns = [
        Return(ratings={"pcmw-1": "mature", "acd-1": "foundation"}),
        Return(ratings={"pcmw-1": "mature"}),
        Return(ratings={"pcmw-1": "foundation", "acd-1": "foundation"}, team_stage_id="forming"),
    ]
    summary = summarise_maturity(codebook, "t", returns)
    pcmw1 = summary.outcomes[0]
    assert dict(pcmw1.counts) == {"pre_foundation": 0, "foundation": 1, "developing": 0, "mature": 2}
    assert pcmw1.answered == 3 and pcmw1.modal_level == "mature"
    acd1 = next(o for o in summary.outcomes if o.outcome.id == "acd-1")
    assert acd1.answered == 2  # the blank is not counted in the base
    assert acd1.shares["foundation"] == 1.0
    assert summary.responses == 3 and round(summary.response_rate, 3) == 0.05
    assert dict(summary.team_stage_counts) == {"forming": 1, "storming": 0, "norming": 2, "performing": 0}


def test_maturity_summary_reports_ties_instead_of_breaking_them(codebook: Codebook) -> None:
    returns = [Return(ratings={"pcmw-2": "foundation"}), Return(ratings={"pcmw-2": "developing"})]
    summary = summarise_maturity(codebook, "t", returns)
    pcmw2 = summary.outcomes[1]
    assert pcmw2.modal_levels == ("foundation", "developing") and pcmw2.modal_level is None
    assert summary.modal_level_counts("pcmw")["foundation"] == 0
    assert [t["id"] for t in summary_to_json(summary)["findings"]["tied_modal_levels"]] == ["pcmw-2"]


def test_maturity_summary_majority_means_more_than_half_of_those_answering(codebook: Codebook) -> None:
    half = [Return(ratings={"pcmw-7": "pre_foundation"}), Return(ratings={"pcmw-7": "mature"})]
    assert summarise_maturity(codebook, "t", half).majority_at("pre_foundation") == ()
    more = [*half, Return(ratings={"pcmw-7": "pre_foundation"}), Return(ratings={})]
    majority = summarise_maturity(codebook, "t", more).majority_at("pre_foundation")
    assert [(o.outcome.id, o.counts["pre_foundation"], o.answered) for o in majority] == [("pcmw-7", 2, 3)]


def test_maturity_summary_most_often_keeps_ties_at_the_cut(codebook: Codebook) -> None:
    ratings = [
        {"pcmw-1": "mature", "pcmw-2": "mature", "pcmw-3": "mature", "pcmw-4": "mature"},
        {"pcmw-1": "mature", "pcmw-2": "mature", "pcmw-3": "mature", "pcmw-4": "mature"},
        {"pcmw-1": "mature", "pcmw-2": "mature"},
        {"pcmw-1": "mature"},
    ]
    summary = summarise_maturity(codebook, "t", [Return(ratings=r) for r in ratings])
    assert [o.outcome.id for o in summary.most_often("mature")] == ["pcmw-1", "pcmw-2", "pcmw-3", "pcmw-4"]
    assert [o.outcome.id for o in summary.most_often("mature", top=2)] == ["pcmw-1", "pcmw-2"]


def test_maturity_summary_of_an_empty_round_has_zero_counts_not_errors(codebook: Codebook) -> None:
    summary = summarise_maturity(codebook, "empty", [])
    payload = summary_to_json(summary)
    assert payload["responses"] == 0
    assert all(o["answered"] == 0 and o["modal_levels"] == [] for o in payload["outcomes"])
