"""``summary.json``: every figure the report shows, for other tools, from the same model as the page.

The all-Wales file keeps the keys other tools and tests already read (``summary_to_json`` of the
maturity summary, ``coding``, ``questions``) and adds the new sections beside them. A board file has
the same shape, but a withheld figure is ``null`` with its display text ("<5", "[c]") under
``display``, and the modal-level findings are left out, because they rank withheld cells.
"""

from __future__ import annotations

from .maturity_summary import summary_to_json
from .report_model import Change, ThematicReport
from .suppression import Cell


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _change(change: Change | None) -> dict[str, object] | None:
    if change is None:
        return None
    return {
        "previous": change.previous.value,
        "previous_base": change.previous_base.value,
        "change": change.delta.value,
        "share_change": _share(change.share_delta),
        "display": {"previous": change.previous.text, "change": change.delta.text, "share_change": change.share_text},
    }


def _counts(cells: tuple[Cell, ...], keys: list[str]) -> tuple[dict[str, int | None], dict[str, str]]:
    return {k: c.value for k, c in zip(keys, cells)}, {k: c.text for k, c in zip(keys, cells)}


def _maturity(report: ThematicReport) -> dict[str, object]:
    """The board form of the maturity figures (the all-Wales form is ``summary_to_json``)."""
    levels = [lv.id for lv in report.levels]
    outcomes = []
    for module in report.modules:
        for r in module.rows:
            counts, display = _counts(r.cells, levels)
            outcomes.append({
                "id": r.outcome.id, "module": r.outcome.module, "number": r.outcome.number, "name": r.outcome.name,
                "answered": r.answered.value, "counts": counts,
                "shares": {lv: _share(s) for lv, s in zip(levels, r.shares)},
                "display": display | {"answered": r.answered.text},
            })
    stage_ids = [r.stage.id for r in report.stages]
    counts, display = _counts(tuple(r.cell for r in report.stages), stage_ids)
    return {
        "round": report.round_name,
        "codebook_version": report.codebook_version,
        "responses": report.responses.value,
        "levels": levels,
        "outcomes": outcomes,
        "team_stages": {
            "answered": report.stage_answered.value, "counts": counts,
            "shares": {r.stage.id: _share(r.share) for r in report.stages},
            "display": display | {"answered": report.stage_answered.text},
        },
        "responses_by_health_board": {b.board.id: b.responses.value for b in report.boards},
        "display": {"responses": report.responses.text},
    }


def _questions(report: ThematicReport) -> list[dict[str, object]]:
    return [
        {
            "id": q.question.id,
            "kind": q.question.kind,
            "label": q.question.label,
            "answered": q.answered.value,
            "fits_no_theme": q.fits_none.value,
            "answered_change": _change(q.answered_change),
            "themes": [
                {
                    "id": t.theme.id,
                    "label": t.theme.label,
                    "count": t.count.value,
                    "base": t.base.value,
                    "text": t.phrase,
                    "share": _share(t.share),
                    "change": _change(t.change),
                    "quotes": [
                        {"text": qu.text, "health_board": report.board_names.get(qu.health_board_id, qu.health_board_id)}
                        for qu in t.quotes
                    ],
                }
                for t in q.themes
            ],
        }
        for q in report.questions
    ]


def _comparison(report: ThematicReport) -> dict[str, object] | None:
    if report.previous_round is None:
        return None
    return {
        "round": report.previous_round,
        "note": report.comparison_note,
        "responses": _change(report.responses_change),
        "outcomes": {
            r.outcome.id: {lv.id: _change(c) for lv, c in zip(report.levels, r.changes or ())}
            for m in report.modules
            for r in m.rows
        },
        "team_stages": {r.stage.id: _change(r.change) for r in report.stages},
    }


def report_to_json(report: ThematicReport) -> dict[str, object]:
    if report.all_wales_summary is not None:
        payload = summary_to_json(report.all_wales_summary)
    else:
        payload = _maturity(report)
    payload["generated_at"] = report.generated_at
    payload["scope"] = {
        "board": report.scope.board.id if report.scope.board else None,
        "name": report.scope.name,
        "suppression_threshold": report.scope.suppression.threshold,
    }
    payload["previous_round"] = report.previous_round
    payload["comparison"] = _comparison(report)
    if report.coded:
        payload["coding"] = {"model": report.coding_model, "run_id": report.coding_run}
        payload["questions"] = _questions(report)
    payload["executive_summary"] = [
        {"key": s.key, "text": s.text, "figures": dict(s.figures)} for s in report.executive_summary
    ]
    payload["opportunities"] = None if report.opportunities is None else [
        {
            "heading": g.heading.id,
            "label": g.heading.label,
            "clusters": g.clusters.value,
            "base": g.base.value,
            "display": {"clusters": g.clusters.text, "base": g.base.text},
            "items": [
                {"text": i.text, "lead": i.lead, "timescale": i.timescale, "question": i.question_id,
                 "health_board": report.board_names.get(i.health_board_id, i.health_board_id)}
                for i in g.items
            ],
        }
        for g in report.opportunities
    ]
    payload["candidate_themes"] = None if report.candidates is None else [
        {"keywords": list(c.keywords), "sentences": c.sentences, "exemplars": list(c.exemplars),
         "nearest_theme": c.nearest_theme, "similarity": round(c.similarity, 4), "in_codebook": False}
        for c in report.candidates
    ]
    return payload
