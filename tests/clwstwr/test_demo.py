"""The main job end to end: the demo's summary.json reproduces the published 2024 figures, and every
figure comes from the stored answers (change one and the report changes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from clwstwr.cli import main
from clwstwr.context import AppContext
from clwstwr.demo import run_demo
from clwstwr.reporting import write_round_report
from corpora.sample_round import SAMPLE_ROUND_NAME
from store import rounds
from store.database import transaction
from tests.published_2024 import LEVELS, MATURITY, TEAM_STAGES


@pytest.fixture
def demo_summary(ctx: AppContext, tmp_path: Path) -> dict:
    files = run_demo(ctx, tmp_path / "out")
    return json.loads(files["summary"].read_text(encoding="utf-8"))


def test_demo_summary_equals_published_counts_for_all_20_outcomes(demo_summary: dict) -> None:
    got = {o["id"]: tuple(o["counts"][lv] for lv in LEVELS) for o in demo_summary["outcomes"]}
    assert got == MATURITY
    assert {o["id"]: o["answered"] for o in demo_summary["outcomes"]} == {k: sum(v) for k, v in MATURITY.items()}
    assert demo_summary["team_stages"]["counts"] == TEAM_STAGES
    assert (demo_summary["responses"], demo_summary["total_clusters"]) == (46, 60)


def test_demo_findings_match_the_published_report(demo_summary: dict) -> None:
    findings = demo_summary["findings"]
    assert findings["modal_level_counts"]["pcmw"] == {"pre_foundation": 2, "foundation": 5, "developing": 6, "mature": 0}
    assert findings["overall_pre_foundation"] == ["pcmw-7", "pcmw-12", "acd-7"]
    assert findings["overall_mature"] == []
    assert sorted(f["id"] for f in findings["majority_pre_foundation"]) == ["pcmw-12", "pcmw-7"]
    assert [(f["id"], f["count"]) for f in findings["most_often_mature"][:2]] == [("pcmw-8", 15), ("pcmw-4", 14)]
    acd7 = next(o for o in demo_summary["outcomes"] if o["id"] == "acd-7")
    assert round(acd7["shares"]["pre_foundation"] * 100) == 38  # 17 of 45 answering


def test_demo_report_html_shows_the_figures(ctx: AppContext, tmp_path: Path) -> None:
    files = run_demo(ctx, tmp_path / "out")
    html = files["report"].read_text(encoding="utf-8")
    assert "46 of 60 clusters responded" in html
    assert "Quality out-of-hours care (23 of 45)" in html
    assert html.count("<svg") == 3  # PCMW, ACD and team stages
    assert "{{" not in html and "{%" not in html


def test_demo_report_changes_when_a_stored_answer_changes(ctx: AppContext, tmp_path: Path) -> None:
    run_demo(ctx, tmp_path / "before")
    with transaction(ctx.sessions) as session:
        data = rounds.load_round(session, SAMPLE_ROUND_NAME)
        target = next(s for s in data.submissions if s.ratings.get("pcmw-8") == "mature")
        rounds.set_rating(session, SAMPLE_ROUND_NAME, target.cluster_name.lower(), "pcmw-8", "pre_foundation", "tester")
    files = write_round_report(ctx, SAMPLE_ROUND_NAME, tmp_path / "after")
    after = json.loads(files.summary_json.read_text(encoding="utf-8"))
    pcmw8 = next(o for o in after["outcomes"] if o["id"] == "pcmw-8")
    assert (pcmw8["counts"]["mature"], pcmw8["counts"]["pre_foundation"]) == (14, 7)
    with transaction(ctx.sessions) as session:
        assert rounds.count_rows(session)["events"] == 2  # the import and the change


def test_cli_demo_prints_where_the_files_are(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"report: {tmp_path / 'out' / 'report.html'}" in result.output
    assert (tmp_path / "out" / "summary.json").exists()
    assert (tmp_path / "home" / "clwstwr.sqlite").exists()
