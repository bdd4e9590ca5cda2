"""The thematic report as one self-contained HTML page (inline CSS and SVG charts), also what the PDF
is printed from.

Charts are drawn here from the report model, so a withheld figure never becomes a bar length: an
outcome row with any withheld cell is left out of the stacked chart (the table says why), and a
withheld theme count is drawn as its text ("<5") with no bar.
"""

from __future__ import annotations

from jinja2 import Environment

from .charts import BarItem, PairedItem, StackedRow, bars, paired_bar_chart, stacked_bar_chart
from .report_notes import method_notes
from .report_model import MaturityModule, QuestionSection, ThematicReport
from .rendering import percent

TEMPLATE = "all_wales_report.html.j2"


def _short(label: str, limit: int = 52) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def share_text(share: float | None) -> str:
    return "—" if share is None else percent(share)


def module_chart(report: ThematicReport, module: MaturityModule) -> str | None:
    rows = [r for r in module.rows if r.fully_shown]
    if not rows:
        return None
    return stacked_bar_chart(
        [StackedRow(_short(r.outcome.label), [c.value or 0 for c in r.cells]) for r in rows],
        [lv.label for lv in report.levels],
        title=f"{module.title}: clusters by maturity level",
    )


def stage_chart(report: ThematicReport) -> str:
    base = report.stage_answered
    return bars(
        [BarItem(r.stage.label, r.cell.value, f"{r.cell.text} of {base.text}" if r.cell.value is not None else r.cell.text)
         for r in report.stages],
        title="Team development stage",
    )


def theme_chart(q: QuestionSection) -> str:
    return bars(
        [BarItem(t.theme.label, t.count.value, t.phrase if t.count.value is not None else t.count.text) for t in q.themes],
        title=f"{q.question.label}: responses per theme",
        label_width=300,
        peak=q.answered.value or None,
    )


def comparison_chart(report: ThematicReport, q: QuestionSection) -> str | None:
    items = []
    for t in q.themes:
        if t.change is None:
            return None
        items.append(PairedItem(
            t.theme.label,
            t.change.previous.share_of(t.change.previous_base),
            t.share,
            share_text(t.change.previous.share_of(t.change.previous_base)) if not t.change.previous.suppressed else t.change.previous.text,
            share_text(t.share) if not t.count.suppressed else t.count.text,
        ))
    return paired_bar_chart(items, title=f"{q.question.label}: share of responses, round {report.previous_round} and {report.round_name}",
                            previous_label=f"Round {report.previous_round}", current_label=f"Round {report.round_name}")


def report_title(report: ThematicReport) -> str:
    where = report.scope.board.name if report.scope.board else "all-Wales"
    return f"Cluster self-reflection {report.round_name}: {where} thematic report"


def html_context(report: ThematicReport) -> dict[str, object]:
    """Everything the templates read; nothing in it is computed that the model does not hold."""
    return {
        "lang": "en",
        "report": report,
        "title": report_title(report),
        "module_charts": {m.id: module_chart(report, m) for m in report.modules},
        "stage_chart": stage_chart(report),
        "theme_charts": {q.question.id: theme_chart(q) for q in report.questions},
        "comparison_charts": {q.question.id: comparison_chart(report, q) for q in report.questions},
        "board_names": report.board_names,
        "share": share_text,
        "method_notes": method_notes(report),
    }


def render_report_html(report: ThematicReport, env: Environment) -> str:
    return env.get_template(TEMPLATE).render(**html_context(report))
