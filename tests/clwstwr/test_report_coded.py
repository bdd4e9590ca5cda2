"""The full report on the sample round coded by the real suggester: quotes, opportunities, candidate
themes, the executive summary, and the Word and PDF files. Loads the real models (slow)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document

from clwstwr.coding import code_round
from clwstwr.context import AppContext
from clwstwr.importing import import_file
from clwstwr.reporting import coded_round, write_round_report
from clwstwr.settings import Settings
from corpora.sample_round import SAMPLE_ROUND_NAME, bundled_sample_path, load_clusters
from nlp.quote_selection import MAX_CHARS, MIN_CHARS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def coded_ctx(tmp_path_factory: pytest.TempPathFactory, models_home: Path, suggestion_service) -> Iterator[AppContext]:
    home = tmp_path_factory.mktemp("report-coded")
    ctx = AppContext.build(Settings(home=home, models_path=models_home / "models"))
    import_file(ctx.sessions, ctx.codebook, bundled_sample_path(), SAMPLE_ROUND_NAME, actor="test")
    places = tuple(p for c in load_clusters() for p in c.places)
    code_round(ctx, suggestion_service, SAMPLE_ROUND_NAME, actor="test", extra_places=places)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def all_wales(coded_ctx: AppContext, tmp_path_factory: pytest.TempPathFactory, text_models) -> dict:
    files = write_round_report(coded_ctx, SAMPLE_ROUND_NAME, tmp_path_factory.mktemp("out"), text_models=text_models)
    return {"files": files, "json": json.loads(files.summary_json.read_text(encoding="utf-8"))}


def test_quotes_are_exact_deidentified_substrings_spread_across_boards(coded_ctx: AppContext, all_wales: dict) -> None:
    answers = coded_round(coded_ctx, SAMPLE_ROUND_NAME).answers
    short = {b.short_name: b.id for b in coded_ctx.codebook.health_boards}
    for question in all_wales["json"]["questions"]:
        mine = [a for a in answers if a.question_id == question["id"]]
        for theme in question["themes"]:
            quotes = theme["quotes"]
            for quote in quotes:
                assert any(quote["text"] in a.deidentified_text for a in mine if a.health_board_id == short[quote["health_board"]])
            eligible_boards = {
                a.health_board_id for a in mine for t in a.payload["themes"]
                if t["id"] == theme["id"] and MIN_CHARS <= t["evidence_end"] - t["evidence_start"] <= MAX_CHARS
            }
            boards = [q["health_board"] for q in quotes]
            # no second quote from a board while another board still had one to give
            assert len(set(boards)) == min(len(boards), len(eligible_boards)), (theme["id"], boards)


def test_executive_summary_repeats_the_reports_own_figures(coded_ctx: AppContext, all_wales: dict) -> None:
    payload = all_wales["json"]
    said = {s["key"]: s for s in payload["executive_summary"]}
    assert said["responses"]["figures"]["responses"] == payload["responses"] == 46
    answers = coded_round(coded_ctx, SAMPLE_ROUND_NAME).answers
    for sentence in (s for s in payload["executive_summary"] if s["key"] == "top_theme"):
        question = next(q for q in payload["questions"] if q["label"] == sentence["figures"]["question"])
        top = question["themes"][0]
        clusters = {a.cluster_name for a in answers if a.question_id == question["id"]
                    and any(t["id"] == top["id"] for t in a.payload["themes"])}
        assert sentence["figures"]["count"] == top["count"] == len(clusters)
        assert sentence["figures"]["base"] == question["answered"]
    stages = payload["team_stages"]["counts"]
    assert said["stage"]["figures"]["count"] == max(stages.values()) == 26


def test_opportunities_quote_answers_and_name_only_written_leads(coded_ctx: AppContext, all_wales: dict) -> None:
    answers = coded_round(coded_ctx, SAMPLE_ROUND_NAME).answers
    sources = [a.deidentified_text for a in answers if a.question_id in ("what_would_help", "overcoming_barriers")]
    groups = all_wales["json"]["opportunities"]
    assert [g["heading"] for g in groups] == [h.id for h in coded_ctx.codebook.headings]
    items = [i for g in groups for i in g["items"]]
    assert len(items) >= 10
    for item in items:
        assert any(item["text"] in s for s in sources)
        assert "[EMAIL]" not in item["text"] and "[PHONE]" not in item["text"]
        for named in (item["lead"], item["timescale"]):
            assert named is None or named in item["text"]
    assert all(g["clusters"] <= g["base"] for g in groups)


def test_candidate_themes_are_marked_and_documents_are_complete(all_wales: dict) -> None:
    files = all_wales["files"]
    candidates = all_wales["json"]["candidate_themes"]
    assert candidates and all(c["in_codebook"] is False and c["exemplars"] for c in candidates)
    html = files.html.read_text(encoding="utf-8")
    assert html.count("candidate — not in the codebook") >= len(candidates) and "{{" not in html
    assert files.pdf.read_bytes().startswith(b"%PDF")
    doc = Document(str(files.docx))
    headings = {p.text for p in doc.paragraphs if p.style.name.startswith("Heading")}
    assert {"Executive summary", "Candidate new themes", "Opportunities for action", "Barriers to cluster working"} <= headings
    assert len(doc.tables) >= 20


def test_board_report_quotes_only_that_boards_answers(coded_ctx: AppContext, tmp_path: Path, text_models) -> None:
    files = write_round_report(coded_ctx, SAMPLE_ROUND_NAME, tmp_path, formats=("html", "docx"), board="bcuhb",
                               text_models=text_models)
    payload = json.loads(files.summary_json.read_text(encoding="utf-8"))
    boards = {q["health_board"] for question in payload["questions"] for t in question["themes"] for q in t["quotes"]}
    boards |= {i["health_board"] for g in payload["opportunities"] for i in g["items"]}
    assert boards == {"Betsi Cadwaladr UHB"}
    assert payload["responses"] == 11 and files.docx.exists() and files.pdf is None
