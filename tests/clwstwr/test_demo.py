"""The main job end to end: the demo's summary.json reproduces the published 2024 figures, codes every
answer, and every figure comes from the stored answers (change one and the report changes)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from clwstwr.cli import main
from clwstwr.context import AppContext
from clwstwr.demo import run_demo
from clwstwr.reporting import write_round_report
from clwstwr.settings import Settings
from corpora.sample_round import SAMPLE_ROUND_NAME, load_sample_answers
from store import rounds
from store.database import transaction
from tests.conftest import fresh_database
from tests.published_2024 import LEVELS, MATURITY, TEAM_STAGES


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, models_home: Path, text_models) -> Iterator[dict]:
    """One demo run per database for the whole module: it writes Word and PDF files, drafts a letter in
    three languages and runs topic discovery, too slow to repeat for every test. Tests that change the
    stored round come last in this module."""
    tmp_path = tmp_path_factory.mktemp(f"demo-{request.param}")
    with fresh_database(request.param, tmp_path) as url:
        context = AppContext.build(Settings(home=tmp_path / "home", database_url=url, models_path=models_home / "models"))
        try:
            files = run_demo(context, tmp_path / "out", text_models=text_models)
            yield {"files": files, "summary": json.loads(files["summary"].read_text(encoding="utf-8")), "ctx": context}
        finally:
            context.close()


@pytest.mark.slow
def test_demo_reproduces_published_figures_and_findings(demo: dict) -> None:
    summary = demo["summary"]
    got = {o["id"]: tuple(o["counts"][lv] for lv in LEVELS) for o in summary["outcomes"]}
    assert got == MATURITY
    assert {o["id"]: o["answered"] for o in summary["outcomes"]} == {k: sum(v) for k, v in MATURITY.items()}
    assert summary["team_stages"]["counts"] == TEAM_STAGES
    assert (summary["responses"], summary["total_clusters"]) == (46, 60)
    findings = summary["findings"]
    assert findings["modal_level_counts"]["pcmw"] == {"pre_foundation": 2, "foundation": 5, "developing": 6, "mature": 0}
    assert findings["overall_pre_foundation"] == ["pcmw-7", "pcmw-12", "acd-7"]
    assert findings["overall_mature"] == []
    assert sorted(f["id"] for f in findings["majority_pre_foundation"]) == ["pcmw-12", "pcmw-7"]
    assert [(f["id"], f["count"]) for f in findings["most_often_mature"][:2]] == [("pcmw-8", 15), ("pcmw-4", 14)]
    acd7 = next(o for o in summary["outcomes"] if o["id"] == "acd-7")
    assert round(acd7["shares"]["pre_foundation"] * 100) == 38  # 17 of 45 answering


@pytest.mark.slow
def test_demo_codes_every_answer_and_counts_themes_per_cluster(demo: dict) -> None:
    summary = demo["summary"]
    non_empty = {(a["cluster"], a["question"]) for a in load_sample_answers() if str(a["text"] or "").strip()}
    coded = [json.loads(line) for line in demo["files"]["coded responses (json)"].read_text(encoding="utf-8").splitlines()]
    assert len(coded) == len(non_empty)
    for question in summary["questions"]:
        assert question["answered"] == sum(1 for _c, q in non_empty if q == question["id"])
        for theme in question["themes"]:
            assert theme["text"] == f"{theme['count']} of {question['answered']} responses"
            assert theme["count"] <= question["answered"]
    barriers = next(q for q in summary["questions"] if q["id"] == "barriers")
    assert barriers["themes"][0]["id"] == "funding" and barriers["themes"][0]["count"] >= 30


@pytest.mark.slow
def test_demo_quotes_are_exact_deidentified_substrings_without_identifiers(demo: dict) -> None:
    coded = [json.loads(line) for line in demo["files"]["coded responses (json)"].read_text(encoding="utf-8").splitlines()]
    deidentified = [c["text"] for c in coded]
    originals = [str(a["text"] or "") for a in load_sample_answers()]
    emails = {m for t in originals for m in re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", t)}
    phones = {m for t in originals for m in re.findall(r"\b0\d{3,4} ?\d{3} ?\d{3,4}\b", t)}
    assert emails and phones  # the sample does contain identifiers to remove
    quotes = [q["text"] for question in demo["summary"]["questions"] for t in question["themes"] for q in t["quotes"]]
    assert len(quotes) >= 40
    for quote in quotes:
        assert any(quote in text for text in deidentified), quote
        assert not any(e in quote for e in emails) and not any(p in quote for p in phones)
    html = demo["files"]["report"].read_text(encoding="utf-8")
    assert "responses</td>" in html and "{{" not in html
    assert not any(e in html for e in emails)


@pytest.mark.slow
def test_demo_writes_the_report_and_a_letter_in_every_format_and_language(demo: dict) -> None:
    files: dict[str, Path] = demo["files"]
    out = files["report"].parent
    for name in ("report.html", "report.docx", "report.pdf", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    for language in ("en", "cy", "bilingual"):
        for fmt in ("html", "docx", "pdf"):
            path = out / f"outcome_letter.{language}.{fmt}"
            assert path.stat().st_size > 0, path
        assert (out / f"outcome_letter.{language}.pdf").read_bytes().startswith(b"%PDF")
    welsh = (out / "outcome_letter.cy.html").read_text(encoding="utf-8")
    assert "Llŷn" in welsh and "{{" not in welsh and "{%" not in welsh
    assert demo["summary"]["candidate_themes"] is not None, "the demo report runs topic discovery"


@pytest.mark.slow
def test_demo_report_changes_when_a_stored_answer_changes(demo: dict, tmp_path: Path) -> None:
    ctx: AppContext = demo["ctx"]
    with transaction(ctx.sessions) as session:
        data = rounds.load_round(session, SAMPLE_ROUND_NAME)
        target = next(s for s in data.submissions if s.ratings.get("pcmw-8") == "mature")
        rounds.set_rating(session, SAMPLE_ROUND_NAME, target.cluster_name.lower(), "pcmw-8", "pre_foundation", "tester")
    files = write_round_report(ctx, SAMPLE_ROUND_NAME, tmp_path / "after", formats=("html",), discovery=False)
    after = json.loads(files.summary_json.read_text(encoding="utf-8"))
    pcmw8 = next(o for o in after["outcomes"] if o["id"] == "pcmw-8")
    assert (pcmw8["counts"]["mature"], pcmw8["counts"]["pre_foundation"]) == (14, 7)


@pytest.mark.slow
def test_cli_demo_prints_where_the_files_are(tmp_path: Path, models_home: Path) -> None:
    env = {"CLWSTWR_MODELS_PATH": str(models_home / "models")}
    result = CliRunner(env=env).invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"report: {tmp_path / 'out' / 'report.html'}" in result.output
    for name in ("summary.json", "coded_responses.csv", "coded_responses.jsonl"):
        assert (tmp_path / "out" / name).exists()
    assert (tmp_path / "home" / "clwstwr.sqlite").exists()
