"""The executive summary, round comparison and opportunities on the fixed round: figures a reader
would check against the tables, recomputed here from the raw records."""

from __future__ import annotations

from collections import Counter

import pytest

from corpora.codebook import Codebook
from letters.opportunities import group_opportunities
from letters.report_json import report_to_json
from letters.report_model import TO_BE_AGREED
from letters.suppression import Suppression
from tests.letters.test_report_templates import CLUSTERS, coded, fixed_report, opportunity_sentences, returns


def _clusters_with(codebook: Codebook, question: str, theme: str, drop: int | None = None) -> int:
    return len({a.cluster_name for a in coded(codebook, drop) if a.question_id == question
                and any(t["id"] == theme for t in a.payload["themes"])})


def test_executive_summary_figures_are_the_computed_ones(codebook: Codebook) -> None:
    report = fixed_report(codebook)
    said = {s.key: s for s in report.executive_summary}
    raw = returns(codebook, 0)
    assert said["responses"].figures == {"responses": len(CLUSTERS), "total": 60, "rate": "20%"}
    assert said["responses"].text == "12 of 60 clusters responded to the self-reflection (20%)."
    stages = Counter(r.team_stage_id for r in raw)
    top_stage, top_count = stages.most_common(1)[0]
    assert said["stage"].figures == {"stage": top_stage, "count": top_count, "answered": len(raw)}
    mature = {o.id: sum(1 for r in raw if r.ratings.get(o.id) == "mature") for o in codebook.outcomes}
    best = max(mature.values())
    assert said["most_mature"].figures["count"] == best
    assert sorted(said["most_mature"].figures["ids"]) == sorted(o for o, n in mature.items() if n == best)
    barriers = next(s for s in report.executive_summary if s.key == "top_theme" and s.figures["question"] == "Barriers to cluster working")
    assert barriers.figures["count"] == _clusters_with(codebook, "barriers", "funding") == 7
    assert barriers.figures["base"] == sum(1 for a in coded(codebook) if a.question_id == "barriers" and a.deidentified_text.strip())
    assert "Funding (7 of 12 responses)" in barriers.text
    for sentence in report.executive_summary:  # every number in a sentence is one of its figures
        for number in [w.strip(".,();%") for w in sentence.text.split() if w.strip(".,();%+").isdigit()]:
            assert any(number in str(v) for v in sentence.figures.values()), (number, sentence)


def test_theme_changes_since_the_previous_round_are_counted_and_given_as_shares(codebook: Codebook) -> None:
    report = fixed_report(codebook)
    barriers = next(q for q in report.questions if q.question.id == "barriers")
    funding = next(t for t in barriers.themes if t.theme.id == "funding")
    now, before = _clusters_with(codebook, "barriers", "funding"), _clusters_with(codebook, "barriers", "funding", drop=0)
    assert (funding.count.value, funding.change.previous.value, funding.change.delta.value) == (now, before, now - before) == (7, 6, 1)
    assert funding.change.share_delta == pytest.approx(7 / 12 - 6 / 12) and funding.change.share_text == "+8 pp"
    rise = next(s for s in report.executive_summary if s.key == "theme_rise")
    assert rise.figures["theme"] == "Funding" and (rise.figures["previous_count"], rise.figures["count"]) == (6, 7)
    payload = report_to_json(report)
    theme = next(t for q in payload["questions"] if q["id"] == "barriers" for t in q["themes"] if t["id"] == "funding")
    assert theme["change"]["change"] == 1 and theme["change"]["share_change"] == pytest.approx(0.0833, abs=1e-4)


def test_maturity_changes_are_per_level_and_add_up_to_the_change_in_answers(codebook: Codebook) -> None:
    report = fixed_report(codebook)
    for module in report.modules:
        for row in module.rows:
            deltas = [c.delta.value for c in row.changes]
            previous_answered = sum(c.previous.value for c in row.changes)
            assert sum(deltas) == row.answered.value - previous_answered


def test_board_summary_never_states_a_withheld_figure_or_ranks_withheld_cells(codebook: Codebook) -> None:
    report = fixed_report(codebook, "abuhb")
    keys = [s.key for s in report.executive_summary]
    assert "modal_levels" not in keys and "most_mature" not in keys and report.all_wales_summary is None
    for sentence in report.executive_summary:
        assert "<5" not in sentence.text and "[c]" not in sentence.text
        assert all(v is not None for v in sentence.figures.values())
    payload = report_to_json(report)
    assert "findings" not in payload and payload["scope"]["suppression_threshold"] == 5
    counts = [v for o in payload["outcomes"] for v in o["counts"].values()]
    assert all(v is None or v == 0 or v >= 5 for v in counts)


def test_opportunities_carry_lead_and_timescale_only_when_the_sentence_names_them(codebook: Codebook) -> None:
    sentences = opportunity_sentences(coded(codebook))
    groups = {g.heading.id: g for g in group_opportunities(codebook, sentences, 11, Suppression(None))}
    assert [g.heading.id for g in groups.values()] == [h.id for h in codebook.headings]
    review = {i.text: i for i in groups["keeping_strategy_under_review"].items}
    named = review["Health boards to fund protected time for cluster leads by March 2026."]
    assert (named.lead, named.timescale) == ("Health boards", "by March 2026")
    shifting = {i.text: i for i in groups["shifting_resources"].items}
    plain = shifting["Recurrent funding so we are not bidding every year."]
    assert (plain.lead_text, plain.timescale_text) == (TO_BE_AGREED, TO_BE_AGREED)
    assert groups["shifting_resources"].clusters.value == 3 and groups["involving_the_public"].items == ()
    # spread: the heading's sentences come from two boards, so its first two items do too
    strengthening = groups["strengthening_clusters"]
    assert len({i.health_board_id for i in strengthening.items[:2]}) == 2
