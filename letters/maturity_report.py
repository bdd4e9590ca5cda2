"""Render a maturity summary as an HTML page a person would put in a report, plus ``summary.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment

from corpora.codebook import Codebook

from .charts import StackedRow, bar_chart, stacked_bar_chart
from .maturity_summary import MaturitySummary, summary_to_json
from .theme_summary import QuestionThemes, themes_to_json


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    summary_json: Path


def _short_label(outcome_label: str, limit: int = 52) -> str:
    return outcome_label if len(outcome_label) <= limit else outcome_label[: limit - 1] + "…"


@dataclass(frozen=True)
class CodedThemes:
    """The theme section's input: the per-question summaries and the model that suggested them."""

    questions: tuple[QuestionThemes, ...]
    model: str
    run_id: int


def report_context(
    summary: MaturitySummary, codebook: Codebook, generated_at: str, themes: CodedThemes | None = None
) -> dict[str, object]:
    levels = sorted(codebook.maturity_levels, key=lambda lv: lv.rank)
    level_labels = {lv.id: lv.label for lv in levels}
    modules = []
    for module_id, title in (("pcmw", "Primary Care Model for Wales outcomes"), ("acd", "Accelerated Cluster Development outcomes")):
        outcomes = summary.module(module_id)
        chart = stacked_bar_chart(
            [StackedRow(_short_label(o.outcome.label), [o.counts[lv.id] for lv in levels]) for o in outcomes],
            [lv.label for lv in levels],
            title=f"{title}: clusters by maturity level",
        )
        modules.append(
            {
                "id": module_id,
                "title": title,
                "outcomes": outcomes,
                "chart": chart,
                "modal_counts": summary.modal_level_counts(module_id),
                "tied": [o for o in outcomes if len(o.modal_levels) > 1],
            }
        )
    stages = [
        {
            "label": st.label,
            "count": summary.team_stage_counts[st.id],
            "share": (summary.team_stage_counts[st.id] / summary.team_stage_answered) if summary.team_stage_answered else 0.0,
        }
        for st in sorted(codebook.team_stages, key=lambda s: s.rank)
    ]
    top_stage = max(stages, key=lambda s: s["count"]) if summary.team_stage_answered else None
    boards = [
        {"name": b.name, "rpb": b.rpb.name, "count": summary.responses_by_board[b.id]} for b in codebook.health_boards
    ]
    return {
        "lang": "en",
        "summary": summary,
        "generated_at": generated_at,
        "levels": levels,
        "level_labels": level_labels,
        "modules": modules,
        "overall_pre": summary.overall_level("pre_foundation"),
        "overall_mature": summary.overall_level("mature"),
        "majority_pre": summary.majority_at("pre_foundation"),
        "most_mature": summary.most_often("mature"),
        "stages": stages,
        "top_stage": top_stage,
        "stage_chart": bar_chart(
            [(s["label"], s["count"]) for s in stages],
            title="Team development stage",
            total=summary.team_stage_answered,
        ),
        "boards": boards,
        "board_names": {b.id: b.short_name for b in codebook.health_boards},
        "themes": themes.questions if themes else (),
        "coding_model": themes.model if themes else "",
        "theme_charts": {
            q.question.id: bar_chart([(t.theme.label, t.count) for t in q.themes], title=q.question.label, total=q.answered,
                                     label_width=300)
            for q in (themes.questions if themes else ())
        },
    }


def write_maturity_report(
    summary: MaturitySummary,
    codebook: Codebook,
    env: Environment,
    out_dir: Path,
    *,
    themes: CodedThemes | None = None,
    now: datetime | None = None,
) -> ReportFiles:
    """Write ``report.html`` and ``summary.json`` into ``out_dir`` (created if needed); the theme
    section appears when the round has been coded."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    html = env.get_template("maturity_report.html.j2").render(**report_context(summary, codebook, stamp, themes))
    html_path = out_dir / "report.html"
    html_path.write_text(html, encoding="utf-8")
    json_path = out_dir / "summary.json"
    payload = summary_to_json(summary)
    payload["generated_at"] = stamp
    if themes is not None:
        payload["coding"] = {"model": themes.model, "run_id": themes.run_id}
        payload["questions"] = themes_to_json(themes.questions, {b.id: b.short_name for b in codebook.health_boards})
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return ReportFiles(html=html_path, summary_json=json_path)
