"""The executive summary: fixed sentence templates filled with figures the report computed.

No free text: every sentence is one of ``TEMPLATES`` with its blanks filled from the finished report
model, and the figures used are kept beside the sentence (``SummarySentence.figures``) so a test, or
a sceptical reader of ``summary.json``, can check each one against the tables. A sentence whose
figure is withheld by suppression, or that would rank withheld figures, is left out rather than
reworded.
"""

from __future__ import annotations

from collections.abc import Sequence

from .report_model import QuestionSection, SummarySentence, ThematicReport
from .rendering import percent

TEMPLATES = {
    "responses": "{responses} of {total} clusters responded to the self-reflection ({rate}).",
    "responses_board": "{responses} clusters in {board} responded to the self-reflection.",
    "responses_change": "{previous_responses} clusters responded in round {previous} (change {change}).",
    "modal_levels": "Of the {outcomes} {module} outcomes, the most reported maturity level was {parts}{tied}.",
    "overall_pre": "Rated overall as pre-foundation: {labels}.",
    "no_mature": "No outcome was rated overall as mature.",
    "most_mature": "The {outcomes} most often rated mature {was} {labels}.",
    "stage": "The team development stage clusters chose most often was {stage} ({count} of {answered}).",
    "top_theme": "{question}: the most reported {theme_was} {themes} ({each}{count} of {base} responses).",
    "theme_rise": "The largest rise since round {previous} was in {theme} ({question}): {previous_count} of "
    "{previous_base} responses then, {count} of {base} now ({points}).",
    "theme_fall": "The largest fall since round {previous} was in {theme} ({question}): {previous_count} of "
    "{previous_base} responses then, {count} of {base} now ({points}).",
    "candidates": "Topic discovery flagged {count} candidate new theme{s} that the codebook does not cover, "
    "for reviewers to consider.",
    "opportunities": "Answers on what would help pointed most often to “{heading}” ({count} of {base} clusters).",
}


def _sentence(key: str, **figures: object) -> SummarySentence:
    return SummarySentence(key, TEMPLATES[key].format(**figures), figures)


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _responses(report: ThematicReport) -> list[SummarySentence]:
    out = []
    if report.scope.board is None:
        out.append(_sentence("responses", responses=report.responses.value, total=report.total_clusters,
                             rate=percent(report.response_rate or 0.0)))
    elif not report.responses.suppressed:
        out.append(_sentence("responses_board", responses=report.responses.value, board=report.scope.board.name))
    change = report.responses_change
    if change is not None and not change.delta.suppressed:
        out.append(_sentence("responses_change", change=change.delta.text, delta=change.delta.value, previous=report.previous_round,
                             previous_responses=change.previous.value))
    return out


def _maturity(report: ThematicReport) -> list[SummarySentence]:
    summary = report.all_wales_summary
    if summary is None:  # board reports: modal levels would rank withheld cells
        return []
    labels = {lv.id: lv.label.lower() for lv in report.levels}
    out = []
    for module in report.modules:
        counts = module.modal_counts or {}
        ranked = sorted((n, -i, lv) for i, (lv, n) in enumerate(counts.items()) if n)
        parts = [f"{labels[lv]} for {n}" for n, _i, lv in reversed(ranked)]
        n_tied = len(module.tied)
        tied = f"; {n_tied} {'was' if n_tied == 1 else 'were'} tied between levels" if n_tied else ""
        if parts:
            out.append(_sentence("modal_levels", outcomes=len(module.rows), module=module.id.upper(), parts=_join(parts),
                                 tied=tied, modal_counts=dict(counts), tied_count=n_tied))
    pre = summary.overall_level("pre_foundation")
    if pre:
        out.append(_sentence("overall_pre", labels=_join([o.outcome.label for o in pre])))
    if not summary.overall_level("mature"):
        out.append(_sentence("no_mature"))
    top = summary.most_often("mature")
    if top:
        first = [o for o in top if o.counts["mature"] == top[0].counts["mature"]]  # a tie names every outcome in it
        out.append(_sentence(
            "most_mature", outcomes="outcome" if len(first) == 1 else "outcomes", was="was" if len(first) == 1 else "were",
            labels=_join([f"{o.outcome.label} ({o.counts['mature']} of {o.answered} clusters, {percent(o.shares['mature'])})"
                          for o in first]),
            count=first[0].counts["mature"], answered=[o.answered for o in first], ids=[o.outcome.id for o in first],
        ))
    return out


def _stage(report: ThematicReport) -> list[SummarySentence]:
    cells = [r.cell for r in report.stages]
    if report.stage_answered.suppressed or any(c.suppressed and c.status == "secondary" for c in cells):
        return []
    shown = [r for r in report.stages if r.cell.value]
    if not shown:
        return []
    top = max(shown, key=lambda r: r.cell.value or 0)
    if sum(1 for r in shown if r.cell.value == top.cell.value) > 1:
        return []  # a tie names no "most"
    return [_sentence("stage", stage=top.stage.label.lower(), count=top.cell.value, answered=report.stage_answered.value)]


def _top_theme(q: QuestionSection) -> SummarySentence | None:
    if not q.themes or q.themes[0].count.suppressed or not q.themes[0].count.value:
        return None
    best = q.themes[0].count.value
    tied = [t.theme.label for t in q.themes if t.count.value == best]
    return _sentence("top_theme", question=q.question.label, themes=_join(tied), count=best,
                     base=q.answered.value, each="each " if len(tied) > 1 else "",
                     theme_was="themes were" if len(tied) > 1 else "theme was")


def _theme_changes(report: ThematicReport) -> list[SummarySentence]:
    moves = [
        (t.change.share_delta, q, t)
        for q in report.questions
        for t in q.themes
        if t.change is not None and t.change.share_delta is not None and not t.change.delta.suppressed
    ]
    out = []
    for key, pick in (("theme_rise", max), ("theme_fall", min)):
        if not moves:
            break
        delta, q, t = pick(moves, key=lambda m: m[0])
        if (key == "theme_rise" and delta <= 0) or (key == "theme_fall" and delta >= 0):
            continue
        assert t.change is not None
        out.append(_sentence(key, previous=report.previous_round, theme=t.theme.label, question=q.question.label,
                             previous_count=t.change.previous.value, previous_base=t.change.previous_base.value,
                             count=t.count.value, base=t.base.value, points=t.change.share_text))
    return out


def _opportunities(report: ThematicReport) -> list[SummarySentence]:
    groups = [g for g in report.opportunities or () if not g.clusters.suppressed and g.clusters.value]
    if not groups or report.opportunities is None or report.opportunities[0].base.suppressed:
        return []
    best = max(g.clusters.value or 0 for g in groups)
    top = [g for g in groups if g.clusters.value == best]
    if len(top) > 1:
        return []
    return [_sentence("opportunities", heading=top[0].heading.label, count=best, base=top[0].base.value)]


def executive_summary(report: ThematicReport) -> tuple[SummarySentence, ...]:
    sentences = [*_responses(report), *_maturity(report), *_stage(report)]
    sentences += [s for q in report.questions if (s := _top_theme(q)) is not None]
    sentences += _theme_changes(report)
    if report.candidates:
        n = len(report.candidates)
        sentences.append(_sentence("candidates", count=n, s="s" if n != 1 else ""))
    sentences += _opportunities(report)
    return tuple(sentences)
