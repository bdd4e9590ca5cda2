"""The report job on stored rounds (SQLite and PostgreSQL): the previous-round comparison, the board
filter with suppression, the CLI options and its errors. Coded rounds here carry the sample's
reviewer codes (stored as a run), so the expected changes are exact and no model is loaded; the real
suggester's run is covered by test_report_coded.py."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from clwstwr.cli import main
from clwstwr.context import AppContext
from clwstwr.importing import import_file
from clwstwr.reporting import ReportError, coded_round, previous_round_name, summarise_round, write_round_report
from corpora.codebook import Codebook
from corpora.sample_round import SAMPLE_DIR, load_sample_answers
from letters.report_assembly import ReportInputs, build_report
from letters.report_json import report_to_json
from letters.report_model import Scope
from letters.suppression import Suppression
from letters.theme_summary import summarise_themes
from nlp.segmentation import make_sentencizer, segment
from store import coding
from store.database import transaction

SAMPLE_CSV = SAMPLE_DIR / "self_reflection_2024_sample.csv"
NEW_BARRIER = "Too many meetings and no protected time to attend them."
STAMP = "2025-01-31 09:00 UTC"


def modified_copy(codebook: Codebook, out: Path, *, move_to_pthb: int = 0) -> tuple[Path, str, str]:
    """The sample with one cluster's PCMW 8 changed from mature to pre-foundation and another's barriers
    answer rewritten (funding no longer mentioned); optionally some clusters moved to Powys."""
    with SAMPLE_CSV.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        header, rows = list(reader.fieldnames or []), list(reader)
    levels = {lv.id: lv.statement_pcmw for lv in codebook.maturity_levels}
    barriers = codebook.question("barriers").wording
    rated = next(r for r in rows if r["Directly accessed services"] == levels["mature"])
    rated["Directly accessed services"] = levels["pre_foundation"]
    rewritten = next(r for r in rows if "funding" in r[barriers].lower() and r is not rated)
    rewritten[barriers] = NEW_BARRIER
    powys = codebook.health_board("pthb").name
    for r in [r for r in rows if r["Health board"] != powys and r is not rated and r is not rewritten][:move_to_pthb]:
        r["Health board"] = powys
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return out, rated["Cluster name"], rewritten["Cluster name"]


def store_reviewer_codes(ctx: AppContext, round_name: str) -> None:
    """Store the sample's reviewer codes as the round's coding run (evidence: the answer's first sentence)."""
    themes = {(str(a["question"]), str(a["text"] or "").strip()): list(a["themes"]) for a in load_sample_answers()}
    themes[("barriers", NEW_BARRIER)] = ["time"]
    sentencizer = make_sentencizer()
    with transaction(ctx.sessions) as session:
        results = []
        for a in coding.answers_to_code(session, round_name):
            first = (segment(a.text, sentencizer) or [None])[0]
            found = themes.get((a.question_id, a.text.strip()), []) if first else []
            payload = {"themes": [{"id": t, "label": ctx.codebook.theme(t).label, "score": 0.9, "evidence": first.text,
                                   "evidence_start": first.start, "evidence_end": first.end} for t in found]}
            results.append((a.answer_id, a.text, payload))
        coding.store_run(session, round_name, "reviewer-codes", "test", results)


@pytest.fixture
def two_rounds(ctx: AppContext, tmp_path: Path) -> dict[str, str]:
    import_file(ctx.sessions, ctx.codebook, SAMPLE_CSV, "2023", actor="test")
    path, rated, rewritten = modified_copy(ctx.codebook, tmp_path / "2024.csv")
    import_file(ctx.sessions, ctx.codebook, path, "2024", actor="test")
    return {"rated": rated, "rewritten": rewritten}


def test_the_previous_round_is_the_one_stored_before_unless_named(ctx: AppContext, two_rounds: dict[str, str]) -> None:
    assert previous_round_name(ctx, "2024", None) == "2023"
    assert previous_round_name(ctx, "2023", None) is None
    assert previous_round_name(ctx, "2023", "2024") == "2024"
    with pytest.raises(ReportError, match="is the round being reported"):
        previous_round_name(ctx, "2024", "2024")


def test_maturity_changes_against_the_previous_round(ctx: AppContext, two_rounds: dict[str, str], tmp_path: Path) -> None:
    files = write_round_report(ctx, "2024", tmp_path / "out", formats=("html",), discovery=False)
    payload = json.loads(files.summary_json.read_text(encoding="utf-8"))
    assert payload["previous_round"] == "2023" and payload["responses"] == 46
    pcmw8 = payload["comparison"]["outcomes"]["pcmw-8"]
    assert (pcmw8["mature"]["previous"], pcmw8["mature"]["change"]) == (15, -1)
    assert (pcmw8["pre_foundation"]["previous"], pcmw8["pre_foundation"]["change"]) == (6, 1)
    assert pcmw8["mature"]["share_change"] == pytest.approx(14 / 46 - 15 / 46, abs=1e-4)
    assert all(c["change"] == 0 for o, levels in payload["comparison"]["outcomes"].items() if o != "pcmw-8"
               for c in levels.values())
    html = files.html.read_text(encoding="utf-8")
    assert "compared with round 2023" in html and "−1" in html


def test_theme_changes_against_the_previous_round(ctx: AppContext, two_rounds: dict[str, str]) -> None:
    for name in ("2023", "2024"):
        store_reviewer_codes(ctx, name)
    now, before = coded_round(ctx, "2024"), coded_round(ctx, "2023")
    report = build_report(ReportInputs(
        ctx.codebook, Scope(None, Suppression(None)), summarise_round(ctx, "2024"), STAMP,
        themes=summarise_themes(ctx.codebook, now.answers), coding_model=now.model, coding_run=now.run_id,
        previous=summarise_round(ctx, "2023"), previous_themes=summarise_themes(ctx.codebook, before.answers),
    ))
    barriers = {t.theme.id: t for q in report.questions if q.question.id == "barriers" for t in q.themes}
    assert (barriers["funding"].change.delta.value, barriers["time"].change.delta.value) == (-1, 1)
    assert barriers["engagement"].change.delta.value == 0
    base = barriers["funding"].base.value
    assert barriers["funding"].change.share_delta == pytest.approx(-1 / base)
    fell = {t.theme.label for q in report.questions for t in q.themes if t.change.delta.value == -1}
    fall = next(s for s in report.executive_summary if s.key == "theme_fall")
    assert "Funding" in fell and fall.figures["theme"] in fell
    assert fall.figures["count"] - fall.figures["previous_count"] == -1


def _display_is_ambiguous(sup: Suppression, display: dict[str, str], levels: list[str], total: int) -> bool:
    """Every withheld cell could hold two values among the rows the report would show the same way."""
    shown_as = [row for row in itertools.product(range(total + 1), repeat=len(levels)) if sum(row) == total
                and [c.text for c in sup.row(row, total)[0]] == [display[lv] for lv in levels]]
    return all(len({r[i] for r in shown_as}) > 1 for i, lv in enumerate(levels) if display[lv] in ("<5", "[c]"))


def test_board_report_suppresses_small_counts_and_nothing_is_recoverable(ctx: AppContext, tmp_path: Path) -> None:
    path, _r, _w = modified_copy(ctx.codebook, tmp_path / "moved.csv", move_to_pthb=1)  # Powys: 2 + 1 clusters
    import_file(ctx.sessions, ctx.codebook, path, "2024", actor="test")
    files = write_round_report(ctx, "2024", tmp_path / "out", formats=("html",), board="Powys", discovery=False)
    assert files.html.name == "report-pthb.html" and files.summary_json.name == "summary-pthb.json"
    payload = json.loads(files.summary_json.read_text(encoding="utf-8"))
    assert payload["responses"] is None and payload["display"]["responses"] == "<5"
    assert payload["responses_by_health_board"] == {"pthb": None}
    assert all(v in (None, 0) for o in payload["outcomes"] for v in o["counts"].values())
    html = files.html.read_text(encoding="utf-8")
    assert "&lt;5 clusters in Powys Teaching Health Board responded" in html and "Betsi" not in html
    files = write_round_report(ctx, "2024", tmp_path / "out", formats=("html",), board="abuhb", discovery=False)
    payload = json.loads(files.summary_json.read_text(encoding="utf-8"))
    levels = payload["levels"]
    assert payload["responses"] == 9
    sup = Suppression(5)
    for outcome in payload["outcomes"]:
        assert all(v is None or v == 0 or v >= 5 for v in outcome["counts"].values())
        if outcome["answered"] is not None:
            assert _display_is_ambiguous(sup, outcome["display"], levels, outcome["answered"]), outcome
    assert "<5" in {t for o in payload["outcomes"] for t in o["display"].values()}


def test_board_report_counts_and_quotes_only_that_boards_clusters(ctx: AppContext, two_rounds: dict[str, str]) -> None:
    store_reviewer_codes(ctx, "2024")
    now = coded_round(ctx, "2024", "bcuhb")
    all_answers = coded_round(ctx, "2024").answers
    assert now.answers and {a.health_board_id for a in now.answers} == {"bcuhb"}
    report = build_report(ReportInputs(
        ctx.codebook, Scope(ctx.codebook.health_board("bcuhb"), Suppression(5)), summarise_round(ctx, "2024", "bcuhb"),
        STAMP, themes=summarise_themes(ctx.codebook, now.answers), coding_model=now.model, coding_run=now.run_id,
    ))
    assert report.responses.value == 11
    bcu_texts = [a.deidentified_text for a in all_answers if a.health_board_id == "bcuhb"]
    quotes = [(qu.text, qu.health_board_id) for q in report.questions for t in q.themes for qu in t.quotes]
    assert quotes and all(board == "bcuhb" and any(text in a for a in bcu_texts) for text, board in quotes)
    barriers = next(q for q in report.questions if q.question.id == "barriers")
    answered = {a.cluster_name for a in now.answers if a.question_id == "barriers" and a.deidentified_text.strip()}
    assert barriers.answered.value == len(answered)
    assert "findings" not in report_to_json(report)


def test_cli_report_writes_the_formats_asked_for(ctx: AppContext, two_rounds: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "cli"
    args = ["--home", str(ctx.settings.home), "--database-url", ctx.settings.resolved_database_url, "report",
            "--round", "2024", "--out", str(out), "--format", "html", "--format", "docx", "--no-discovery",
            "--previous-round", "2023"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert f"report (Word): {out / 'report.docx'}" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["report.docx", "report.html", "summary.json"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--board", "Gwynedd"], "error [CW620]: --board: unknown health board 'Gwynedd'"),
    (["--previous-round", "1999"], "error [CW300]: no round named '1999'"),
])
def test_cli_report_names_the_bad_option(ctx: AppContext, two_rounds: dict[str, str], tmp_path: Path,
                                         extra: list[str], message: str) -> None:
    args = ["--home", str(ctx.settings.home), "--database-url", ctx.settings.resolved_database_url, "report",
            "--round", "2024", "--out", str(tmp_path / "x"), "--format", "html", "--no-discovery", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
