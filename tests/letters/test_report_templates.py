"""The thematic report's templates on a small fixed round: golden files, strict rendering, Word structure.

Golden files live in tests/letters/golden/report_*. After an intended change to a template, regenerate
them with ``CLWSTWR_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/letters/test_report_templates.py``
and read the diff before committing it. The codebook version (a hash of its data files) is replaced by
a placeholder so an edit to the codebook's wording does not churn the golden files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import pytest
from docx import Document

from corpora.codebook import Codebook
from letters.maturity_summary import summarise_maturity
from letters.opportunities import OpportunitySentence
from letters.rendering import TEMPLATES_DIR, make_environment
from letters.report_assembly import ReportInputs, build_report
from letters.report_docx import build_docx
from letters.report_html import html_context, render_report_html
from letters.report_model import CandidateTheme, Scope, ThematicReport
from letters.suppression import Suppression
from letters.theme_summary import summarise_themes
from store.coding import CodedAnswer

GOLDEN = Path(__file__).parent / "golden"
STAMP = "2025-01-31 09:00 UTC"
LEVELS = ("pre_foundation", "foundation", "developing", "mature")
STAGES = ("forming", "storming", "norming", "performing")
# Twelve fictional clusters: seven in Aneurin Bevan, three in Betsi Cadwaladr, two in Powys.
CLUSTERS = [(f"Cluster {n}", board) for n, board in enumerate(["abuhb"] * 7 + ["bcuhb"] * 3 + ["pthb"] * 2, start=1)]
ANSWERS = {
    "barriers": [
        ("Funding is year to year and we cannot keep staff.", ["funding"]),
        ("Funding is short term. There is no protected time for meetings.", ["funding", "time"]),
        ("The cluster allocation has not risen in five years, so nothing new can start.", ["funding"]),
        ("Nobody is clear what the cluster is for now that PCPGs exist.", ["clarity"]),
        ("Short-term funding means good people leave every March.", ["funding"]),
        ("Practices do not come to meetings because there is no backfill.", ["engagement", "time"]),
        ("Business cases go round the health board for months.", ["bureaucracy"]),
        ("Funding again: every project is a one-year pilot.", ["funding"]),
        ("N/A", []),
        ("Money for projects arrives in February and must be spent by March.", ["funding", "bureaucracy"]),
        ("Too many meetings and no time to attend them.", ["time"]),
        ("Recruitment is slow and funding is only for a year at a time.", ["funding"]),
    ],
    "what_would_help": [
        ("Recurrent funding so we are not bidding every year.", ["sustainable_resources"]),
        ("Health boards to fund protected time for cluster leads by March 2026.", ["sustainable_resources"]),
        ("The freedom to decide locally how the cluster budget is spent.", ["autonomy"]),
        ("SPPC to publish clear guidance on allowable cluster spend within the next six months.", ["reduced_bureaucracy"]),
        ("A clear role for the cluster beside the PCPG and the collaboratives.", ["stronger_cluster_role"]),
        ("Less reporting, and one template for project proposals.", ["reduced_bureaucracy"]),
        ("Welsh Government should move to three-year cluster allocations from 2026/27.", ["sustainable_resources"]),
        ("", []),
        ("More say over the money that comes into the area.", ["autonomy"]),
        ("Funding that carries over the year end.", ["sustainable_resources"]),
        ("Protected, paid time for the cluster lead and the collaborative leads.", ["sustainable_resources"]),
        ("Let the cluster decide how to spend its own allocation.", ["autonomy"]),
    ],
}
HEADINGS = {  # answer index -> the recommendation heading the sentence was mapped to, and its score
    0: ("shifting_resources", 0.71), 1: ("keeping_strategy_under_review", 0.66), 2: ("strengthening_clusters", 0.62),
    3: ("implementing_pcmw", 0.58), 4: ("strengthening_clusters", 0.69), 5: ("improving_data", 0.52),
    6: ("shifting_resources", 0.74), 8: ("strengthening_clusters", 0.55), 9: ("shifting_resources", 0.68),
    10: ("keeping_strategy_under_review", 0.61), 11: ("strengthening_clusters", 0.64),
}


@dataclass(frozen=True)
class Return:
    cluster_name: str
    health_board_id: str
    team_stage_id: str | None
    ratings: dict[str, str] = field(default_factory=dict)


def returns(codebook: Codebook, shift: int) -> list[Return]:
    """Deterministic ratings; ``shift`` moves every cluster along the levels (a later round)."""
    out = []
    for i, (name, board) in enumerate(CLUSTERS):
        ratings = {o.id: LEVELS[min(3, (i + j + shift) % 5)] for j, o in enumerate(codebook.outcomes)}
        if i == 0:
            ratings.pop("acd-7")  # one cluster leaves an outcome blank
        out.append(Return(name, board, STAGES[min(3, (i + shift) % 5)], ratings))
    return out


def coded(codebook: Codebook, drop: int | None = None) -> list[CodedAnswer]:
    """Coded answers in the shape the store returns; ``drop`` removes the themes of one barriers answer."""
    out, answer_id = [], 0
    for question, answers in ANSWERS.items():
        for i, ((name, board), (text, themes)) in enumerate(zip(CLUSTERS, answers)):
            answer_id += 1
            if question == "barriers" and i == drop:
                themes = []
            payload = {"themes": [{"id": t, "label": codebook.theme(t).label, "score": 0.9 - 0.01 * i,
                                   "evidence": text, "evidence_start": 0, "evidence_end": len(text)} for t in themes]}
            out.append(CodedAnswer(answer_id, name, board, question, text, payload))
    return out


def opportunity_sentences(answers: list[CodedAnswer]) -> list[OpportunitySentence]:
    helps = [a for a in answers if a.question_id == "what_would_help"]
    return [
        OpportunitySentence(a.answer_id, a.cluster_name, a.health_board_id, a.question_id, a.deidentified_text,
                            0, len(a.deidentified_text), *HEADINGS[i])
        for i, a in enumerate(helps)
        if i in HEADINGS
    ]


def fixed_report(codebook: Codebook, board: str | None = None, *, full: bool = True) -> ThematicReport:
    """The report of a fixed nine-cluster round: with ``full`` also coded, compared and with discovery."""
    keep = [b for _n, b in CLUSTERS if board is None or b == board]
    scope = Scope(codebook.health_board(board) if board else None, Suppression(5 if board else None))
    mine = [r for r in returns(codebook, 0) if board is None or r.health_board_id == board]
    summary = summarise_maturity(codebook, "2025", mine, 60)
    if not full:
        return build_report(ReportInputs(codebook, scope, summary, STAMP))
    answers = [a for a in coded(codebook) if board is None or a.health_board_id == board]
    before = [a for a in coded(codebook, drop=0) if board is None or a.health_board_id == board]
    previous = summarise_maturity(codebook, "2024", [r for r in returns(codebook, 1) if r.health_board_id in keep], 60)
    candidates = (
        CandidateTheme(("parking", "car park", "surgery", "spaces"), 7,
                       ("There is nowhere to park at the new surgery.", "Patients miss appointments because the car park is full."),
                       "Engagement", 0.41),
    )
    return build_report(ReportInputs(
        codebook, scope, summary, STAMP,
        themes=summarise_themes(codebook, answers), coding_model="test-model", coding_run=7,
        previous=previous, previous_themes=summarise_themes(codebook, before),
        opportunity_sentences=opportunity_sentences(answers),
        opportunity_base=len({a.cluster_name for a in answers if a.question_id == "what_would_help" and a.deidentified_text}),
        candidates=candidates, discovery_sentences=120, discovery_threshold=0.575,
    ))


def _normalise(html: str, codebook: Codebook) -> str:
    return html.replace(codebook.version, "CODEBOOK")


@pytest.mark.parametrize(("name", "board"), [("report_all_wales.html", None), ("report_board_abuhb.html", "abuhb")])
def test_report_html_matches_its_golden_file(codebook: Codebook, name: str, board: str | None) -> None:
    html = _normalise(render_report_html(fixed_report(codebook, board), make_environment()), codebook)
    golden = GOLDEN / name
    if os.environ.get("CLWSTWR_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(html, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}: run with CLWSTWR_UPDATE_GOLDEN=1 to create it"
    assert html == golden.read_text(encoding="utf-8"), f"{name} differs from its golden file (see module docstring)"


def report_templates() -> list[str]:
    names = [p.name for p in TEMPLATES_DIR.iterdir() if p.name.startswith(("all_wales_report", "report_"))]
    return sorted(names) + ["maturity_report.html.j2"]


@pytest.mark.parametrize("template", report_templates())
@pytest.mark.parametrize("full", [False, True], ids=["minimal", "full"])
def test_every_report_template_renders_under_strict_undefined(codebook: Codebook, template: str, full: bool) -> None:
    env = make_environment()
    assert env.undefined.__name__ == "StrictUndefined"
    for board in (None, "abuhb"):
        html = env.get_template(template).render(**html_context(fixed_report(codebook, board, full=full)))
        assert "{{" not in html and "{%" not in html and "Undefined" not in html


def test_minimal_report_leaves_out_sections_it_has_nothing_for(codebook: Codebook) -> None:
    html = render_report_html(fixed_report(codebook, full=False), make_environment())
    assert 'id="maturity-pcmw"' in html and 'id="team-development"' in html
    for missing in ('id="themes"', 'id="opportunities"', 'id="candidate-themes"'):
        assert missing not in html
    assert "has not been coded" in html and "Topic discovery (candidate new themes) was not run" in html


def test_full_report_shows_changes_candidates_and_opportunities(codebook: Codebook) -> None:
    html = render_report_html(fixed_report(codebook), make_environment())
    assert "compared with round 2024" in html
    assert "candidate — not in the codebook" in html and "parking" in html
    assert "Health boards" in html and "by March 2026" in html and "to be agreed" in html
    assert "<svg" in html and html.count("<table") >= 10


def test_docx_has_headings_real_tables_with_header_rows_and_chart_tables(codebook: Codebook) -> None:
    report = fixed_report(codebook)
    buffer = BytesIO()
    build_docx(report).save(buffer)
    doc = Document(BytesIO(buffer.getvalue()))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    for expected in ("Executive summary", "Responses", "Primary Care Model for Wales outcomes", "Team development (Tuckman)",
                     "Themes in the free-text answers", "Barriers to cluster working", "Candidate new themes",
                     "Opportunities for action", "Method note"):
        assert expected in headings, expected
    data = [t for t in doc.tables if t.style is not None and t.style.name == "Table Grid"]
    assert len(data) >= 10
    for table in data:
        header = table.rows[0]._tr.trPr
        assert header is not None and header.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") is not None
    barriers = next(t for t in data if t.rows[0].cells[0].text == "Theme" and "Funding" in t.rows[1].cells[0].text)
    assert barriers.rows[1].cells[1].text == "7 of 12 responses"  # "N/A" is an answer; funding in 7
    charts = [t for t in doc.tables if t not in data]
    shaded = [c for t in charts for c in t._tbl.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}shd")]
    assert charts and shaded
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert "{{" not in text and "candidate — not in the codebook" in text
    assert "12 of 60 clusters responded (20%)" in text
